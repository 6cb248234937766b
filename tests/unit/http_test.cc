// The HTTP server and client: routing, the control-plane conventions (JSON
// errors, bearer auth, body caps, slow clients), Unix sockets of any path
// length, streaming, and the client's error kinds — all over real sockets.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>

#include "base/io.h"
#include "http/client.h"
#include "http/server.h"
#include "support.h"

using namespace fracta;
using namespace fracta::http;
using namespace std::chrono_literals;
using fracta::test::ok;

namespace {

std::unique_ptr<Server> serve(Handler h, ServerOptions o = {}) {
    return ok(Server::listen_tcp("127.0.0.1:0", std::move(h), std::move(o)));
}

// h, counting in `calls` the requests that reach it (those the server did
// not answer itself).
Handler counted(std::atomic<int>& calls, Handler h) {
    return [&calls, h = std::move(h)](const Request& r) {
        calls++;
        return h(r);
    };
}

Client client_for(const Server& s, ClientOptions o = {}) {
    return Client("http://" + s.address(), std::move(o));
}

// The request's headers as a JSON object.
Response echo_headers(const Request& r) {
    Json h = Json::object();
    for (const auto& [k, v] : r.headers) h[k] = v;
    return Response::json(200, h);
}

// Echoes what the server understood of the request.
Response echo(const Request& r) {
    Json query = Json::object(), params = Json::object();
    for (const auto& [k, v] : r.query) query[k] = v;
    for (const auto& [k, v] : r.params) params[k] = v;
    return Response::json(200, {{"method", r.method},
                                {"path", r.path},
                                {"query", query},
                                {"params", params},
                                {"body", r.body},
                                {"content_type", r.header("content-type")}});
}

ClientOptions with_token(std::string token) {
    ClientOptions o;
    o.bearer_token = std::move(token);
    return o;
}

ClientOptions via_socket(std::string path) {
    ClientOptions o;
    o.unix_socket = std::move(path);
    return o;
}

Json body_of(const ClientResponse& r) {
    return ok(parse_json(r.body));
}

Request request(const std::string& method, const std::string& path) {
    Request r;
    r.method = method;
    r.path = path;
    return r;
}

// A raw TCP connection, for what a well-behaved client never sends.
int connect_raw(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    timeval tv{60, 0};  // a broken server fails the test instead of hanging it
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    return fd;
}

void send_raw(int fd, const std::string& data) {
    REQUIRE(::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
}

// `request` sent as it is on a new connection: all the server answers.
std::string exchange_raw(int port, const std::string& request) {
    int fd = connect_raw(port);
    send_raw(fd, request);
    std::string reply = ok(io::read_all(fd, 1 << 16));
    ::close(fd);
    return reply;
}

// A directory path of at least `length` characters, created.
std::string long_dir(size_t length) {
    std::string dir = test::temp_dir();
    while (dir.size() < length) dir += "/" + std::string(40, 'd');
    REQUIRE(io::make_dirs(dir, 0700).ok());
    return dir;
}

// A one-shot gate a test opens for a blocked handler.
struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    void release() {
        std::lock_guard<std::mutex> lock(mu);
        open = true;
        cv.notify_all();
    }
    bool wait(std::chrono::seconds limit = 10s) {
        std::unique_lock<std::mutex> lock(mu);
        return cv.wait_for(lock, limit, [&] { return open; });
    }
};

}  // namespace

// --- URL pieces ------------------------------------------------------------------

TEST_CASE("percent-decoding and query parsing", "[http]") {
    CHECK(ok(percent_decode("a%20b%2Fc+d")) == "a b/c+d");
    CHECK_FALSE(percent_decode("%zz").ok());
    CHECK_FALSE(percent_decode("abc%2").ok());
    CHECK_FALSE(percent_decode("a%00b").ok());
    auto q = ok(parse_query("a=1&b=x%20y&c=p+q&flag&&empty=&a=2&k%3D=v%26"));
    CHECK(q == std::map<std::string, std::string>{
                   {"a", "2"}, {"b", "x y"}, {"c", "p q"}, {"flag", ""}, {"empty", ""}, {"k=", "v&"}});
    CHECK(percent_encode("a b/ç~") == "a%20b%2F%C3%A7~");
    CHECK(ok(percent_decode(percent_encode("any / thing?&="))) == "any / thing?&=");
}

// --- routing ---------------------------------------------------------------------

TEST_CASE("the router matches exact and {name} segments and fills in parameters", "[http]") {
    Router router;
    router.add("GET", "/api/v1/agents", [](const Request&) { return Response::text(200, "list"); });
    router.add("GET", "/api/v1/agents/{task}",
               [](const Request& r) { return Response::text(200, "get " + r.params.at("task")); });
    router.add("POST", "/api/v1/agents/{task}/say",
               [](const Request& r) { return Response::text(200, "say " + r.params.at("task")); });
    router.add("GET", "/api/v1/agents/new", [](const Request&) { return Response::text(200, "exact"); });
    router.add("GET", "/", [](const Request&) { return Response::text(200, "root"); });

    auto hit = [&](const std::string& method, const std::string& path) {
        Request r = request(method, path);
        return router.dispatch(r);
    };
    CHECK(hit("GET", "/api/v1/agents").body == "list");
    CHECK(hit("GET", "/api/v1/agents/a1").body == "get a1");
    CHECK(hit("POST", "/api/v1/agents/a1/say").body == "say a1");
    CHECK(hit("GET", "/").body == "root");
    SECTION("an exact segment beats a parameter") {
        CHECK(hit("GET", "/api/v1/agents/new").body == "exact");
    }
    SECTION("the parameter is filled into the request") {
        Request r = request("POST", "/api/v1/agents/x-9/say");
        router.dispatch(r);
        CHECK(r.params == std::map<std::string, std::string>{{"task", "x-9"}});
    }
    SECTION("HEAD falls back to GET") {
        CHECK(hit("HEAD", "/api/v1/agents").status == 200);
    }
    SECTION("no such path: 404 JSON") {
        for (auto path : {"/nope", "/api/v1/agents/a1/say/more", "/api/v1/agents/", "/api/v1"}) {
            Response r = hit("GET", path);
            CHECK(r.status == 404);
            CHECK(r.content_type == "application/json");
            CHECK(ok(parse_json(r.body))["error"] == std::string("not found: ") + path);
        }
    }
    SECTION("the path exists under other methods only: 405 with Allow") {
        Response r = hit("DELETE", "/api/v1/agents/a1");
        CHECK(r.status == 405);
        CHECK(r.headers == std::vector<std::pair<std::string, std::string>>{{"Allow", "GET, HEAD"}});
        CHECK(ok(parse_json(r.body))["error"] == "method DELETE not allowed on /api/v1/agents/a1");
        Response say = hit("GET", "/api/v1/agents/a1/say");
        CHECK(say.status == 405);
        CHECK(say.headers.at(0).second == "POST");
    }
}

TEST_CASE("a router serves over a real socket, with encoded segments kept whole", "[http]") {
    Router router;
    router.add("GET", "/items/{id}", echo);
    router.add("PUT", "/items/{id}", echo);
    auto server = serve(router.handler());
    Client c = client_for(*server);

    auto r = ok(c.get("/items/a%2Fb%20c"));
    CHECK(r.status == 200);
    CHECK(body_of(r)["params"]["id"] == "a/b c");
    CHECK(body_of(r)["path"] == "/items/a/b c");

    auto wrong = ok(c.request("DELETE", "/items/1"));
    CHECK(wrong.status == 405);
    CHECK(wrong.header("allow") == "GET, HEAD, PUT");
    CHECK(wrong.header("content-type") == "application/json");
    CHECK(body_of(wrong)["error"] == "method DELETE not allowed on /items/1");

    auto missing = ok(c.get("/other"));
    CHECK(missing.status == 404);
    CHECK(body_of(missing)["error"] == "not found: /other");
}

// --- requests and responses ------------------------------------------------------

TEST_CASE("the handler sees the method, decoded path and query, headers and body", "[http]") {
    auto server = serve(echo);
    Client c = client_for(*server);

    auto r = ok(c.get("/some%20where/x?a=1&b=x%20y&c=p+q&flag"));
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.body.back() == '\n');
    Json got = body_of(r);
    CHECK(got["method"] == "GET");
    CHECK(got["path"] == "/some where/x");
    CHECK(got["query"] == Json{{"a", "1"}, {"b", "x y"}, {"c", "p q"}, {"flag", ""}});

    auto posted = ok(c.post_json("/p", {{"k", "v"}}));
    CHECK(body_of(posted)["method"] == "POST");
    CHECK(body_of(posted)["body"] == R"({"k":"v"})");
    CHECK(body_of(posted)["content_type"] == "application/json");

    auto put = ok(c.request("PUT", "/p", "plain", "text/plain"));
    CHECK(body_of(put)["method"] == "PUT");
    CHECK(body_of(put)["body"] == "plain");
    CHECK(body_of(put)["content_type"] == "text/plain");

    auto del = ok(c.request("DELETE", "/p"));
    CHECK(body_of(del)["method"] == "DELETE");
    CHECK(body_of(del)["body"] == "");
}

TEST_CASE("responses carry status, content type and extra headers", "[http]") {
    auto server = serve([](const Request& r) {
        if (r.path == "/text") return Response::text(202, "hello");
        if (r.path == "/error") return Response::error(409, "agent \"x\" already exists");
        Response resp = Response::json(201, {{"ok", true}});
        resp.headers.emplace_back("Location", "/things/1");
        return resp;
    });
    Client c = client_for(*server);
    auto text = ok(c.get("/text"));
    CHECK(text.status == 202);
    CHECK(text.body == "hello");
    CHECK(text.header("content-type") == "text/plain; charset=utf-8");
    auto err = ok(c.get("/error"));
    CHECK(err.status == 409);
    CHECK(err.body == "{\"error\":\"agent \\\"x\\\" already exists\"}\n");
    auto created = ok(c.get("/json"));
    CHECK(created.status == 201);
    CHECK(created.header("location") == "/things/1");
    CHECK(created.body == "{\"ok\":true}\n");
    auto head = ok(c.request("HEAD", "/json"));
    CHECK(head.status == 201);
    CHECK(head.body.empty());
}

TEST_CASE("a malformed escape in the URL is a 400 JSON error", "[http]") {
    std::atomic<int> calls{0};
    auto server = serve(counted(calls, echo));
    Client c = client_for(*server);
    auto bad_path = ok(c.get("/a%zz"));
    CHECK(bad_path.status == 400);
    CHECK(body_of(bad_path)["error"].get<std::string>().find("malformed URL") == 0);
    auto bad_query = ok(c.get("/a?x=%2"));
    CHECK(bad_query.status == 400);
    CHECK(calls == 0);
}

TEST_CASE("a body over the cap is refused with 413 and never reaches the handler", "[http]") {
    std::atomic<int> calls{0};
    ServerOptions o;
    o.max_body = 1000;
    auto size = [](const Request& r) { return Response::json(200, {{"size", r.body.size()}}); };
    auto server = serve(counted(calls, size), o);
    Client c = client_for(*server);

    auto at_cap = ok(c.request("POST", "/", std::string(1000, 'x')));
    CHECK(at_cap.status == 200);
    CHECK(body_of(at_cap)["size"] == 1000);
    CHECK(calls == 1);

    SECTION("announced by Content-Length") {
        auto over = ok(c.request("POST", "/", std::string(1001, 'x')));
        CHECK(over.status == 413);
        CHECK(body_of(over)["error"] == "request body too large (limit 1000 bytes)");
        auto huge = ok(c.request("POST", "/", std::string(3 << 20, 'x')));  // curl sends Expect: 100-continue
        CHECK(huge.status == 413);
        CHECK(calls == 1);
    }
    SECTION("discovered while reading a chunked body") {
        int fd = connect_raw(server->port());
        std::string chunk(600, 'y');
        send_raw(fd, "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        send_raw(fd, "258\r\n" + chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
        std::string reply = ok(io::read_all(fd, 1 << 16));
        ::close(fd);
        CHECK(reply.rfind("HTTP/1.1 413", 0) == 0);
        CHECK(reply.find("{\"error\":\"request body too large (limit 1000 bytes)\"}") != std::string::npos);
        CHECK(calls == 1);
    }
    SECTION("the client goes on after a refusal") {
        CHECK(ok(c.request("POST", "/", std::string(5000, 'x'))).status == 413);
        CHECK(ok(c.request("POST", "/", "{}")).status == 200);
        CHECK(calls == 2);
    }
}

TEST_CASE("bearer auth guards the configured prefixes", "[http]") {
    ServerOptions o;
    o.bearer_token = "s3cret-token";
    o.auth_prefixes = {"/api/v1"};
    std::atomic<int> calls{0};
    auto server = serve(counted(calls, echo), o);
    // The raw reply to a GET of `path` with this Authorization header, sent as
    // written (a scheme, or a case, the client would not send).
    auto raw_get = [&](const std::string& path, const std::string& authorization) {
        return exchange_raw(server->port(), "GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + authorization +
                                                "\r\nConnection: close\r\n\r\n");
    };

    SECTION("no token: 401 JSON with WWW-Authenticate, handler not called") {
        Client c = client_for(*server);
        auto r = ok(c.post_json("/api/v1/agents", {{"task", "t"}}));
        CHECK(r.status == 401);
        CHECK(r.header("www-authenticate") == "Bearer");
        CHECK(body_of(r)["error"] == "missing bearer token");
        CHECK(calls == 0);
    }
    SECTION("a wrong token, a prefix of it, or another scheme: 401") {
        for (std::string token : {"s3cret-tokeN", "s3cret-toke", "s3cret-token-and-more", ""}) {
            Client c = client_for(*server, with_token(token));
            auto r = ok(c.get("/api/v1/agents"));
            CHECK(r.status == 401);
            CHECK(r.header("www-authenticate") == "Bearer");
        }
        CHECK(raw_get("/api/v1/agents", "Basic czNjcmV0LXRva2Vu").rfind("HTTP/1.1 401", 0) == 0);
        CHECK(calls == 0);
    }
    SECTION("the right token passes; the scheme's case does not matter") {
        Client c = client_for(*server, with_token("s3cret-token"));
        CHECK(ok(c.get("/api/v1/agents")).status == 200);
        CHECK(raw_get("/api/v1/x", "bearer s3cret-token").rfind("HTTP/1.1 200", 0) == 0);
        CHECK(calls == 2);
    }
    SECTION("paths outside the prefixes stay open; encoding does not sneak past") {
        Client c = client_for(*server);
        CHECK(ok(c.get("/healthz")).status == 200);
        CHECK(ok(c.get("/metrics")).status == 200);
        CHECK(ok(c.get("/%61pi/v1/agents")).status == 401);
        CHECK(calls == 2);
    }
}

TEST_CASE("with no prefixes the token guards every path", "[http]") {
    ServerOptions o;
    o.bearer_token = "t";
    auto server = serve(echo, o);
    CHECK(ok(client_for(*server).get("/healthz")).status == 401);
    CHECK(ok(client_for(*server, with_token("t")).get("/healthz")).status == 200);
}

TEST_CASE("a handler that throws gets a 500 JSON answer and the server lives on", "[http]") {
    std::vector<std::string> log;
    std::mutex log_mu;
    ServerOptions o;
    o.error_log = [&](const std::string& line) {
        std::lock_guard<std::mutex> lock(log_mu);
        log.push_back(line);
    };
    auto server = serve(
        [](const Request& r) -> Response {
            if (r.path == "/boom") throw std::runtime_error("kaput");
            if (r.path == "/odd") throw 42;
            return Response::text(200, "fine");
        },
        o);
    Client c = client_for(*server);
    auto boom = ok(c.get("/boom"));
    CHECK(boom.status == 500);
    CHECK(body_of(boom)["error"] == "internal error: kaput");
    auto odd = ok(c.get("/odd"));
    CHECK(odd.status == 500);
    CHECK(body_of(odd)["error"] == "internal error");
    CHECK(ok(c.get("/ok")).body == "fine");
    std::lock_guard<std::mutex> lock(log_mu);
    CHECK(log == std::vector<std::string>{"handler for GET /boom threw: kaput", "handler for GET /odd threw"});
}

// --- listening -------------------------------------------------------------------

TEST_CASE("TCP: port 0 picks a free port; IPv4, IPv6 and every interface", "[http]") {
    auto v4 = ok(Server::listen_tcp("127.0.0.1:0", echo));
    CHECK(v4->port() > 0);
    CHECK(v4->address() == "127.0.0.1:" + std::to_string(v4->port()));
    CHECK(ok(client_for(*v4).get("/")).status == 200);

    auto v6 = ok(Server::listen_tcp("[::1]:0", echo));
    CHECK(v6->address() == "[::1]:" + std::to_string(v6->port()));
    CHECK(ok(client_for(*v6).get("/")).status == 200);

    auto any = ok(Server::listen_tcp(":0", echo));
    CHECK(ok(Client("http://127.0.0.1:" + std::to_string(any->port())).get("/")).status == 200);
    CHECK(ok(Client("http://[::1]:" + std::to_string(any->port())).get("/")).status == 200);

    auto local = ok(Server::listen_tcp("localhost:0", echo));
    CHECK(local->address().rfind("127.0.0.1:", 0) == 0);
}

TEST_CASE("TCP: a malformed address is a usage error; a busy one a failure", "[http]") {
    for (auto bad : {"", "9090", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536", "::1:80", "[::1]80",
                     "[::1", "example.com:80", "1.2.3.4.5:80"}) {
        auto s = Server::listen_tcp(bad, echo);
        INFO(bad);
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().kind == ErrorKind::Usage);
        CHECK(s.error().message.find("bad listen address") == 0);
    }
    auto first = ok(Server::listen_tcp("127.0.0.1:0", echo));
    auto second = Server::listen_tcp(first->address(), echo);
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().kind == ErrorKind::Failed);
    CHECK(second.error().message == "listen " + first->address() + ": Address already in use");
}

TEST_CASE("Unix socket: round trip, mode 0600, removed on stop", "[http]") {
    std::string path = test::temp_dir() + "/control.sock";
    auto server = ok(Server::listen_unix(path, echo));
    CHECK(server->address() == path);
    CHECK(server->port() == 0);
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);

    Client c("http://localhost", via_socket(path));
    auto r = ok(c.post_json("/status?x=1", {{"a", 1}}));
    CHECK(r.status == 200);
    CHECK(body_of(r)["path"] == "/status");
    CHECK(body_of(r)["body"] == R"({"a":1})");

    server->stop();
    server->stop();  // idempotent
    CHECK(::lstat(path.c_str(), &st) != 0);
    auto gone = c.get("/status");
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.error().kind == ErrorKind::Temporary);
    CHECK(gone.error().message.find("GET /status via " + path + ": ") == 0);
}

TEST_CASE("Unix socket: a path longer than sockaddr_un allows still works", "[http]") {
    std::string dir = long_dir(150);
    std::string path = dir + "/supervisor.sock";
    REQUIRE(path.size() > 150);
    auto server = ok(Server::listen_unix(path, echo));
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);

    Client c("http://localhost", via_socket(path));
    for (int i = 0; i < 3; ++i) {
        auto r = ok(c.get("/long?i=" + std::to_string(i)));
        CHECK(r.status == 200);
        CHECK(body_of(r)["query"]["i"] == std::to_string(i));
    }
    CHECK(server->connections_accepted() == 1);

    SECTION("a second server on the same path finds it in use") {
        auto again = Server::listen_unix(path, echo);
        REQUIRE_FALSE(again.ok());
        CHECK(again.error().kind == ErrorKind::Failed);
        CHECK(again.error().message == "listen " + path + ": address already in use");
    }
    SECTION("stop removes the long-path socket file") {
        server->stop();
        CHECK(::lstat(path.c_str(), &st) != 0);
    }
}

TEST_CASE("Unix socket: a stale socket file is replaced, anything else is left alone", "[http]") {
    std::string dir = test::temp_dir();
    std::string path = dir + "/stale.sock";
    {
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        ::close(fd);  // a crashed server leaves exactly this
    }
    auto server = ok(Server::listen_unix(path, echo));
    CHECK(ok(Client("http://localhost", via_socket(path)).get("/")).status == 200);

    std::string file = dir + "/not-a-socket";
    REQUIRE(io::write_file_atomic(file, "keep me").ok());
    auto refused = Server::listen_unix(file, echo);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().kind == ErrorKind::Failed);
    CHECK(refused.error().message == "listen " + file + ": exists and is not a socket");
    CHECK(ok(io::read_all(::open(file.c_str(), O_RDONLY | O_CLOEXEC), 100)) == "keep me");

    auto no_dir = Server::listen_unix(dir + "/missing/x.sock", echo);
    REQUIRE_FALSE(no_dir.ok());
    CHECK(no_dir.error().kind == ErrorKind::Failed);
}

// --- the client ------------------------------------------------------------------

TEST_CASE("client: a closed port is a temporary error naming the URL, never the token", "[http]") {
    test::BoundPort refusing;
    std::string url = "http://127.0.0.1:" + std::to_string(refusing.port());

    Client c(url, with_token("super-secret"));
    auto r = c.post_json("/api/v1/agents", {{"task", "t"}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::Temporary);
    CHECK(r.error().message.find("POST " + url + "/api/v1/agents: ") == 0);
    INFO(r.error().message);
    CHECK(r.error().message.find("refused") != std::string::npos);
    CHECK(r.error().message.find("super-secret") == std::string::npos);
    CHECK(r.error().message.find('\n') == std::string::npos);
}

TEST_CASE("client: a missing socket and an unknown host are temporary errors too", "[http]") {
    std::string path = test::temp_dir() + "/nobody.sock";
    auto r = Client("http://localhost", via_socket(path)).get("/x");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::Temporary);
    auto dns = Client("http://no-such-host.invalid:1").get("/");
    REQUIRE_FALSE(dns.ok());
    CHECK(dns.error().kind == ErrorKind::Temporary);
    auto url = Client("gopher-not://x").get("/");
    REQUIRE_FALSE(url.ok());
    CHECK(url.error().kind == ErrorKind::Usage);
}

TEST_CASE("client: a server slower than the timeout is a temporary error", "[http]") {
    Gate gate;
    auto server = serve([&](const Request&) {
        gate.wait();
        return Response::text(200, "late");
    });
    Client c = client_for(*server, [] {
        ClientOptions o;
        o.timeout = 200ms;
        return o;
    }());
    auto r = c.get("/slow");
    gate.release();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::Temporary);
    CHECK(r.error().message.find("GET http://" + server->address() + "/slow: ") == 0);
    CHECK(r.error().message.find("timed out") != std::string::npos);
    // The same client recovers on a fresh connection.
    CHECK(ok(c.get("/again")).body == "late");
}

TEST_CASE("client: a response over max_response is an error", "[http]") {
    auto server = serve([](const Request&) { return Response::text(200, std::string(10000, 'z')); });
    auto r = client_for(*server,
                        [] {
                            ClientOptions o;
                            o.max_response = 4096;
                            return o;
                        }())
                 .get("/");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::Failed);
    CHECK(r.error().message.find("response too large (more than 4096 bytes)") != std::string::npos);
}

TEST_CASE("client: one connection carries many requests", "[http]") {
    auto server = serve(echo);
    Client c = client_for(*server);
    for (int i = 0; i < 100; ++i) {
        auto r = i % 2 ? c.get("/n?i=" + std::to_string(i)) : c.post_json("/n", {{"i", i}});
        REQUIRE(r.ok());
        REQUIRE(r->status == 200);
    }
    CHECK(server->connections_accepted() == 1);
}

TEST_CASE("server: four clients at once on a thread pool", "[http]") {
    std::atomic<int> served{0};
    ServerOptions o;
    o.threads = 4;
    auto who = [](const Request& r) { return Response::json(200, {{"who", r.query_param("who")}}); };
    auto server = serve(counted(served, who), o);
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            Client c = client_for(*server);
            for (int i = 0; i < 50; ++i) {
                auto r = c.get("/w?who=" + std::to_string(t));
                if (r.ok() && r->status == 200 && r->body == "{\"who\":\"" + std::to_string(t) + "\"}\n") good++;
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(good == 200);
    CHECK(served == 200);
    CHECK(server->connections_accepted() == 4);
}

TEST_CASE("server: a slow handler does not hold up others with thread_per_connection", "[http]") {
    Gate gate;
    ServerOptions o;
    o.thread_per_connection = true;
    auto server = serve(
        [&](const Request& r) {
            if (r.path == "/block") gate.wait();
            return Response::text(200, r.path);
        },
        o);
    auto blocked = std::async(std::launch::async, [&] { return client_for(*server).get("/block"); });
    CHECK(ok(client_for(*server).get("/quick")).body == "/quick");  // answered while /block waits
    gate.release();
    CHECK(ok(blocked.get()).body == "/block");
}

// --- streams and slow clients ----------------------------------------------------

TEST_CASE("a streamed response arrives piece by piece", "[http]") {
    // The producer sends piece n+1 only once the client has seen piece n: a
    // server that buffered the whole body would never finish.
    std::mutex mu;
    std::condition_variable cv;
    int seen = 0;
    auto server = serve([&](const Request&) {
        auto sent = std::make_shared<int>(0);
        Response r = Response::stream([&, sent](std::string& chunk) {
            std::unique_lock<std::mutex> lock(mu);
            if (!cv.wait_for(lock, 10s, [&] { return seen >= *sent; })) return false;
            if (*sent == 3) return false;
            chunk = "id: " + std::to_string(*sent) + "\ndata: {\"n\":" + std::to_string(*sent) + "}\n\n";
            ++*sent;
            return true;
        });
        r.headers.emplace_back("X-Stream", "1");
        return r;
    });
    Client c = client_for(*server);
    std::string all;
    auto r = ok(c.stream("GET", "/watch", [&](std::string_view data) {
        all += data;
        std::lock_guard<std::mutex> lock(mu);
        seen = static_cast<int>(std::count(all.begin(), all.end(), '\n') / 3);
        cv.notify_all();
        return true;
    }));
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "text/event-stream");
    CHECK(r.header("cache-control") == "no-cache");
    CHECK(r.header("x-stream") == "1");
    CHECK(r.body.empty());
    CHECK(all == "id: 0\ndata: {\"n\":0}\n\nid: 1\ndata: {\"n\":1}\n\nid: 2\ndata: {\"n\":2}\n\n");

    // The plain client collects a whole stream as the body; a streaming one
    // may stop early, and the client goes on working after that.
    auto whole = ok(c.get("/watch"));
    CHECK(whole.body == all);
    int pieces = 0;
    auto stopped = ok(c.stream("GET", "/watch", [&](std::string_view) { return ++pieces < 1; }));
    CHECK(stopped.status == 200);
    CHECK(pieces == 1);
    CHECK(ok(c.get("/watch")).body == all);
}

TEST_CASE("client: extra headers; the head before the body; a stop from another thread", "[http]") {
    ServerOptions o;
    o.thread_per_connection = true;
    auto server = serve(
        [](const Request& r) {
            if (r.path == "/echo") return echo_headers(r);
            auto first = std::make_shared<bool>(true);
            return Response::stream([first](std::string& chunk) {  // a stream that never ends
                if (!std::exchange(*first, false))
                    std::this_thread::sleep_for(300ms);  // the heartbeat interval, not synchronisation
                chunk = ": ping\n\n";
                return true;
            });
        },
        o);
    Client c = client_for(*server);

    RequestExtras extras;
    extras.headers = {{"X-One", "1"}, {"Accept", "text/event-stream"}};
    int heads = 0;
    extras.on_head = [&](const ClientResponse& head) {
        ++heads;
        CHECK(head.status == 200);
        CHECK(head.header("content-type") == "application/json");
        CHECK(head.body.empty());
    };
    auto r = ok(c.request("GET", "/echo", "", "application/json", extras));
    CHECK(heads == 1);
    auto seen = ok(parse_json(r.body));
    CHECK(seen["x-one"] == "1");
    CHECK(seen["accept"] == "text/event-stream");

    std::atomic<bool> stop{false};
    RequestExtras stoppable;
    stoppable.cancelled = [&] { return stop.load(); };
    std::promise<void> streaming;
    stoppable.on_head = [&](const ClientResponse&) { streaming.set_value(); };
    auto watcher = std::async(std::launch::async, [&] {
        return client_for(*server).stream("GET", "/silent", [](std::string_view) { return true; }, "", "", stoppable);
    });
    streaming.get_future().wait();
    stop = true;
    auto stopped = watcher.get();  // though the server never ends it
    REQUIRE_FALSE(stopped.ok());
    CHECK(stopped.error().kind == ErrorKind::Temporary);
    CHECK_THAT(stopped.error().message, Catch::EndsWith("/silent: cancelled"));
}

TEST_CASE("stop() ends open streams and returns", "[http]") {
    // An SSE-style producer: a heartbeat whenever nothing else happens.
    ServerOptions o;
    o.thread_per_connection = true;
    auto server = serve(
        [](const Request&) {
            return Response::stream([](std::string& chunk) {
                std::this_thread::sleep_for(20ms);  // the heartbeat interval, not synchronisation
                chunk = ": ping\n\n";
                return true;
            });
        },
        o);
    std::promise<void> first_ping;
    auto watcher = std::async(std::launch::async, [&] {
        bool told = false;
        return client_for(*server).stream("GET", "/watch", [&](std::string_view) {
            if (!told) first_ping.set_value();
            told = true;
            return true;
        });
    });
    first_ping.get_future().wait();
    server->stop();
    auto r = watcher.get();
    REQUIRE_FALSE(r.ok());  // the stream was cut, which the client reports
    CHECK(r.error().kind == ErrorKind::Temporary);
}

TEST_CASE("a malformed request gets libmicrohttpd's 400 and leaks nothing", "[http]") {
    std::atomic<int> calls{0};
    auto server = serve(counted(calls, echo));
    std::string reply = exchange_raw(server->port(), "GET /x HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n");
    CHECK(reply.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(calls == 0);
}

TEST_CASE("a client that goes quiet is cut off after the idle timeout", "[http]") {
    ServerOptions o;
    o.idle_timeout = 1s;
    auto server = serve(echo, o);
    int fd = connect_raw(server->port());
    send_raw(fd, "GET /half HTTP/1.1\r\nHost: x\r\n");  // and never the blank line
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);  // returns when the server hangs up (or at the 60 s guard)
    int err = errno;
    ::close(fd);
    CHECK((n == 0 || (n < 0 && err == ECONNRESET)));
    CHECK(ok(client_for(*server).get("/still")).status == 200);
}

TEST_CASE("set_bearer_token: the next requests need the new token; empty opens the routes", "[http]") {
    ServerOptions o;
    o.bearer_token = "old-token";
    o.auth_prefixes = {"/api/v1"};
    auto server = serve(echo, o);
    CHECK(ok(client_for(*server, with_token("old-token")).get("/api/v1/x")).status == 200);
    server->set_tokens("new-token");
    CHECK(ok(client_for(*server, with_token("old-token")).get("/api/v1/x")).status == 401);
    CHECK(ok(client_for(*server, with_token("new-token")).get("/api/v1/x")).status == 200);
    CHECK(ok(client_for(*server).get("/api/v1/x")).status == 401);
    server->set_tokens("");
    CHECK(ok(client_for(*server).get("/api/v1/x")).status == 200);
}

TEST_CASE("tokens: two roles, hashed; failed authentications per address in fixed windows", "[http][auth]") {
    http::TokenSet tokens;
    CHECK_FALSE(tokens.enabled());
    tokens.set("full-token", "reader-token");
    CHECK(tokens.enabled());
    CHECK(tokens.check("full-token") == http::Access::Full);
    CHECK(tokens.check("reader-token") == http::Access::ReadOnly);
    CHECK(tokens.check("full-toke") == http::Access::None);
    CHECK(tokens.check("") == http::Access::None);
    tokens.set("", "reader-token");
    CHECK(tokens.check("full-token") == http::Access::None);

    using namespace std::chrono_literals;
    http::FailureLimiter limiter({3, 60s});
    const auto t0 = http::FailureLimiter::Clock::now();
    CHECK_FALSE(limiter.failed("a", t0));
    CHECK_FALSE(limiter.failed("a", t0 + 1s));
    CHECK(limiter.blocked_for("a", t0 + 1s) == 0);
    CHECK(limiter.failed("a", t0 + 2s));  // the third: reached, reported once
    CHECK(limiter.blocked_for("a", t0 + 2s) == 58);
    CHECK(limiter.blocked_for("b", t0 + 2s) == 0);
    CHECK_FALSE(limiter.failed("a", t0 + 3s));
    CHECK(limiter.blocked_for("a", t0 + 60s) == 0);  // the window is over
    CHECK_FALSE(limiter.failed("a", t0 + 61s));      // a new one begins
    CHECK(limiter.blocked_for("a", t0 + 61s) == 0);
    http::FailureLimiter off({0, 60s});
    for (int i = 0; i < 100; ++i) CHECK_FALSE(off.failed("a", t0));
    CHECK(off.blocked_for("a", t0) == 0);
}
