// The MCP client (lib/mcp/client*.h) against the real reference server,
// @modelcontextprotocol/server-everything from tests/node_modules, over all
// three transports: stdio (a child process), streamable HTTP and legacy
// HTTP+SSE. A small C++ server stands in where the reference server cannot
// show something (JSON answers, our headers on the wire, pagination, a lost
// session). Without `make deps` these tests fail, saying so.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "http/client.h"
#include "http/server.h"
#include "http/sse.h"
#include "mcp/client.h"
#include "mcp/client_http.h"
#include "mcp/client_sse.h"
#include "mcp/client_stdio.h"
#include "proc/process.h"
#include "support.h"

using namespace fracta;
using namespace fracta::mcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using fracta::test::ok;

namespace {

// How long we wait for something that must happen (a server getting ready,
// a notification): only a bound against hanging forever, never a pace.
constexpr auto kPatience = 30s;

std::string everything_js() {
    std::string path =
        test::source_root() + "/tests/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
    if (!std::filesystem::exists(path))
        FAIL("the MCP reference server is not installed (" + path + "): run `make deps`");
    return path;
}

std::string text_of(const Message& answer) {
    REQUIRE(answer.kind == Kind::Result);
    const Json& content = answer.result.at("content");
    REQUIRE(content.is_array());
    REQUIRE(!content.empty());
    return content[0].at("text").get<std::string>();
}

bool has_tool(const std::vector<Json>& tools, const std::string& name) {
    for (const auto& t : tools)
        if (t["name"] == name) return true;
    return false;
}

// Things arriving on other threads, waited for without sleeping.
struct Inbox {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::pair<std::string, Json>> items;

    void add(std::string what, Json data) {
        std::lock_guard lock(mu);
        items.emplace_back(std::move(what), std::move(data));
        cv.notify_all();
    }
    bool wait_for(const std::string& what, size_t count = 1) {
        std::unique_lock lock(mu);
        return cv.wait_for(lock, kPatience, [&] { return this->count(what) >= count; });
    }
    size_t count(const std::string& what) const {
        size_t n = 0;
        for (const auto& [w, d] : items) n += w == what;
        return n;
    }
};

std::unique_ptr<StdioTransport> everything_stdio() {
    StdioTransportOptions o;
    o.command = "node";
    o.args = {everything_js(), "stdio"};
    return std::make_unique<StdioTransport>(o);
}

std::unique_ptr<Client> connected(std::unique_ptr<Transport> t, ClientOptions o = {}) {
    if (o.name.empty()) o.name = "everything";
    auto c = std::make_unique<Client>(std::move(t), std::move(o));
    ok(c->connect());
    return c;
}

// A port nobody listens on right now (the kernel's pick, released).
int free_port() { return test::BoundPort().port(); }

// server-everything in one of its HTTP modes ("streamableHttp", "sse") on a
// free port, ready once it says it listens; its output is drained (it logs
// every request, and a full pipe would stall it).
class EverythingServer {
public:
    explicit EverythingServer(const std::string& mode) {
        std::string js = everything_js();
        for (int attempt = 0; attempt < 5 && !process_; ++attempt) {
            port_ = free_port();
            proc::Command c;
            c.argv = {"node", js, mode};
            c.env["PORT"] = std::to_string(port_);
            auto p = proc::Process::start(c);
            if (!p.ok()) FAIL("cannot start node: " + p.error().message);
            if (wait_ready(**p)) process_ = std::move(*p);
        }
        if (!process_) FAIL("server-everything " + mode + " did not start: " + log_);
        drain_ = std::thread([this] { drain(); });
    }
    ~EverythingServer() {
        process_->stop(200ms);
        drain_.join();
    }

    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

private:
    // Until the line that says it listens on our port (true), or its exit.
    bool wait_ready(proc::Process& p) {
        std::string err;
        const auto deadline = Clock::now() + kPatience;
        const std::string ready = "port " + std::to_string(port_);
        while (Clock::now() < deadline) {
            pollfd fds[2] = {{p.stdout_fd(), POLLIN, 0}, {p.stderr_fd(), POLLIN, 0}};
            ::poll(fds, 2, 1000);
            char buf[4096];
            for (int i = 0; i < 2; ++i) {
                ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
                if (n > 0) err.append(buf, static_cast<size_t>(n));
            }
            if (err.find(ready) != std::string::npos && err.find("in use") == std::string::npos) return true;
            if (p.exited()) break;
        }
        log_ = err;
        p.stop(200ms);
        return false;
    }
    void drain() {
        int fds_open = 2;
        pollfd fds[2] = {{process_->stdout_fd(), POLLIN, 0}, {process_->stderr_fd(), POLLIN, 0}};
        char buf[4096];
        while (fds_open > 0) {
            if (::poll(fds, 2, -1) < 0) continue;
            for (auto& f : fds) {
                if (f.fd < 0 || !f.revents) continue;
                ssize_t n = ::read(f.fd, buf, sizeof buf);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                    f.fd = -1;
                    --fds_open;
                }
            }
        }
    }

    int port_ = 0;
    std::unique_ptr<proc::Process> process_;
    std::thread drain_;
    std::string log_;
};

ClientOptions named(const std::string& name) {
    ClientOptions o;
    o.name = name;
    return o;
}

HttpTransportOptions http_to(const std::string& url, std::map<std::string, std::string> headers = {}) {
    HttpTransportOptions o;
    o.url = url;
    o.headers = std::move(headers);
    return o;
}

SseTransportOptions sse_to(const std::string& url) {
    SseTransportOptions o;
    o.url = url;
    return o;
}

RequestOptions with_timeout(std::chrono::milliseconds t) {
    RequestOptions o;
    o.timeout = t;
    return o;
}

Json long_running(double seconds, int steps) {
    return {{"duration", seconds}, {"steps", steps}};
}

// The checks every transport must pass against server-everything.
void list_and_echo(Client& c) {
    CHECK(c.protocol_version() == "2025-11-25");
    CHECK(c.server_info()["name"] == "mcp-servers/everything");
    CHECK(c.server_capabilities().contains("tools"));
    auto tools = ok(c.list_tools());
    CHECK(has_tool(tools, "echo"));
    CHECK(has_tool(tools, "trigger-long-running-operation"));
    CHECK(text_of(ok(c.call_tool("echo", {{"message", "hello fracta"}}))) == "Echo: hello fracta");
    ok(c.ping());
}

void progress_arrives(Client& c) {
    Inbox inbox;
    RequestOptions o;
    o.on_progress = [&](const Json& p) { inbox.add("progress", p); };
    auto answer = ok(c.call_tool("trigger-long-running-operation", long_running(0.4, 4), o));
    CHECK(text_of(answer) == "Long running operation completed. Duration: 0.4 seconds, Steps: 4.");
    REQUIRE(inbox.items.size() == 4);
    for (size_t i = 0; i < 4; ++i) {
        CHECK(inbox.items[i].second["progress"] == i + 1);
        CHECK(inbox.items[i].second["total"] == 4);
    }
}

// The tool would take a minute, so an answer before it (no result, the
// timeout's message) shows the timeout worked, however loaded the machine.
void timeout_cancels(Client& c) {
    auto start = Clock::now();
    auto r = c.call_tool("trigger-long-running-operation", long_running(60, 60), with_timeout(300ms));
    auto waited = Clock::now() - start;
    REQUIRE(!r.ok());
    CHECK(r.error().kind == ErrorKind::Temporary);
    CHECK_THAT(r.error().message, Catch::StartsWith("backend everything: tools/call: no answer within"));
    CHECK_THAT(r.error().message, Catch::Contains("(cancelled)"));
    CHECK(waited >= 300ms);
    // The session goes on.
    CHECK(text_of(ok(c.call_tool("echo", {{"message", "still here"}}))) == "Echo: still here");
}

}  // namespace

// --- stdio ----------------------------------------------------------------------------

TEST_CASE("stdio: handshake, every tool listed, echo answered", "[mcp-client]") {
    auto c = connected(everything_stdio());
    CHECK(c->alive());
    list_and_echo(*c);

    // Tool failures are results; unknown methods are JSON-RPC errors.
    auto missing = ok(c->call_tool("no-such-tool", Json::object()));
    CHECK(missing.result["isError"] == true);
    CHECK_THAT(text_of(missing), Catch::Contains("no-such-tool not found"));
    auto unknown = ok(c->request("no/such/method", Json::object()));
    CHECK(unknown.kind == Kind::Error);
    CHECK(unknown.error.code == kMethodNotFound);

    c->close();
    CHECK(!c->alive());
    auto after = c->call_tool("echo", {{"message", "x"}});
    REQUIRE(!after.ok());
    CHECK_THAT(after.error().message, Catch::Contains("closed"));
}

TEST_CASE("stdio: notifications go to the owner, stderr to the log", "[mcp-client]") {
    Inbox inbox;
    ClientOptions o;
    o.on_notification = [&](const std::string& method, const Json& params) { inbox.add(method, params); };
    o.on_log = [&](const std::string& line) { inbox.add("log", line); };
    auto c = connected(everything_stdio(), o);
    // The server registers more tools once it knows us, and says so.
    CHECK(inbox.wait_for("notifications/tools/list_changed"));
    CHECK(inbox.wait_for("log"));  // "Starting default (STDIO) server..."
    std::lock_guard lock(inbox.mu);
    bool starting = false;
    for (const auto& [what, data] : inbox.items)
        starting |= what == "log" && data.get<std::string>().find("STDIO") != std::string::npos;
    CHECK(starting);
}

TEST_CASE("stdio: progress goes to the caller that asked for it", "[mcp-client]") {
    auto c = connected(everything_stdio());
    progress_arrives(*c);
}

TEST_CASE("stdio: a call past its timeout fails and is cancelled; the session goes on", "[mcp-client]") {
    auto c = connected(everything_stdio());
    timeout_cancels(*c);
}

TEST_CASE("stdio: progress can keep a long call within its timeout", "[mcp-client]") {
    auto c = connected(everything_stdio());
    RequestOptions o;
    o.timeout = 1500ms;  // the call takes 3 s; progress comes every 250 ms
    o.progress_extends_timeout = true;
    std::atomic<int> seen{0};
    o.on_progress = [&](const Json&) { ++seen; };
    auto answer = ok(c->call_tool("trigger-long-running-operation", long_running(3, 12), o));
    CHECK_THAT(text_of(answer), Catch::StartsWith("Long running operation completed"));
    CHECK(seen == 12);

    // ...but not past the hard cap.
    o.max_total = 1000ms;
    auto capped = c->call_tool("trigger-long-running-operation", long_running(3, 12), o);
    REQUIRE(!capped.ok());
    CHECK_THAT(capped.error().message, Catch::Contains("no answer within"));
}

TEST_CASE("stdio: many threads share one connection", "[mcp-client]") {
    auto c = connected(everything_stdio());
    std::atomic<int> right{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) {
                std::string m = std::to_string(t);  // (appended, not "t" + …: GCC 12's -Wrestrict misfires)
                m += '-';
                m += std::to_string(i);
                auto r = c->call_tool("echo", {{"message", m}});
                if (r.ok() && r->kind == Kind::Result && r->result["content"][0]["text"] == "Echo: " + m) ++right;
            }
        });
    for (auto& t : threads) t.join();
    CHECK(right == 100);
}

TEST_CASE("stdio: the server dying mid-call fails the call at once, naming the backend", "[mcp-client]") {
    Inbox inbox;
    ClientOptions o;
    o.on_closed = [&](const Error& why) { inbox.add("closed", why.message); };
    auto transport = everything_stdio();
    auto* stdio = transport.get();
    auto c = connected(std::move(transport), o);
    pid_t pid = stdio->pid();
    REQUIRE(pid > 0);

    RequestOptions call;
    call.timeout = 60s;
    call.on_progress = [&](const Json& p) { inbox.add("progress", p); };
    std::optional<Result<Message>> outcome;
    std::thread caller([&] { outcome = c->call_tool("trigger-long-running-operation", long_running(60, 60), call); });
    bool running = inbox.wait_for("progress");  // the call is running at the server
    int killed = ::kill(pid, SIGKILL);
    caller.join();
    REQUIRE(running);
    REQUIRE(killed == 0);

    REQUIRE(outcome.has_value());
    REQUIRE(!outcome->ok());
    const std::string& why = outcome->error().message;
    CHECK(outcome->error().kind == ErrorKind::Temporary);
    CHECK_THAT(why,
               Catch::StartsWith("backend everything: tools/call: process node (pid " + std::to_string(pid) + ")"));
    CHECK_THAT(why, Catch::Contains("killed by signal 9"));
    CHECK(!c->alive());
    CHECK(!stdio->alive());
    REQUIRE(inbox.wait_for("closed"));
    CHECK_THAT(inbox.items.back().second.get<std::string>(), Catch::Contains("killed by signal 9"));

    // Later calls fail at once with the same cause.
    auto later = c->call_tool("echo", {{"message", "anyone?"}});
    REQUIRE(!later.ok());
    CHECK_THAT(later.error().message, Catch::Contains("killed by signal 9"));
    // The child was reaped: its pid is no longer ours.
    CHECK(::kill(pid, 0) != 0);
}

TEST_CASE("stdio: a server that cannot start or dies in the handshake is a clear error", "[mcp-client]") {
    SECTION("not found") {
        StdioTransportOptions so;
        so.command = "/nonexistent/mcp-server";
        Client c(std::make_unique<StdioTransport>(so), named("ghost"));
        auto s = c.connect();
        REQUIRE(!s.ok());
        CHECK(s.error().kind == ErrorKind::NotFound);
        CHECK_THAT(s.error().message, Catch::StartsWith("backend ghost: connect: start /nonexistent/mcp-server"));
        CHECK(!c.alive());
    }
    SECTION("exits at once, saying why on stderr") {
        StdioTransportOptions so;
        so.command = "node";
        so.args = {"-e", "console.error('no config, giving up'); process.exit(3)"};
        Client c(std::make_unique<StdioTransport>(so), named("quitter"));
        auto s = c.connect();
        REQUIRE(!s.ok());
        CHECK_THAT(s.error().message, Catch::StartsWith("backend quitter: initialize: process node"));
        CHECK_THAT(s.error().message, Catch::Contains("exited with status 3"));
        CHECK_THAT(s.error().message, Catch::Contains("no config, giving up"));
    }
    SECTION("says nothing: the handshake times out") {
        StdioTransportOptions so;
        so.command = "sleep";
        so.args = {"60"};
        so.stop_grace = 100ms;
        ClientOptions o = named("mute");
        o.timeout = 300ms;
        Client c(std::make_unique<StdioTransport>(so), o);
        auto s = c.connect();
        REQUIRE(!s.ok());
        CHECK_THAT(s.error().message, Catch::StartsWith("backend mute: initialize: no answer within"));
    }
}

// --- streamable HTTP --------------------------------------------------------------------

TEST_CASE("streamable HTTP: session, tools, echo, progress, timeout; DELETE on close", "[mcp-client]") {
    EverythingServer server("streamableHttp");
    auto transport = ok(HttpTransport::create(http_to(server.url("/mcp"))));
    auto* http = transport.get();
    auto c = connected(std::move(transport));
    std::string session = http->session_id();
    CHECK(!session.empty());
    list_and_echo(*c);
    progress_arrives(*c);
    timeout_cancels(*c);

    // The session is known to the server until we close it.
    auto probe = [&] {
        http::Client raw(server.url(""));
        Json ping = make_request(Id(999), "ping", Json::object());
        http::RequestExtras extras;
        extras.headers = {{"Accept", "application/json, text/event-stream"},
                          {"Mcp-Session-Id", session},
                          {"MCP-Protocol-Version", "2025-11-25"}};
        return ok(raw.request("POST", "/mcp", to_line(ping), "application/json", extras)).status;
    };
    CHECK(probe() == 200);
    c->close();
    CHECK(probe() != 200);  // gone: our DELETE ended it
}

TEST_CASE("streamable HTTP: server-initiated messages arrive on the GET stream", "[mcp-client]") {
    EverythingServer server("streamableHttp");
    Inbox inbox;
    ClientOptions o;
    o.on_notification = [&](const std::string& method, const Json& params) { inbox.add(method, params); };
    auto c = connected(ok(HttpTransport::create(http_to(server.url("/mcp")))), o);
    // Simulated logging: one message now, then one every 5 s, none tied to a request.
    ok(c->call_tool("toggle-simulated-logging", Json::object()));
    CHECK(inbox.wait_for("notifications/message"));
}

TEST_CASE("streamable HTTP: a server that is not there is a temporary error naming the URL", "[mcp-client]") {
    std::string url = "http://127.0.0.1:" + std::to_string(free_port()) + "/mcp";
    Client c(ok(HttpTransport::create(http_to(url))), named("away"));
    auto s = c.connect();
    REQUIRE(!s.ok());
    CHECK(s.error().kind == ErrorKind::Temporary);
    CHECK_THAT(s.error().message, Catch::StartsWith("backend away: initialize: POST " + url));
}

TEST_CASE("streamable HTTP: bad URLs and headers are refused before any connection", "[mcp-client]") {
    CHECK(!HttpTransport::create(http_to("127.0.0.1:80/mcp")).ok());
    CHECK(!HttpTransport::create(http_to("ftp://host/mcp")).ok());
    auto bad = HttpTransport::create(http_to("http://h/mcp", {{"X-Key", "a\r\nInjected: yes"}}));
    REQUIRE(!bad.ok());
    CHECK(bad.error().kind == ErrorKind::Usage);
    CHECK(!HttpTransport::create(http_to("http://h/mcp", {{"Bad Name", "v"}})).ok());
}

// A streamable HTTP server of our own, answering with plain JSON (which
// server-everything never does), paginating tools/list, and recording what
// arrives on the wire.
namespace {

// What this file's servers answer before a message is theirs to handle: no
// server-initiated stream, a DELETE ends the session, a body that is not one
// JSON-RPC message is a 400. Nothing when `m` holds the request's message.
std::optional<http::Response> read_message(const http::Request& r, Message& m) {
    if (r.method == "GET") return http::Response::error(405, "no server-initiated stream");
    if (r.method == "DELETE") return http::Response::text(200, "");
    auto body = parse_json(r.body);
    if (!body.ok()) return http::Response::error(400, "not JSON");
    auto parsed = parse_message(*body);
    if (!parsed.ok()) return http::Response::error(400, "not a message");
    m = std::move(parsed).value();
    return std::nullopt;
}

struct JsonServer {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<http::Request> seen;
    bool repeat_cursor = false;
    std::unique_ptr<http::Server> server;

    JsonServer() {
        server = ok(http::Server::listen_tcp("127.0.0.1:0", [this](const http::Request& r) { return handle(r); }));
    }
    std::string url() const { return "http://" + server->address() + "/mcp"; }

    http::Response handle(const http::Request& r) {
        {
            std::lock_guard lock(mu);
            seen.push_back(r);
        }
        cv.notify_all();
        Message m;
        if (auto refused = read_message(r, m)) return *refused;
        if (!m.is_request()) return http::Response::text(202, "");
        if (m.method == "initialize") {
            auto res =
                http::Response::json(200, make_result(m.id, {{"protocolVersion", "2025-06-18"},
                                                             {"capabilities", {{"tools", Json::object()}}},
                                                             {"serverInfo", {{"name", "json"}, {"version", "1"}}}}));
            res.headers.emplace_back("Mcp-Session-Id", "s-1");
            return res;
        }
        if (r.header("mcp-session-id") != "s-1") return http::Response::error(400, "no session");
        if (m.method == "tools/list") {
            std::string cursor = m.params.is_object() ? m.params.value("cursor", "") : "";
            Json page = {{"tools", Json::array({{{"name", cursor.empty() ? "first" : "second"},
                                                 {"inputSchema", {{"type", "object"}}}}})}};
            if (cursor.empty() || repeat_cursor) page["nextCursor"] = "page-2";
            return http::Response::json(200, make_result(m.id, page));
        }
        if (m.method == "tools/call" && m.params["name"] == "forget-me")
            return http::Response::error(404, "unknown session");
        if (m.method == "tools/call" && m.params["name"] == "refuse")
            return http::Response::json(400, make_error(m.id, kInvalidParams, "refused"));
        return http::Response::json(
            200, make_result(m.id, {{"content", Json::array({{{"type", "text"}, {"text", "ok"}}})}}));
    }
    std::vector<http::Request> requests() {
        std::lock_guard lock(mu);
        return seen;
    }
    // The client opens its GET stream from a thread of its own, so a test
    // that looks for it must wait for it rather than race the close.
    bool wait_for_method(const std::string& method) {
        std::unique_lock lock(mu);
        return cv.wait_for(lock, kPatience, [&] {
            return std::any_of(seen.begin(), seen.end(), [&](const http::Request& r) { return r.method == method; });
        });
    }
};

}  // namespace

TEST_CASE("streamable HTTP: JSON answers, our headers, pagination, DELETE", "[mcp-client]") {
    JsonServer server;
    {
        auto c = connected(ok(HttpTransport::create(http_to(server.url(), {{"X-Backend-Key", "k1"}}))));
        CHECK(c->protocol_version() == "2025-06-18");  // what the server settled on
        auto tools = ok(c->list_tools());
        REQUIRE(tools.size() == 2);
        CHECK(tools[0]["name"] == "first");
        CHECK(tools[1]["name"] == "second");
        CHECK(text_of(ok(c->call_tool("anything", Json::object()))) == "ok");
        // A JSON-RPC error in a 400 body is the server's answer.
        auto refused = ok(c->call_tool("refuse", Json::object()));
        CHECK(refused.kind == Kind::Error);
        CHECK(refused.error.message == "refused");
        CHECK(server.wait_for_method("GET"));
    }
    auto seen = server.requests();
    REQUIRE(seen.size() >= 6);
    // initialize: no session yet; everything after: the session and the version.
    CHECK(seen[0].header("mcp-session-id").empty());
    CHECK(seen[0].header("accept") == "application/json, text/event-stream");
    CHECK(seen[0].header("content-type") == "application/json");
    for (const auto& r : seen) CHECK(r.header("x-backend-key") == "k1");
    bool initialized = false, listened = false, deleted = false;
    for (size_t i = 1; i < seen.size(); ++i) {
        CHECK(seen[i].header("mcp-session-id") == "s-1");
        CHECK(seen[i].header("mcp-protocol-version") == "2025-06-18");
        initialized |= seen[i].body.find("notifications/initialized") != std::string::npos;
        listened |= seen[i].method == "GET" && seen[i].header("accept") == "text/event-stream";
        deleted |= seen[i].method == "DELETE";
    }
    CHECK(initialized);
    CHECK(listened);
    CHECK(deleted);
    CHECK(seen.back().method == "DELETE");
}

TEST_CASE("streamable HTTP: a forgotten session makes the transport dead", "[mcp-client]") {
    JsonServer server;
    auto c = connected(ok(HttpTransport::create(http_to(server.url()))));
    auto r = c->call_tool("forget-me", Json::object());
    REQUIRE(!r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("no longer knows our session"));
    CHECK(!c->alive());
}

TEST_CASE("tools/list stops a server that repeats its cursor", "[mcp-client]") {
    JsonServer server;
    server.repeat_cursor = true;
    auto c = connected(ok(HttpTransport::create(http_to(server.url()))));
    auto r = c->list_tools();
    REQUIRE(!r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("repeats cursor page-2"));
}

// --- cancellation ------------------------------------------------------------------------

namespace {

// A streamable HTTP backend that holds every `hang` call until the client
// cancels it, and records the ids of those calls and of the cancellations.
struct CancelServer {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Json> called, cancelled;  // request ids as sent on the wire
    bool stopping = false;
    std::unique_ptr<http::Server> server;

    CancelServer() {
        http::ServerOptions so;
        so.thread_per_connection = true;  // a held call must not hold up the cancellation
        server = ok(http::Server::listen_tcp(
            "127.0.0.1:0", [this](const http::Request& r) { return handle(r); }, so));
    }
    ~CancelServer() {
        {
            std::lock_guard lock(mu);
            stopping = true;
        }
        cv.notify_all();
        server->stop();
    }
    std::string url() const { return "http://" + server->address() + "/mcp"; }

    http::Response handle(const http::Request& r) {
        Message m;
        if (auto refused = read_message(r, m)) return *refused;
        if (m.is_notification()) {
            if (m.method == "notifications/cancelled") {
                std::lock_guard lock(mu);
                cancelled.push_back(m.params.value("requestId", Json()));
                cv.notify_all();
            }
            return http::Response::text(202, "");
        }
        if (m.method == "initialize")
            return http::Response::json(200, make_result(m.id, {{"protocolVersion", "2025-06-18"},
                                                                {"capabilities", {{"tools", Json::object()}}},
                                                                {"serverInfo", {{"name", "held"}, {"version", "1"}}}}));
        if (m.method == "tools/call" && m.params["name"] == "hang") {
            std::unique_lock lock(mu);
            called.push_back(m.id.to_json());
            cv.notify_all();
            cv.wait_for(lock, kPatience, [&] {
                return stopping || std::find(cancelled.begin(), cancelled.end(), m.id.to_json()) != cancelled.end();
            });
        }
        return http::Response::json(
            200, make_result(m.id, {{"content", Json::array({{{"type", "text"}, {"text", "ok"}}})}}));
    }
    bool wait_for(const std::vector<Json>& list, size_t n) {
        std::unique_lock lock(mu);
        return cv.wait_for(lock, kPatience, [&] { return list.size() >= n; });
    }
};

}  // namespace

TEST_CASE("a request its caller cancels is cancelled at the server under the id it went out with", "[mcp-client]") {
    CancelServer server;
    auto c = connected(ok(HttpTransport::create(http_to(server.url()))), named("held"));
    RequestOptions o;
    o.cancelled = std::make_shared<std::atomic<bool>>(false);
    std::thread canceller([&] {
        if (server.wait_for(server.called, 1)) o.cancelled->store(true);
    });
    auto r = c->call_tool("hang", Json::object(), o);
    canceller.join();
    REQUIRE(!r.ok());
    CHECK(r.error().kind == ErrorKind::Temporary);
    CHECK_THAT(r.error().message, Catch::StartsWith("backend held: tools/call: cancelled after"));
    REQUIRE(server.wait_for(server.cancelled, 1));
    {
        std::lock_guard lock(server.mu);
        CHECK(server.cancelled[0] == server.called[0]);
    }
    // A flag that stays false changes nothing; the connection goes on.
    RequestOptions calm;
    calm.cancelled = std::make_shared<std::atomic<bool>>(false);
    CHECK(text_of(ok(c->call_tool("other", Json::object(), calm))) == "ok");
    CHECK(c->alive());
}

// --- legacy HTTP+SSE ----------------------------------------------------------------------

TEST_CASE("legacy SSE: endpoint event, tools, echo, progress, notifications", "[mcp-client]") {
    EverythingServer server("sse");
    Inbox inbox;
    ClientOptions o;
    o.on_notification = [&](const std::string& method, const Json& params) { inbox.add(method, params); };
    auto transport = ok(SseTransport::create(sse_to(server.url("/sse"))));
    auto* sse = transport.get();
    auto c = connected(std::move(transport), o);
    CHECK_THAT(sse->endpoint(), Catch::StartsWith("/message?sessionId="));
    list_and_echo(*c);
    progress_arrives(*c);
    timeout_cancels(*c);
    CHECK(inbox.wait_for("notifications/tools/list_changed"));
    c->close();
    CHECK(!c->alive());
}

TEST_CASE("legacy SSE: a stream without an endpoint event is refused", "[mcp-client]") {
    JsonServer server;  // answers GET with 405
    auto url = server.url();
    Client c(ok(SseTransport::create(sse_to(url))), named("old"));
    auto s = c.connect();
    REQUIRE(!s.ok());
    CHECK_THAT(s.error().message, Catch::StartsWith("backend old: connect: GET " + url + ": HTTP 405"));
}

// --- the event-stream reader ------------------------------------------------------------------

TEST_CASE("SSE reader: events in any pieces, every line ending, comments, ids, retry", "[mcp-client]") {
    std::string stream =
        "\xEF\xBB\xBF: a comment\r\n"
        "retry: 2500\r\n"
        "id: 7\r\n"
        "data:\r\n"
        "\r\n"  // priming: an id with empty data
        "event: endpoint\n"
        "data: /message?x=1\n"
        "\n"
        "id: 8\r"
        "data: {\"a\":\r"
        "data:  1}\r"
        "\r"
        "data: no type\n\n";
    for (size_t piece : {size_t{1}, size_t{2}, size_t{5}, stream.size()}) {
        http::SseReader reader;
        std::vector<http::SseEvent> events;
        for (size_t i = 0; i < stream.size(); i += piece)
            REQUIRE(reader.feed(std::string_view(stream).substr(i, piece), [&](const http::SseEvent& e) {
                events.push_back(e);
                return true;
            }));
        INFO("pieces of " << piece);
        REQUIRE(events.size() == 4);
        CHECK(events[0].type == "message");
        CHECK(events[0].data.empty());
        CHECK(events[0].id == "7");
        CHECK(events[0].retry == 2500);
        CHECK(events[1].type == "endpoint");
        CHECK(events[1].data == "/message?x=1");
        CHECK(events[2].data == "{\"a\":\n 1}");
        CHECK(events[2].id == "8");
        CHECK(events[3].type == "message");
        CHECK(events[3].data == "no type");
        CHECK(reader.last_event_id() == "8");
        CHECK(reader.retry() == 2500);
    }
}

TEST_CASE("SSE reader: a sink can stop it; oversized events are dropped whole", "[mcp-client]") {
    http::SseReader reader(16);
    std::vector<std::string> data;
    auto sink = [&](const http::SseEvent& e) {
        data.push_back(e.data);
        return e.data != "stop";
    };
    CHECK(reader.feed("data: this is far too long for us\n\ndata: ok\n\n", sink));
    CHECK(reader.dropped() == 1);
    CHECK(!reader.feed("data: stop\n\ndata: unread\n\n", sink));
    CHECK(data == std::vector<std::string>{"ok", "stop"});
}
