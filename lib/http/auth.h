// auth.h — the bearer-token check of http::Server: the tokens in force kept
// only as SHA-256 hashes and compared in constant time, two roles (full
// access and read-only), and a limit on failed authentications per client
// address (429 once it is reached, until its window ends).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace fracta::http {

enum class Access { None, ReadOnly, Full };

// Thread-safe: set() may replace the tokens while check() runs elsewhere.
class TokenSet {
public:
    // Empty strings: that role has no token.
    void set(const std::string& full, const std::string& read_only);
    bool enabled() const;  // some token is set: requests must authenticate
    // The role `presented` grants. Both hashes are always compared, each in
    // constant time, so the answer's timing says nothing about either token.
    Access check(const std::string& presented) const;

private:
    mutable std::mutex mu_;
    std::string full_hash_, read_only_hash_;  // sha256_hex; empty: no such token
};

struct AuthLimit {
    unsigned failures = 0;                            // per address and window; 0: no limit
    std::chrono::milliseconds window{std::chrono::minutes(1)};
};

// Failed authentications per client address in fixed windows: the first
// failure opens a window of `window`; once `failures` have been counted in
// it, the address is refused until the window ends. At most kMaxPeers
// addresses are tracked (past that, expired windows are dropped first, then
// the oldest).
class FailureLimiter {
public:
    using Clock = std::chrono::steady_clock;
    explicit FailureLimiter(AuthLimit limit) : limit_(limit) {}

    // Seconds until `peer` may try again (0: it may now).
    long blocked_for(const std::string& peer, Clock::time_point now) const;
    // Counts a failure; true when this one reached the limit (to log once).
    bool failed(const std::string& peer, Clock::time_point now);

    static constexpr size_t kMaxPeers = 65536;

private:
    struct Window {
        Clock::time_point start;
        unsigned failures = 0;
    };
    AuthLimit limit_;
    mutable std::mutex mu_;
    std::map<std::string, Window> peers_;
};

}  // namespace fracta::http
