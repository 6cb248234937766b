// api.h — the control plane as `fracta`'s client verbs see it: the project
// and endpoint found once, requests whose non-2xx answers become Errors
// carrying the API's own text and the exit status the spec gives that HTTP
// status, and the local daemon started on demand (`fracta-cp start`) when
// nothing answers at an endpoint nobody configured explicitly.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "base/json.h"
#include "base/result.h"
#include "config/config.h"
#include "config/project.h"
#include "http/client.h"

namespace fracta::front {

inline constexpr std::chrono::milliseconds kRequestTimeout{30000};

struct ApiSettings {
    std::string cwd;          // where the project is looked for
    std::string config_file;  // --config (absolute); empty: FRACTA_CONFIG or the project's fracta.yaml
    std::function<void(std::string_view)> warn;  // configuration warnings
};

class Api {
public:
    // Find the project root (not needed when FRACTA_CP_URL is set), load the
    // configuration, resolve the endpoint. No request is made yet.
    static Result<Api> open(const ApiSettings& settings);

    const std::string& url() const { return endpoint_.url; }

    // Look for the local daemon's URL again (it may have restarted on
    // another port); an explicit endpoint stays as it is.
    void refresh();

    // One request, any HTTP status a success. A transport failure (nothing
    // answering) on the first request of the process auto-starts the local
    // daemon and retries once.
    Result<http::ClientResponse> send(const std::string& method, const std::string& path, const std::string& body = "",
                                      std::chrono::milliseconds timeout = kRequestTimeout);

    // send(), then: a 2xx body parsed as JSON ({} when empty); any other
    // status the API's error (see http_error).
    Result<Json> call(const std::string& method, const std::string& path, const std::string& body = "",
                      std::chrono::milliseconds timeout = kRequestTimeout);

    // A long response fed to `on_data` as it arrives (SSE); `silence` is the
    // longest pause tolerated. Auto-starts like send().
    Result<http::ClientResponse> stream(const std::string& path, const std::function<bool(std::string_view)>& on_data,
                                        std::chrono::milliseconds silence);

    // A request that never auto-starts anything (for `status`).
    Result<http::ClientResponse> probe(const std::string& path, std::chrono::milliseconds timeout);

private:
    using Attempt = std::function<Result<http::ClientResponse>(http::Client&)>;
    Result<http::ClientResponse> with_autostart(std::chrono::milliseconds timeout, const Attempt& attempt);
    bool may_autostart() const;
    Status start_daemon();
    http::Client client(std::chrono::milliseconds timeout) const;

    std::string root_;  // empty: no project (FRACTA_CP_URL given)
    std::string config_file_;
    config::Config config_;
    config::Endpoint endpoint_;
    bool tried_autostart_ = false;
};

// A non-2xx answer as an Error: 400, 401, 403 → Usage; 408 and 5xx →
// Temporary; other statuses → Failed. The text is the body's {"error"},
// else its first line, else "HTTP <status>".
Error http_error(int status, std::string_view body);

inline bool is_success(int status) {
    return status >= 200 && status < 300;
}

}  // namespace fracta::front
