// pool.h — store connections shared by the control plane's HTTP threads.
//
// A Store is used by one thread at a time, and opening one (a Postgres
// connection, a sqlite handle with its schema check) costs far more than a
// request. The pool hands out idle connections and opens new ones when all
// are busy; a connection comes back when its Lease is dropped, unless the
// caller marked it broken.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace fracta::cp {

class StorePool {
public:
    StorePool(std::string url, std::string application_name, size_t max_idle = 8)
        : url_(std::move(url)), application_name_(std::move(application_name)), max_idle_(max_idle) {}

    class Lease {
    public:
        Lease(StorePool* pool, std::unique_ptr<store::Store> store) : pool_(pool), store_(std::move(store)) {}
        Lease(Lease&&) = default;
        ~Lease() {
            if (pool_ && store_) pool_->give_back(std::move(store_));
        }
        store::Store& operator*() { return *store_; }
        store::Store* operator->() { return store_.get(); }

    private:
        StorePool* pool_;
        std::unique_ptr<store::Store> store_;
    };

    Result<Lease> acquire();
    // A fresh connection of its own (for long waits: LISTEN, watch streams).
    Result<std::unique_ptr<store::Store>> open_dedicated();
    const std::string& url() const { return url_; }

private:
    void give_back(std::unique_ptr<store::Store> store);

    std::string url_, application_name_;
    size_t max_idle_;
    std::mutex mu_;
    std::vector<std::unique_ptr<store::Store>> idle_;
};

}  // namespace fracta::cp
