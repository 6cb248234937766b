// auth.h — whose request is this: the agent's bearer token checked against
// the control plane (POST /api/v1/auth/verify), positive answers cached
// briefly so that a busy agent costs one verification every few seconds,
// and a killed agent's token stops working within that time (≤ 5 s).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "base/result.h"
#include "cpapi/client.h"

namespace fracta::gw {

enum class Verdict {
    Allowed,
    Unauthenticated,  // 401: no token, or not a live agent's token
    Forbidden,        // 403: a live agent's token, but another agent's endpoint
};

struct Identity {
    Verdict verdict = Verdict::Unauthenticated;
    std::string runtime;  // the agent's runtime, when allowed (its tool policy applies)
};

class TokenVerifier {
public:
    // Asks the control plane: the HTTP status it answered (200, 401, 403)
    // with the agent's runtime, or an error when it could not be reached.
    using Ask = std::function<Result<std::pair<int, std::string>>(const std::string& task, const std::string& token)>;
    TokenVerifier(Ask ask, std::chrono::milliseconds ttl = std::chrono::seconds(2));

    static Ask through(cpapi::Client& cp);

    // `authorization`: the request's Authorization header. Errors: the
    // control plane is unreachable (the caller answers 503).
    Result<Identity> check(const std::string& task, const std::string& authorization);

private:
    Ask ask_;
    std::chrono::milliseconds ttl_;
    std::mutex mu_;
    struct Entry {
        std::chrono::steady_clock::time_point expires;
        std::string runtime;
    };
    std::map<std::string, Entry> allowed_;  // task + "\n" + sha256(token) → entry
};

}  // namespace fracta::gw
