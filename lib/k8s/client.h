// client.h — a Kubernetes REST client on libcurl for fracta-spawn-k8s.
//
// One Client holds one connection (an http::Client, kept alive) and the
// credentials from a Config (credentials.h keeps them fresh). JSON in, JSON
// out. Not thread-safe: one Client per thread.
//
// Failures come back as an ApiError: the HTTP code (0 when no answer came),
// the Status reason and message, and an Error whose kind is the exit code
// the spec maps it to:
//   401/403       Failed, "cannot <verb> <resource> in namespace "<ns>": …"
//   404, 409, 410 Failed — the caller tells them apart (not_found(),
//                 already_exists(), …) and decides what absence means
//   400, 422      Usage (the object or request is wrong)
//   429, 5xx, connection failures: retried with jittered exponential
//                 backoff (Retry-After honoured), then Temporary (111)
// A 401 forgets a rotating credential (token file, exec plugin) and tries
// once more before giving up.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "base/time.h"
#include "http/client.h"
#include "k8s/config.h"
#include "k8s/paths.h"
#include "k8s/watch.h"

namespace fracta::k8s {

struct ApiError {
    int code = 0;         // HTTP status; 0: no answer (connection failures, after retries)
    std::string reason;   // Status.reason: NotFound, AlreadyExists, Conflict, Forbidden, Gone, …
    std::string message;  // Status.message, else the body or the transport's reason
    Error error;          // the kind (exit code) and one line for people
};

// A Result whose failure also carries the API server's answer (status code and
// reason), so callers can tell NotFound from Conflict from Gone.
template <class T>
class [[nodiscard]] ApiResult : public Result<T> {
public:
    ApiResult(T value) : Result<T>(std::move(value)) {}
    ApiResult(ApiError e) : Result<T>(e.error), failure_(std::move(e)) {}

    const ApiError& api_error() const { return failure_; }

    int code() const { return this->ok() ? 0 : failure_.code; }
    bool not_found() const { return code() == 404; }
    bool conflict() const { return code() == 409; }
    bool already_exists() const { return conflict() && failure_.reason == "AlreadyExists"; }
    bool gone() const { return code() == 410; }

private:
    ApiError failure_;  // when failed
};

struct Done {};

struct RetryPolicy {
    int attempts = 6;                             // tries in all, the first included
    std::chrono::milliseconds base{250};          // the first retry waits about this long
    std::chrono::milliseconds cap{8000};          // no backoff wait is longer
    std::chrono::milliseconds max_retry_after{30000};  // a server's Retry-After, capped
};

// The wait before retry number `retry` (1-based): base·2^(retry-1), capped,
// then jittered into [half, all] of that by `jitter` in [0, 1).
std::chrono::milliseconds backoff_delay(int retry, const RetryPolicy& p, double jitter);

struct ClientOptions {
    RetryPolicy retry;
    std::chrono::milliseconds timeout{30000};  // one request (streams: see watch.h)
    std::chrono::milliseconds connect_timeout{10000};
    std::function<Timestamp()> clock;  // for exec credential expiry; unset: the real one
};

// One request, for calls the typed methods below do not cover.
struct Call {
    std::string method = "GET";
    std::string path{};  // from paths.h
    std::string body{};
    std::string content_type = "application/json";
    std::string verb{};    // RBAC verb, for messages: get list watch create update delete
    std::string resource{};  // for messages: "jobs.batch", "pods/log"
    std::string name{};      // for messages; may be empty
    // pods/proxy: an answer that is not a Kubernetes Status comes from the
    // target and is returned whatever its code.
    bool passthrough = false;
    std::vector<std::pair<std::string, std::string>> headers{};
    bool retry = true;  // false: one attempt whatever the retry policy
};

class Client {
public:
    explicit Client(Config c, ClientOptions o = {});
    ~Client();
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;

    const Config& config() const;
    const std::string& ns() const;  // every call below works in this namespace
    void set_namespace(std::string ns);

    ApiResult<Json> get(const Resource& r, const std::string& name);
    ApiResult<Json> list(const Resource& r, const Query& q = {});
    // The namespace comes from the client (metadata.namespace is not needed).
    ApiResult<Json> create(const Resource& r, const Json& object);
    ApiResult<Json> replace(const Resource& r, const std::string& name, const Json& object);
    // DeleteOptions body with propagationPolicy ("" leaves the server's default).
    ApiResult<Json> del(const Resource& r, const std::string& name, const std::string& propagation = "Background");

    // watch.h: list-then-watch with reconnects and 410 handling.
    ApiResult<WatchResult> watch(const Resource& r, const WatchOptions& o, const WatchCallback& on_event);
    // GET pods/<pod>/log (tailLines, container), the whole text.
    ApiResult<std::string> log(const std::string& pod, const LogOptions& o = {});
    // The same with follow=true: chunks as they come, until the container's
    // log ends, on_data returns false or o.cancelled says so.
    ApiResult<Done> follow_log(const std::string& pod, const LogOptions& o,
                               const std::function<bool(std::string_view)>& on_data);
    // A request to the pod's port through the API server (pods/proxy). The
    // target's answer comes back whatever its status; only the API server's
    // own refusals (no such pod, forbidden, unreachable: a Status) are errors.
    // `headers` go to the target; the API server's Authorization is ours.
    // `retry` false: one attempt, so a caller that can tell why the pod is
    // unreachable (its command ended) need not wait out the retries.
    ApiResult<http::ClientResponse> proxy(const std::string& pod, int port, const std::string& method,
                                          const std::string& path, const std::string& body = "",
                                          const std::vector<std::pair<std::string, std::string>>& headers = {},
                                          bool retry = true);

    // The same request asking to switch to `protocol` (Connection:
    // Upgrade), which the API server's pods/proxy passes through to the pod
    // as bytes both ways: the stream once the target answered 101; the API
    // server's refusal or the target's other answer as the error. One try.
    ApiResult<std::unique_ptr<http::ByteStream>> proxy_upgrade(
        const std::string& pod, int port, const std::string& path, const std::string& protocol,
        const std::vector<std::pair<std::string, std::string>>& headers = {});

    // Any call: a 2xx response, or the error.
    ApiResult<http::ClientResponse> send(const Call& c);
    // The body to on_data as it arrives (on a 2xx only); a transport failure
    // after the response began is not retried. `extras` carries cancel and
    // timeout (the longest silence).
    ApiResult<http::ClientResponse> stream(const Call& c, const std::function<bool(std::string_view)>& on_data,
                                           const http::RequestExtras& extras);

    // Requests sent so far, retries included (tests, diagnostics).
    int requests_sent() const;

    // The retry policy, for callers that retry themselves (a watch; a pod
    // proxy call that checks the pod between tries).
    int retry_attempts() const;
    void pause_for_retry(int retry, const std::function<bool()>& cancelled);

    struct Impl;

private:

    std::unique_ptr<Impl> impl_;
};

// Parse an error answer: a Status object's reason and message when the body
// is one, else the body's first line. `call` names the verb and resource.
ApiError api_error(const Call& call, const std::string& ns, int code, const std::string& body);

}  // namespace fracta::k8s
