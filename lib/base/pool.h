// pool.h — a pool of connections that serve one thread at a time (a store
// handle, an HTTP client): opening one costs far more than using it, so idle
// ones are kept and handed out again. acquire() takes an idle one or opens a
// new one when all are busy; it comes back when its Lease is dropped, unless
// the holder discarded it (a connection left in an unknown state).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "base/result.h"

namespace fracta {

template <class T>
class Pool {
public:
    using Open = std::function<Result<std::unique_ptr<T>>()>;

    Pool(Open open, size_t max_idle) : open_(std::move(open)), max_idle_(max_idle) {}
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    class Lease {
    public:
        Lease(Pool* pool, std::unique_ptr<T> item) : pool_(pool), item_(std::move(item)) {}
        Lease(Lease&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)), item_(std::move(other.item_)) {}
        Lease& operator=(Lease&&) = delete;
        ~Lease() {
            if (pool_ && item_) pool_->give_back(std::move(item_));
        }
        T& operator*() { return *item_; }
        T* operator->() { return item_.get(); }
        // Do not give this one back: it is closed when the lease ends.
        void discard() { pool_ = nullptr; }

    private:
        Pool* pool_;
        std::unique_ptr<T> item_;
    };

    Result<Lease> acquire() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (!idle_.empty()) {
                auto item = std::move(idle_.back());
                idle_.pop_back();
                return Lease(this, std::move(item));
            }
        }
        FRACTA_TRY_ASSIGN(item, open_());
        return Lease(this, std::move(item));
    }

    // A fresh connection of the caller's own, never pooled (long waits).
    Result<std::unique_ptr<T>> open() const { return open_(); }

private:
    void give_back(std::unique_ptr<T> item) {
        std::lock_guard<std::mutex> lock(mu_);
        if (idle_.size() < max_idle_) idle_.push_back(std::move(item));
    }

    Open open_;
    size_t max_idle_;
    std::mutex mu_;
    std::vector<std::unique_ptr<T>> idle_;
};

}  // namespace fracta
