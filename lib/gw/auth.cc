#include "gw/auth.h"

#include "base/sha256.h"

namespace fracta::gw {

TokenVerifier::TokenVerifier(Ask ask, std::chrono::milliseconds ttl) : ask_(std::move(ask)), ttl_(ttl) {}

TokenVerifier::Ask TokenVerifier::through(cpapi::Client& cp) {
    return [&cp](const std::string& task, const std::string& token) -> Result<std::pair<int, std::string>> {
        auto answered = cp.verify(task, token);
        if (!answered.ok()) return std::move(answered).take_error().context("control plane");
        const cpapi::Answer& answer = *answered;
        std::string runtime;
        if (answer.body.contains("runtime") && answer.body["runtime"].is_string())
            runtime = answer.body["runtime"].get<std::string>();
        if (answer.status == 200 || answer.status == 401 || answer.status == 403)
            return std::make_pair(answer.status, runtime);
        return temporary_error("verify: " + answer.error().message);
    };
}

Result<Identity> TokenVerifier::check(const std::string& task, const std::string& authorization) {
    static const std::string kBearer = "Bearer ";
    if (authorization.size() <= kBearer.size() || authorization.compare(0, kBearer.size(), kBearer) != 0)
        return Identity{};
    const std::string token = authorization.substr(kBearer.size());
    // The cache key holds the token's hash, never the token.
    const std::string key = task + "\n" + sha256_hex(token);
    const auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = allowed_.find(key);
        if (it != allowed_.end() && it->second.expires > now) return Identity{Verdict::Allowed, it->second.runtime};
        if (it != allowed_.end()) allowed_.erase(it);
    }
    FRACTA_TRY_ASSIGN(answer, ask_(task, token));
    if (answer.first == 403) return Identity{Verdict::Forbidden, ""};
    if (answer.first != 200) return Identity{};
    std::lock_guard<std::mutex> lock(mu_);
    if (allowed_.size() > 100000) allowed_.clear();  // bounded: a flood of tokens cannot grow it forever
    allowed_[key] = Entry{now + ttl_, answer.second};
    return Identity{Verdict::Allowed, answer.second};
}

}  // namespace fracta::gw
