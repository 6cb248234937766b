// fuzz_http — the HTTP request path every fracta daemon serves through:
// raw bytes (request line, headers, body, pipelined requests) sent to a real
// http::Server on a Unix socket, so libmicrohttpd parses them as in the
// product and our part runs as it does there: the URI and query decoding,
// header collection, bearer and token-header auth with its prefixes, the
// Content-Length and streamed body caps, and the Router (parameters, 404,
// 405 with Allow, HEAD). The server lives for the whole run; each input is
// one connection, written, half-closed, and read to its end (or to 30 ms of
// silence).
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "http/server.h"

namespace {

using namespace fracta;
using namespace fracta::http;

std::unique_ptr<Server> g_server;
std::string g_path;

Router routes() {
    Router r;
    r.add("GET", "/healthz", [](const Request&) { return Response::text(200, "ok\n"); });
    r.add("GET", "/api/v1/agents", [](const Request& q) {
        return Response::json(200, Json{{"query", q.query}, {"loopback", q.peer_loopback}});
    });
    r.add("GET", "/api/v1/agents/{task}", [](const Request& q) {
        return Response::json(200, Json{{"task", q.params.at("task")}});
    });
    r.add("POST", "/api/v1/agents/{task}/say", [](const Request& q) {
        auto body = parse_json(q.body);
        if (!body.ok()) return Response::error(400, body.error().message);
        return Response::json(202, Json{{"task", q.params.at("task")}, {"body", *body}});
    });
    r.add("DELETE", "/api/v1/agents/{task}", [](const Request&) { return Response::json(204, nullptr); });
    r.add("GET", "/agents/{task}/mcp", [](const Request& q) {
        return Response::json(200, Json{{"auth", q.header("authorization")}, {"session", q.header("mcp-session-id")}});
    });
    return r;
}

void start() {
    char dir[] = "/tmp/fracta-fuzz-http-XXXXXX";
    if (!mkdtemp(dir)) std::abort();
    g_path = std::string(dir) + "/http.sock";
    ServerOptions o;
    o.max_body = 4096;
    o.bearer_token = "fuzz-token";
    o.auth_prefixes = {"/api/"};
    o.token_header = "X-Fracta-Token";
    o.idle_timeout = std::chrono::seconds(5);
    auto s = Server::listen_unix(g_path, routes().handler(), o);
    if (!s.ok()) {
        std::fprintf(stderr, "fuzz_http: cannot listen on %s: %s\n", g_path.c_str(), s.error().message.c_str());
        std::abort();
    }
    g_server = std::move(*s);
    std::atexit([] {
        g_server.reset();
        ::rmdir(g_path.substr(0, g_path.rfind('/')).c_str());
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (!g_server) start();
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) std::abort();
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, g_path.c_str(), sizeof sa.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) std::abort();
    // Write what the server takes; it may answer (413, 400) and close early.
    for (size_t at = 0; at < size;) {
        ssize_t n = ::send(fd, data + at, size - at, MSG_NOSIGNAL);
        if (n <= 0) break;
        at += static_cast<size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    // Read to the end: the server closes once it has answered everything.
    // A request cut short (headers unterminated, a body shorter than its
    // Content-Length) is not answered: libmicrohttpd waits for the rest until
    // its idle timeout even after our half-close, so after 30 ms of silence
    // the connection is dropped instead, as a client that gave up would.
    std::string answer;
    char buf[4096];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 30) <= 0) break;
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        if (answer.size() < 64) answer.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    // Whatever the input, an answer is an HTTP response.
    if (!answer.empty() && answer.compare(0, 7, "HTTP/1.") != 0) std::abort();
    return 0;
}
