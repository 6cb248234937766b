// leader.h — one reaper pass at a time per store. Two reapers (a CronJob and
// every fracta-cp replica, say) may start together: the one that takes the
// lock does the pass, the others skip it rather than wait and redo it.
//
// Postgres: a session advisory lock on the reaper's own connection (it goes
// with the connection if the process dies). sqlite: flock(2) on a file next
// to the database (released by the kernel when the process dies).
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "store/store.h"

namespace fracta::reap {

class Leadership {
public:
    // Taken: held until destroyed. Held by another reaper: nullopt.
    static Result<std::optional<Leadership>> take(store::Store& store, const std::string& store_url);

    Leadership(Leadership&&) noexcept;
    Leadership& operator=(Leadership&&) = delete;
    ~Leadership();

private:
    Leadership(store::Store* pg, int fd) : pg_(pg), fd_(fd) {}
    store::Store* pg_ = nullptr;  // Postgres: the connection holding the lock
    int fd_ = -1;                 // sqlite: the locked file
};

}  // namespace fracta::reap
