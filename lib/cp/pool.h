// pool.h — store connections shared by the control plane's HTTP threads
// (base/pool.h): a Store is used by one thread at a time, and opening one (a
// Postgres connection, a sqlite handle with its schema check) costs far more
// than a request.
#pragma once

#include <string>

#include "base/pool.h"
#include "store/store.h"

namespace fracta::cp {

class StorePool : public Pool<store::Store> {
public:
    StorePool(std::string url, std::string application_name, size_t max_idle = 8)
        : Pool([url, application_name] { return store::open(url, application_name); }, max_idle), url_(std::move(url)) {}

    // A fresh connection of its own (for long waits: LISTEN, watch streams).
    Result<std::unique_ptr<store::Store>> open_dedicated() const { return open(); }
    const std::string& url() const { return url_; }

private:
    std::string url_;
};

}  // namespace fracta::cp
