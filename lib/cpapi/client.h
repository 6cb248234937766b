// client.h — the control plane's HTTP API as its clients see it (`fracta`,
// `fracta-gw serve` and `fracta-gw stdio`): one typed call per route, one
// map from an HTTP status to an ErrorKind, and a small pool of keep-alive
// connections, so one Client may serve many threads (the gateway's).
//
// A Client made by open() belongs to a project: it finds the endpoint the
// project names and, when nothing answers the first request at an endpoint
// nobody configured explicitly, starts the local daemon (`fracta-cp start`)
// and asks again. A Client made from a URL never starts anything.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/json.h"
#include "base/pool.h"
#include "base/result.h"
#include "config/project.h"
#include "http/client.h"
#include "http/sse.h"

namespace fracta::cpapi {

inline constexpr std::chrono::milliseconds kRequestTimeout{30000};

// A non-2xx answer as an Error: 400, 401, 403 → Usage; 408 and 5xx →
// Temporary; other statuses → Failed. The text is the body's {"error"},
// else its first line, else "HTTP <status>".
Error http_error(int status, std::string_view body);

inline bool is_success(int status) {
    return status >= 200 && status < 300;
}

// "/api/v1/agents/<task><rest>", the task percent-encoded.
std::string agent_path(const std::string& task, const std::string& rest = "");

// An answer of any status, its body parsed ({} when empty or not JSON).
struct Answer {
    int status = 0;
    Json body = Json::object();
    std::string text;  // the body as sent

    bool ok() const { return is_success(status); }
    Error error() const { return http_error(status, text); }
};

// How a wait slice ended: the agent (or {"agent": …}) once it is terminal,
// or nothing when the slice ran out first (the API's 408).
struct WaitSlice {
    bool timed_out = false;
    Json answer;
};

struct OpenSettings {
    std::string cwd;          // where the project is looked for
    std::string config_file;  // --config (absolute); empty: FRACTA_CONFIG or the project's fracta.yaml
    std::function<void(std::string_view)> warn;  // configuration warnings
};

class Client {
public:
    // A fixed endpoint (the gateway's): never starts anything.
    // `ca_pem`: the CAs trusted for an https URL (empty: the system's).
    Client(std::string url, std::string token, std::chrono::milliseconds timeout = kRequestTimeout,
           std::string ca_pem = "");
    // A project's endpoint (see above). No request is made yet; without a
    // project only an explicitly configured endpoint will do.
    static Result<Client> open(const OpenSettings& settings);

    const std::string& url() const { return endpoint_.url; }
    // Look for the local daemon's URL again (it may have restarted on
    // another port); an explicit endpoint stays as it is.
    void refresh();

    // One request; any HTTP status is a success. A transport failure is a
    // Temporary error (after the one auto-start, when it applies).
    Result<http::ClientResponse> send(const std::string& method, const std::string& path, const std::string& body = "",
                                      std::chrono::milliseconds timeout = {});
    // send(), then a 2xx body parsed as JSON ({} when empty); any other
    // status is http_error().
    Result<Json> call(const std::string& method, const std::string& path, const std::string& body = "",
                      std::chrono::milliseconds timeout = {});
    // send() with a JSON body (null: none), the answer parsed whatever its status.
    Result<Answer> ask(const std::string& method, const std::string& path, const Json& body = Json());
    // A request that never auto-starts anything (for `status`).
    Result<http::ClientResponse> probe(const std::string& path, std::chrono::milliseconds timeout);

    // --- the routes ---------------------------------------------------------
    Result<Json> spawn(const Json& request);                     // POST /api/v1/agents
    Result<Json> list(const std::string& status = "");           // GET /api/v1/agents[?status=]
    Result<Json> get(const std::string& task);                   // GET …/<task>
    Result<Json> output(const std::string& task, const std::string& route, const std::string& lines);  // …/peek, …/logs
    Result<Json> say(const std::string& task, const std::string& message);
    Result<Json> kill(const std::string& task, bool keep_files);
    Result<Json> merge(const std::string& task);
    Result<Json> report(const std::string& task, const Json& events);  // POST …/<task>/events
    Result<Json> events(const std::string& task, const std::string& last);  // GET …/<task>/events[?last=]
    Result<Json> send_message(const std::string& from, const std::string& to, const std::string& message);
    Result<Json> inbox(const std::string& task);  // reading consumes the messages
    Result<Json> set_intent(const std::string& task, const std::string& intent);
    // POST /api/v1/auth/verify: 200 (with the agent's runtime), 401 or 403.
    Result<Answer> verify(const std::string& task, const std::string& token);
    // GET …/wait?timeout=<slice>: the slice's end, or the API's error.
    Result<WaitSlice> wait(const std::string& task, std::chrono::seconds slice);

    // GET …/watch[?after_seq=]: each event to `on_event` as it arrives
    // (false: stop reading); `silence` is the longest pause tolerated;
    // `got_data` is set once anything arrives, heartbeats included. The
    // answer's status, with the start of its body when it is not 2xx (the
    // caller decides: a watch retries a dropped stream, not a refusal). An
    // event over 4 MiB is an error.
    struct WatchEnd {
        int status = 0;
        std::string head;
    };
    Result<WatchEnd> watch(const std::string& task, uint64_t after_seq,
                           const std::function<bool(const http::SseEvent&)>& on_event,
                           std::chrono::milliseconds silence, bool& got_data);

private:
    Client() = default;
    using Attempt = std::function<Result<http::ClientResponse>(http::Client&)>;
    Result<http::ClientResponse> with_autostart(const Attempt& attempt);
    Result<http::ClientResponse> attempt_once(const Attempt& attempt);
    bool may_autostart() const;
    Status start_daemon();
    void connect();  // a new pool for the current endpoint

    std::string root_;  // empty: no project (an explicit endpoint)
    std::string config_file_;
    config::Config config_;
    config::Endpoint endpoint_;
    std::chrono::milliseconds timeout_ = kRequestTimeout;
    bool tried_autostart_ = false;
    std::string ca_pem_;  // the endpoint's CA bundle (empty: the system's)
    std::unique_ptr<Pool<http::Client>> pool_;
};

}  // namespace fracta::cpapi
