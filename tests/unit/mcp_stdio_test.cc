// MCP over stdio through a pair of pipes: one message per line each way, the
// handshake, progress and cancellation while calls run on their own threads,
// parse errors, pushed list_changed, and the return at end of input.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "mcp/stdio_server.h"
#include "mcp_test_tools.h"

using namespace fracta;
using namespace fracta::mcp;
using namespace fracta::mcp::test;

namespace {

struct Pipes {
    int to_server[2] = {-1, -1};
    int from_server[2] = {-1, -1};
    std::string buffered;

    Pipes() {
        REQUIRE(::pipe2(to_server, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(from_server, O_CLOEXEC) == 0);
    }
    ~Pipes() {
        for (int fd : {to_server[0], to_server[1], from_server[0], from_server[1]})
            if (fd >= 0) ::close(fd);
    }
    void send_raw(const std::string& line) {
        std::string l = line + "\n";
        REQUIRE(::write(to_server[1], l.data(), l.size()) == static_cast<ssize_t>(l.size()));
    }
    void send(const Json& message) { send_raw(to_line(message)); }
    void close_input() {
        ::close(to_server[1]);
        to_server[1] = -1;
    }
    // The next line the server wrote ("" at end of output). A server that
    // says nothing for a minute fails the test rather than hanging it.
    std::string line() {
        for (;;) {
            auto nl = buffered.find('\n');
            if (nl != std::string::npos) {
                std::string l = buffered.substr(0, nl);
                buffered.erase(0, nl + 1);
                return l;
            }
            pollfd p{from_server[0], POLLIN, 0};
            REQUIRE(::poll(&p, 1, 60000) == 1);
            char buf[4096];
            ssize_t n = ::read(from_server[0], buf, sizeof buf);
            REQUIRE(n >= 0);
            if (n == 0) return "";
            buffered.append(buf, static_cast<size_t>(n));
        }
    }
    Json message() {
        std::string l = line();
        auto j = parse_json(l);
        if (!j) FAIL("not a JSON line: " << l);
        return *j;
    }
};

}  // namespace

TEST_CASE("mcp stdio: a whole session over a pipe pair", "[mcp]") {
    TestTools tools;
    ServerConfig c;
    c.name = "stdio-test";
    Server core(c, tools);
    Pipes pipes;
    StdioOptions o;
    o.in_fd = pipes.to_server[0];
    o.out_fd = pipes.from_server[1];
    StdioServer server(core, o);
    Status status = failure("not run");
    std::thread runner([&] { status = server.run(); });

    pipes.send_raw("{broken");
    Json parse = pipes.message();
    CHECK(parse["error"]["code"] == kParseError);
    CHECK(parse["id"].is_null());

    server.notify_tools_changed();  // not initialized yet: nothing goes out
    pipes.send(make_request(Id(1), "initialize",
                            {{"protocolVersion", "2025-11-25"},
                             {"capabilities", Json::object()},
                             {"clientInfo", {{"name", "cli"}, {"version", "1"}}}}));
    CHECK(pipes.message()["result"]["serverInfo"]["name"] == "stdio-test");
    pipes.send(make_notification("notifications/initialized"));
    pipes.send_raw("");  // blank lines are skipped
    pipes.send(make_request(Id(2), "tools/list"));
    CHECK(pipes.message()["result"]["tools"].size() == 6);

    // A call that blocks does not block the line after it: the cancel reaches it.
    pipes.send(make_request(Id(3), "tools/call", {{"name", "wait"}}));
    tools.await_started(1);
    pipes.send(make_request(Id(4), "ping"));
    CHECK(pipes.message()["id"] == 4);
    pipes.send(make_notification("notifications/cancelled", {{"requestId", 3}}));

    // Progress lines come before their response; nothing for the cancelled call.
    pipes.send(make_request(Id(5), "tools/call", {{"name", "progress"}, {"_meta", {{"progressToken", "k"}}}}));
    Json p1 = pipes.message();
    CHECK(p1["method"] == "notifications/progress");
    CHECK(p1["params"]["progressToken"] == "k");
    CHECK(pipes.message()["params"]["progress"] == 2.5);
    Json done = pipes.message();
    CHECK(done["id"] == 5);

    server.notify_tools_changed();
    CHECK(pipes.message()["method"] == "notifications/tools/list_changed");

    // Modern requests are answered on their own.
    pipes.send(make_request(Id(6), "server/discover", {{"_meta", modern_meta()}}));
    CHECK(pipes.message()["result"]["resultType"] == "complete");

    // A call still running at end of input answers before run() returns.
    tools.started = 0;
    pipes.send(make_request(Id(7), "tools/call", {{"name", "wait"}}));
    tools.await_started(1);
    pipes.close_input();
    tools.release();
    Json last = pipes.message();
    CHECK(last["id"] == 7);
    CHECK(last["result"]["content"][0]["text"] == "released");
    runner.join();
    CHECK(status.ok());
    CHECK(tools.saw_cancel == 1);
    ::close(pipes.from_server[1]);
    pipes.from_server[1] = -1;
    CHECK(pipes.line().empty());  // nothing else was written
}

TEST_CASE("mcp stdio: overlong lines and batches", "[mcp]") {
    TestTools tools;
    Server core(ServerConfig{}, tools);
    Pipes pipes;
    StdioOptions o;
    o.in_fd = pipes.to_server[0];
    o.out_fd = pipes.from_server[1];
    o.max_line = 1000;
    StdioServer server(core, o);
    std::thread runner([&] { (void)server.run(); });

    pipes.send_raw(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":")" + std::string(5000, 'x') + "\"}}");
    CHECK(pipes.message()["error"]["code"] == kParseError);
    pipes.send(make_request(Id(2), "ping"));  // the stream is back in step
    CHECK(pipes.message()["id"] == 2);

    Json batch = Json::array({make_request(Id(3), "ping"), make_request(Id(4), "ping")});
    pipes.send(batch);  // no session yet: batches are refused
    CHECK(pipes.message()["error"]["code"] == kInvalidRequest);
    pipes.send(make_request(Id(1), "initialize", {{"protocolVersion", "2025-03-26"}}));
    CHECK(pipes.message()["result"]["protocolVersion"] == "2025-03-26");
    pipes.send(batch);
    Json replies = pipes.message();
    REQUIRE(replies.is_array());
    CHECK(replies.size() == 2);

    pipes.close_input();
    runner.join();
}
