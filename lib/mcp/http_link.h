// http_link.h — the HTTP plumbing both HTTP transports share: one server
// origin, the backend's own static headers (its credentials from config)
// sent on every exchange, a pool of connections so that many threads can
// talk to the server at once (an http::Client serves one thread), and
// exchanges that another thread can stop.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/pool.h"
#include "base/result.h"
#include "http/client.h"

namespace fracta::mcp {

// "http://h:1/a/b?q" split into what http::Client takes: the origin
// "http://h:1" and the target "/a/b?q" ("/" when the URL has no path).
struct SplitUrl {
    std::string origin, target;
};
Result<SplitUrl> split_url(const std::string& url);

// A reference from the server (the legacy `endpoint` event) against the
// URL it came from: "/message?s=1", "message", or an absolute URL, which
// must keep the same origin (anything else is a usage error).
Result<std::string> resolve_target(const SplitUrl& base, const std::string& ref);

using Headers = std::vector<std::pair<std::string, std::string>>;

// Header names and values that could not be sent as given (empty names,
// separators, CR or LF anywhere) are usage errors naming the header.
Status check_headers(const std::map<std::string, std::string>& headers);

// Each HTTP transport's create(): its URL and headers are checked before
// anything connects (a malformed one is a usage error), then it is made.
template <class Transport, class Options>
Result<std::unique_ptr<Transport>> make_transport(Options o) {
    FRACTA_TRY_ASSIGN(url, split_url(o.url));
    FRACTA_TRY(check_headers(o.headers));
    return std::make_unique<Transport>(std::move(o), std::move(url));
}

struct Exchange {
    std::string method = "POST";
    std::string target;
    std::string body;  // sent as application/json when not empty
    Headers headers;   // after the static ones
    std::function<void(const http::ClientResponse& head)> on_head;
    // The body as it arrives; false stops reading. Unset: collected into
    // the response (up to 64 MiB).
    std::function<bool(std::string_view)> on_data;
    std::function<bool()> cancelled;     // true stops the exchange (checked ≥ once a second)
    std::chrono::milliseconds limit{0};  // the whole exchange; 0: none
};

class HttpLink {
public:
    HttpLink(std::string origin, std::map<std::string, std::string> headers, std::chrono::milliseconds connect_timeout);

    // Any HTTP status is a success; transport failures, a stop and the
    // limit are temporary errors naming the method and URL.
    Result<http::ClientResponse> run(const Exchange& x);

    const std::string& origin() const { return origin_; }

private:
    const std::string origin_;
    const Headers headers_;
    Pool<http::Client> pool_;  // keep-alive connections to the origin
};

}  // namespace fracta::mcp
