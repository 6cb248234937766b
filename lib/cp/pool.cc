#include "cp/pool.h"

namespace fracta::cp {

Result<StorePool::Lease> StorePool::acquire() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!idle_.empty()) {
            auto store = std::move(idle_.back());
            idle_.pop_back();
            return Lease(this, std::move(store));
        }
    }
    FRACTA_TRY_ASSIGN(store, open_dedicated());
    return Lease(this, std::move(store));
}

Result<std::unique_ptr<store::Store>> StorePool::open_dedicated() {
    return store::open(url_, application_name_);
}

void StorePool::give_back(std::unique_ptr<store::Store> store) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(store));
}

}  // namespace fracta::cp
