// server.h — the HTTP server every fracta daemon speaks through (the session
// supervisor's control API on a Unix socket, the control plane, the MCP
// gateway), on libmicrohttpd.
//
// A Server owns one listen socket (TCP or Unix) and MHD's threads; it calls a
// Handler with a fully read Request and sends the Response it returns. The
// conventions of spec/control-plane.md live here once: JSON errors
// {"error":"…"}, bearer auth (http/auth.h: hashed tokens compared in
// constant time, a read-only role, 429 after too many failures), body caps (413),
// idle clients cut off, a throwing handler answered with 500. A Router maps
// "METHOD /path/{param}" patterns onto handlers (404 / 405 with Allow).
// Streaming responses (Response::stream) carry SSE.
//
// The server never prints: MHD's own diagnostics go to ServerOptions::error_log
// when one is set, and nowhere otherwise.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "http/auth.h"
#include "http/tls.h"

namespace fracta::http {

struct Request {
    std::string method, path;                    // path without query, percent-decoded
    std::map<std::string, std::string> query;    // decoded ('+' is a space); a bare key maps to ""
    std::map<std::string, std::string> headers;  // names lower-cased; repeated headers joined by ", "
    std::string body;
    std::map<std::string, std::string> params;  // from the route pattern, e.g. {task}
    std::string raw_path;                       // the path as sent (still percent-encoded)
    bool peer_loopback = false;                 // the client is on this host (loopback or Unix socket)
    std::string peer;                           // the client's address ("192.0.2.1", "2001:db8::1"; "local")
    bool read_only = false;  // authenticated with ServerOptions::read_only_token (the handler
                             // refuses what that role may not do)

    std::string header(const std::string& lower_name, const std::string& fallback = "") const;
    std::string query_param(const std::string& name, const std::string& fallback = "") const;
};

// Produces a streamed body piece by piece. Called from a server thread
// whenever the client can take more: put the next piece into `chunk` (it
// arrives empty) and return true, or return false to end the body (a piece
// put into `chunk` on that call is still sent). It may block until it has
// something to send; it then holds a server thread (see ServerOptions), and
// Server::stop() waits for it to return, so block in bounded waits (an SSE
// stream's heartbeat interval). Returning true with an empty chunk just calls
// it again. Throwing aborts the response (the client sees a cut-off body).
using StreamNext = std::function<bool(std::string& chunk)>;

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    StreamNext stream_next;  // set: the body is streamed (chunked), `body` is ignored
    // Set (with status 101 and an "Upgrade" header): once the answer is
    // sent the connection leaves HTTP and is this function's: it gets the
    // socket and what the client sent past its request, and returns when
    // done (the server then closes the socket; never close it yourself).
    // Only on a thread_per_connection server: it holds that connection's
    // thread, and stop() waits for it, so make it end when told to.
    std::function<void(int fd, std::string_view early)> upgraded;

    static Response json(int status, const Json& body);             // body + "\n"
    static Response error(int status, const std::string& message);  // {"error": message}
    static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
    // A body of unknown length produced by `next`. For SSE use
    // content_type "text/event-stream" (Cache-Control: no-cache is added).
    static Response stream(StreamNext next, std::string content_type = "text/event-stream");
};

using Handler = std::function<Response(const Request&)>;

// Routes by method and path pattern: "/api/v1/agents/{task}/say" has exact
// segments and {name} segments (one whole, non-empty segment each, matched
// against the percent-decoded segment, so "a%2Fb" is the single value
// "a/b"). Trailing slashes count ("/a/" is not "/a"). When several patterns
// match, the one with an exact segment at the first place they differ wins;
// a HEAD request falls back to the GET route. No route: 404 JSON; the path
// exists under other methods only: 405 JSON with Allow.
class Router {
public:
    void add(const std::string& method, const std::string& pattern, Handler h);
    Response dispatch(Request& r) const;  // fills r.params

    // This router (copied) as the server's Handler. The request is copied only
    // when the matched route has parameters to fill in.
    Handler handler() const;

private:
    struct Route {
        std::string method;
        std::vector<std::string> segments;  // "{name}" marks a parameter
        Handler handler;
    };
    // The best route for the request, or nullptr with `allow` listing the
    // methods that would match the path (empty: no such path).
    const Route* match(const Request& r, std::map<std::string, std::string>& params, std::string& allow) const;
    std::vector<Route> routes_;
};

struct ServerOptions {
    size_t max_body = 1 << 20;               // larger: 413 JSON error, handler never called
    std::chrono::seconds idle_timeout{30};   // a connection silent this long is closed (0: never)
    std::string bearer_token;                // if set: every request whose path starts with
    std::vector<std::string> auth_prefixes;  // one of these prefixes (empty list = all paths)
                                             // needs "Authorization: Bearer <token>"; otherwise
                                             // 401 JSON + WWW-Authenticate: Bearer
    std::string read_only_token;             // if set: accepted too, marking Request::read_only
    AuthLimit auth_limit;                    // failed authentications per client address: past
                                             // the limit, 429 JSON + Retry-After until the window
                                             // ends (the right token too); logged to error_log
                                             // once per window, never with the token
    std::string token_header;                // if set: the token may come as this header's whole
                                             // value instead (a proxy that drops Authorization,
                                             // like the Kubernetes API server's pod proxy)
    unsigned threads = 1;                    // MHD internal thread pool size; handlers run on
                                             // these threads, concurrently when more than one
    // One thread per connection instead of a pool (`threads` is then unused):
    // for servers whose handlers or streams block for long (SSE watch, long
    // polls), so that one waiting client never holds up another.
    bool thread_per_connection = false;
    // Where libmicrohttpd's own diagnostics and handler exceptions go, one
    // line each, from any server thread; unset: nowhere (the library never
    // prints).
    std::function<void(const std::string& line)> error_log;
    // Set: HTTPS (TCP listeners only). With a client CA, a request without a
    // client certificate that CA signed is answered 403 before its handler.
    TlsCredentials tls;
};

class Server {
public:
    // "127.0.0.1:9090", "[::1]:0", ":9090" (every interface: IPv6 dual-stack,
    // IPv4 where there is no IPv6), "localhost:9090" (127.0.0.1). Port 0 picks
    // a free port (see address()). A malformed address is a usage error; an
    // address in use or not permitted is a failure.
    static Result<std::unique_ptr<Server>> listen_tcp(const std::string& addr, Handler h, ServerOptions o = {});
    // Creates the socket file with mode 0600; a stale one (nobody answering)
    // is replaced, a live one is "address in use", anything else at the path is
    // left alone and reported. Paths longer than sockaddr_un allows work (the
    // bind goes through /proc/self/fd/<dir>/<name>). stop() removes the file.
    static Result<std::unique_ptr<Server>> listen_unix(const std::string& path, Handler h, ServerOptions o = {});

    // "127.0.0.1:43123" / "[::1]:43123" (the real port when 0 was asked) or
    // the socket path.
    std::string address() const;
    int port() const;  // TCP: the bound port; Unix: 0

    // Connections accepted so far (for tests and metrics).
    size_t connections_accepted() const;

    // Replace ServerOptions::bearer_token and read_only_token (both empty:
    // no auth) for the requests that begin from now on; safe while requests
    // are served (a reload).
    void set_tokens(const std::string& token, const std::string& read_only_token = "");

    // Serve new connections with these credentials (a certificate renewed
    // on disk, SIGHUP); connections already open keep theirs. The new
    // credentials are tried before the old ones are let go: a certificate
    // or key that does not load is an error and the old ones stay. Only for
    // a server started with TLS.
    Status set_tls(TlsCredentials tls);

    // Wait until no request is in flight (every answer sent), at most
    // `limit`; false if some still is. Before stop(), for answers that must
    // not be cut off.
    bool wait_idle(std::chrono::milliseconds limit);

    // Idempotent; also in the destructor. Closes every connection and waits
    // for running handlers and stream producers to return, so never call it
    // from a handler (tell the thread that owns the server instead).
    void stop();
    ~Server();

    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    struct Impl;

private:
    explicit Server(std::unique_ptr<Impl> impl);
    static Result<std::unique_ptr<Server>> start(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Percent-decoding of one URL component ('+' stays '+'). A malformed escape
// or an encoded NUL is a usage error.
Result<std::string> percent_decode(const std::string& s);
// "a=1&b=x%20y&c" → {a:1, b:"x y", c:""} ('+' is a space). Later keys win.
Result<std::map<std::string, std::string>> parse_query(const std::string& query);
// Percent-encoding of one URL component (unreserved characters stay).
std::string percent_encode(const std::string& s);

}  // namespace fracta::http
