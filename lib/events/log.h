// log.h — the event log over a Store: append with a gapless seq, list with
// filters, the latest seq, and watch (replay, then follow).
//
// Gapless and ordered by construction: the next seq comes from a counter row
// updated in the same transaction as the insert. Writers serialise on that
// row, so seq k+1 cannot commit before k, and a failed append rolls its seq
// back. A watcher at cursor N therefore never sees an event <= N appear later.
#pragma once

#include <functional>
#include <vector>

#include "events/event.h"
#include "store/store.h"

namespace fracta::events {

inline constexpr const char* kChannel = "fracta_events";

class EventLog {
public:
    explicit EventLog(store::Store& store) : store_(store) {}

    // Assigns and returns the seq. `event.seq` is ignored.
    Result<uint64_t> append(const Event& event);
    // The same inside a transaction the caller holds (so an event commits or
    // rolls back with the change it describes).
    Result<uint64_t> append_in_tx(const Event& event);
    Result<std::vector<Event>> list(const Filter& filter);
    Result<uint64_t> latest_seq();

    // Call `sink` for every event with seq > after_seq, in order, then for
    // each new one as it is recorded. Returns when `sink` fails, or when
    // `hangup_fd` reports that the reader went away (then: success).
    // Temporary store failures (a database restart) are waited out.
    Status watch(uint64_t after_seq, int hangup_fd, const std::function<Status(const Event&)>& sink);

private:
    store::Store& store_;
};

}  // namespace fracta::events
