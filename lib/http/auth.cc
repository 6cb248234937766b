#include "http/auth.h"

#include <algorithm>

#include "base/sha256.h"

namespace fracta::http {

void TokenSet::set(const std::string& full, const std::string& read_only) {
    std::string f = full.empty() ? "" : sha256_hex(full);
    std::string r = read_only.empty() ? "" : sha256_hex(read_only);
    std::lock_guard<std::mutex> lock(mu_);
    full_hash_ = std::move(f);
    read_only_hash_ = std::move(r);
}

bool TokenSet::enabled() const {
    std::lock_guard<std::mutex> lock(mu_);
    return !full_hash_.empty() || !read_only_hash_.empty();
}

Access TokenSet::check(const std::string& presented) const {
    // Hashing first makes both comparisons the same length whatever was sent.
    const std::string h = sha256_hex(presented);
    std::string full, read_only;
    {
        std::lock_guard<std::mutex> lock(mu_);
        full = full_hash_;
        read_only = read_only_hash_;
    }
    const bool is_full = !full.empty() && constant_time_equal(h, full);
    const bool is_read_only = !read_only.empty() && constant_time_equal(h, read_only);
    if (is_full) return Access::Full;
    return is_read_only ? Access::ReadOnly : Access::None;
}

long FailureLimiter::blocked_for(const std::string& peer, Clock::time_point now) const {
    if (limit_.failures == 0) return 0;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = peers_.find(peer);
    if (it == peers_.end() || it->second.failures < limit_.failures) return 0;
    auto left = it->second.start + limit_.window - now;
    if (left <= Clock::duration::zero()) return 0;
    return std::max<long>(1, static_cast<long>(std::chrono::ceil<std::chrono::seconds>(left).count()));
}

bool FailureLimiter::failed(const std::string& peer, Clock::time_point now) {
    if (limit_.failures == 0) return false;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = peers_.find(peer);
    if (it == peers_.end() && peers_.size() >= kMaxPeers) {
        for (auto p = peers_.begin(); p != peers_.end();)
            p = p->second.start + limit_.window <= now ? peers_.erase(p) : std::next(p);
        if (peers_.size() >= kMaxPeers)
            peers_.erase(std::min_element(peers_.begin(), peers_.end(), [](const auto& a, const auto& b) {
                return a.second.start < b.second.start;
            }));
    }
    Window& w = it != peers_.end() ? it->second : peers_[peer];
    if (w.failures == 0 || w.start + limit_.window <= now) w = Window{now, 0};
    return ++w.failures == limit_.failures;
}

}  // namespace fracta::http
