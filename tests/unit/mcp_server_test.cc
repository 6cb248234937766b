// The MCP server core without a transport: the legacy handshake and version
// negotiation, tools/list pages, tools/call results and errors, progress,
// cancellation, concurrent calls, and the modern era (server/discover,
// required _meta, unsupported versions, result decorations).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "mcp/server.h"
#include "mcp_test_tools.h"

using namespace fracta;
using namespace fracta::mcp;
using namespace fracta::mcp::test;

namespace {

ServerConfig config() {
    ServerConfig c;
    c.name = "fracta-test";
    c.version = "9.9";
    c.instructions = "use the tools";
    c.page_size = 100;
    return c;
}

Json call(const Server& s, Session& session, const Json& wire, const Emit& emit = {}) {
    auto r = s.handle(session, to_message(wire), emit);
    REQUIRE(r.has_value());
    return *r;
}

Json request(int id, const std::string& method, Json params = nullptr) {
    return make_request(Id(id), method, params);
}

Json initialize(const std::string& version) {
    return request(1, "initialize",
                   {{"protocolVersion", version},
                    {"capabilities", Json::object()},
                    {"clientInfo", {{"name", "c"}, {"version", "1"}}}});
}

void handshake(const Server& s, Session& session, const std::string& version = "2025-11-25") {
    call(s, session, initialize(version));
    CHECK_FALSE(s.handle(session, to_message(make_notification("notifications/initialized"))));
}

int error_code(const Json& reply) {
    return reply.at("error").at("code").get<int>();
}

}  // namespace

TEST_CASE("mcp server: initialize negotiates the version and describes the server", "[mcp]") {
    TestTools tools;
    Server s(config(), tools);
    for (const char* v : {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}) {
        Session session;
        Json r = call(s, session, initialize(v));
        CHECK(r["id"] == 1);
        CHECK(r["result"]["protocolVersion"] == v);
        CHECK(session.protocol_version() == v);
    }
    Session old;
    CHECK(call(s, old, initialize("2024-10-07"))["result"]["protocolVersion"] == "2025-11-25");
    Session future;
    CHECK(call(s, future, initialize("2099-01-01"))["result"]["protocolVersion"] == "2025-11-25");

    Session session;
    Json r = call(s, session, initialize("2025-06-18"))["result"];
    CHECK(r["serverInfo"] == Json{{"name", "fracta-test"}, {"version", "9.9"}});
    CHECK(r["capabilities"]["tools"]["listChanged"] == true);
    CHECK(r["instructions"] == "use the tools");
    CHECK(session.initialized());
    CHECK_FALSE(session.ready());
    CHECK(session.client_info()["name"] == "c");
    CHECK_FALSE(s.handle(session, to_message(make_notification("notifications/initialized"))));
    CHECK(session.ready());

    // Only once per session; and a version is required.
    CHECK(error_code(call(s, session, initialize("2025-06-18"))) == kInvalidRequest);
    Session bare;
    CHECK(error_code(call(s, bare, request(1, "initialize", Json::object()))) == kInvalidParams);
    CHECK_FALSE(bare.initialized());
}

TEST_CASE("mcp server: before initialize only ping is served", "[mcp]") {
    TestTools tools;
    Server s(config(), tools);
    Session session;
    CHECK(call(s, session, request(1, "ping"))["result"] == Json::object());
    CHECK(error_code(call(s, session, request(2, "tools/list"))) == kInvalidRequest);
    CHECK(error_code(call(s, session, request(3, "no/such"))) == kMethodNotFound);
    handshake(s, session);
    CHECK(call(s, session, request(4, "ping"))["result"] == Json::object());
    CHECK(error_code(call(s, session, request(5, "resources/list"))) == kMethodNotFound);
    CHECK(error_code(call(s, session, request(6, "tools/list", Json::array({1})))) == kInvalidParams);
    // A response from the client, or an unknown notification: nothing to say.
    CHECK_FALSE(s.handle(session, to_message(make_result(Id(9), Json::object()))));
    CHECK_FALSE(s.handle(session, to_message(make_notification("notifications/whatever"))));
}

TEST_CASE("mcp server: tools/list pages through 250 tools with opaque cursors", "[mcp]") {
    TestTools tools(244);  // 6 named ones + 244 = 250
    Server s(config(), tools);
    Session session;
    handshake(s, session);

    std::vector<std::string> names;
    Json cursor;
    int pages = 0;
    for (;;) {
        Json params = Json::object();
        if (!cursor.is_null()) params["cursor"] = cursor;
        Json r = call(s, session, request(10 + pages, "tools/list", params))["result"];
        pages++;
        for (const auto& t : r["tools"]) {
            names.push_back(t["name"]);
            CHECK(t["inputSchema"]["type"] == "object");
        }
        if (!r.contains("nextCursor")) break;
        cursor = r["nextCursor"];
        CHECK(cursor.is_string());
        REQUIRE(pages < 10);
    }
    CHECK(pages == 3);
    REQUIRE(names.size() == 250);
    CHECK(names[0] == "echo");
    CHECK(names[100] == "tool_094");
    CHECK(names[249] == "tool_243");
    CHECK_FALSE(s.handle(session, to_message(request(1, "tools/list")))->at("result").contains("ttlMs"));

    for (Json bad : {Json("nonsense"), Json("c"), Json("cZZ"), Json(42), Json("cffff")}) {
        Json r = call(s, session, request(99, "tools/list", {{"cursor", bad}}));
        CHECK(error_code(r) == kInvalidParams);
    }
}

TEST_CASE("mcp server: tools/call results, tool failures and protocol errors", "[mcp]") {
    TestTools tools;
    Server s(config(), tools);
    Session session;
    handshake(s, session);

    Json ok = call(s, session, request(2, "tools/call", {{"name", "echo"}, {"arguments", {{"message", "hi"}}}}));
    CHECK(ok["result"]["content"][0]["text"] == "hi");
    CHECK_FALSE(ok["result"].contains("resultType"));  // legacy results stay as they were

    Json failed = call(s, session, request(3, "tools/call", {{"name", "fail"}}));
    CHECK(failed["result"]["isError"] == true);
    CHECK(failed["result"]["content"][0]["text"] == "the backend is down");

    Json threw = call(s, session, request(4, "tools/call", {{"name", "throw"}}));
    CHECK(threw["result"]["isError"] == true);
    CHECK(threw["result"]["content"][0]["text"].get<std::string>().find("kaboom") != std::string::npos);

    CHECK(error_code(call(s, session, request(5, "tools/call", {{"name", "nope"}}))) == kInvalidParams);
    CHECK(error_code(call(s, session, request(6, "tools/call", Json::object()))) == kInvalidParams);
    CHECK(error_code(call(s, session, request(7, "tools/call", {{"name", 3}}))) == kInvalidParams);
    CHECK(error_code(call(s, session, request(8, "tools/call", {{"name", "echo"}, {"arguments", "x"}}))) ==
          kInvalidParams);

    Json ctx = call(s, session, request(9, "tools/call", {{"name", "context"}, {"_meta", {{"traceparent", "00-ab"}}}}));
    CHECK(ctx["result"]["structuredContent"]["session"] == session.id());
    CHECK(ctx["result"]["structuredContent"]["version"] == "2025-11-25");
    CHECK(ctx["result"]["structuredContent"]["meta"]["traceparent"] == "00-ab");
}

TEST_CASE("mcp server: progress goes out with the request's token, increasing, until the response", "[mcp]") {
    TestTools tools;
    Server s(config(), tools);
    Session session;
    handshake(s, session);

    std::vector<Json> sent;
    Emit emit = [&](const Json& n) { sent.push_back(n); };
    Json params = {{"name", "progress"}, {"_meta", {{"progressToken", "tok-1"}}}};
    Json r = call(s, session, request(2, "tools/call", params), emit);
    CHECK(r["result"]["content"][0]["text"] == "done");
    REQUIRE(sent.size() == 2);
    CHECK(sent[0]["method"] == "notifications/progress");
    CHECK(sent[0]["params"] ==
          Json{{"progressToken", "tok-1"}, {"progress", 1.0}, {"total", 3.0}, {"message", "first"}});
    CHECK(sent[1]["params"] == Json{{"progressToken", "tok-1"}, {"progress", 2.5}});

    tools.late_progress(7, std::nullopt, "after the response");
    CHECK(sent.size() == 2);

    // No token: the tool's reports go nowhere.
    sent.clear();
    call(s, session, request(3, "tools/call", {{"name", "progress"}}), emit);
    CHECK(sent.empty());

    // 2024-11-05 has no progress message.
    Session old;
    handshake(s, old, "2024-11-05");
    call(s, old, request(4, "tools/call", {{"name", "progress"}, {"_meta", {{"progressToken", 5}}}}), emit);
    REQUIRE(sent.size() == 2);
    CHECK(sent[0]["params"] == Json{{"progressToken", 5}, {"progress", 1.0}, {"total", 3.0}});
}

TEST_CASE("mcp server: a cancelled call gets no response, others carry on", "[mcp]") {
    TestTools tools;
    Server s(config(), tools);
    Session session;
    handshake(s, session);

    std::optional<Json> cancelled_reply = Json("unset"), released_reply;
    std::thread a([&] {
        cancelled_reply = s.handle(session, to_message(request(7, "tools/call", {{"name", "wait"}})));
    });
    std::thread b([&] {
        released_reply = s.handle(session, to_message(request(8, "tools/call", {{"name", "wait"}})));
    });
    tools.await_started(2);
    CHECK(session.in_flight() == 2);

    // Unknown ids and malformed notifications are harmless races.
    CHECK_FALSE(s.handle(session, to_message(make_notification("notifications/cancelled", {{"requestId", 99}}))));
    CHECK_FALSE(s.handle(session, to_message(make_notification("notifications/cancelled", Json::object()))));
    CHECK_FALSE(s.handle(
        session, to_message(make_notification("notifications/cancelled", {{"requestId", 7}, {"reason", "user"}}))));
    a.join();
    CHECK_FALSE(cancelled_reply.has_value());
    CHECK(tools.saw_cancel == 1);

    tools.release();
    b.join();
    REQUIRE(released_reply.has_value());
    CHECK((*released_reply)["result"]["content"][0]["text"] == "released");
    CHECK(session.in_flight() == 0);
}

TEST_CASE("mcp server: a request id in flight cannot be reused, and many calls run at once", "[mcp]") {
    TestTools tools;
    Server s(config(), tools);
    Session session;
    handshake(s, session);

    std::thread a([&] { s.handle(session, to_message(request(1, "tools/call", {{"name", "wait"}}))); });
    tools.await_started(1);
    CHECK(error_code(call(s, session, request(1, "tools/call", {{"name", "echo"}}))) == kInvalidRequest);
    tools.release();
    a.join();

    std::vector<std::thread> threads;
    std::atomic<int> good{0};
    for (int t = 0; t < 8; t++)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; i++) {
                std::string msg = std::to_string(t) + "/" + std::to_string(i);
                auto r = s.handle(session, to_message(request(1000 * t + i, "tools/call",
                                                              {{"name", "echo"}, {"arguments", {{"message", msg}}}})));
                if (r && (*r)["result"]["content"][0]["text"] == msg) good++;
            }
        });
    for (auto& t : threads) t.join();
    CHECK(good == 400);
}

TEST_CASE("mcp server: modern requests are stateless and checked", "[mcp]") {
    TestTools tools(150);
    ServerConfig c = config();
    c.ttl_ms = 60000;
    Server s(c, tools);
    Session session;  // never initialized

    Json d = call(s, session, request(1, "server/discover", {{"_meta", modern_meta()}}))["result"];
    CHECK(d["supportedVersions"] == Json::array({"2026-07-28"}));
    CHECK(d["capabilities"].contains("tools"));
    CHECK(d["instructions"] == "use the tools");
    CHECK(d["ttlMs"] == 60000);
    CHECK(d["cacheScope"] == "private");
    CHECK(d["resultType"] == "complete");
    CHECK(d["_meta"][kMetaServerInfo]["name"] == "fracta-test");

    Json list = call(s, session, request(2, "tools/list", {{"_meta", modern_meta()}}))["result"];
    CHECK(list["tools"].size() == 100);
    CHECK(list["ttlMs"] == 60000);
    CHECK(list["cacheScope"] == "private");
    CHECK(list["resultType"] == "complete");
    CHECK(list["_meta"][kMetaServerInfo]["version"] == "9.9");
    Json next = call(s, session,
                     request(3, "tools/list", {{"_meta", modern_meta()}, {"cursor", list["nextCursor"]}}))["result"];
    CHECK(next["tools"].size() == 56);
    CHECK_FALSE(next.contains("nextCursor"));

    Json r = call(s, session,
                  request(4, "tools/call",
                          {{"_meta", modern_meta()}, {"name", "echo"}, {"arguments", {{"message", "m"}}}}))["result"];
    CHECK(r["content"][0]["text"] == "m");
    CHECK(r["resultType"] == "complete");
    CHECK(r["_meta"][kMetaServerInfo]["name"] == "fracta-test");
    CHECK_FALSE(r.contains("ttlMs"));

    Json ctx = call(s, session, request(5, "tools/call", {{"_meta", modern_meta()}, {"name", "context"}}));
    CHECK(ctx["result"]["structuredContent"]["version"] == "2026-07-28");
    CHECK(ctx["result"]["structuredContent"]["meta"][kMetaClientInfo]["name"] == "test");
    CHECK_FALSE(session.initialized());

    // Errors: unsupported version, missing _meta, removed and unknown methods.
    Json v = call(s, session, request(6, "tools/list", {{"_meta", modern_meta("2099-01-01")}}));
    CHECK(error_code(v) == kUnsupportedProtocolVersion);
    CHECK(v["error"]["data"]["supported"] == Json::array({"2026-07-28"}));
    CHECK(v["error"]["data"]["requested"] == "2099-01-01");
    CHECK(error_code(call(s, session, request(7, "tools/list", {{"_meta", modern_meta("2025-11-25")}}))) ==
          kUnsupportedProtocolVersion);

    Json no_caps = modern_meta();
    no_caps.erase(kMetaClientCapabilities);
    CHECK(error_code(call(s, session, request(8, "tools/list", {{"_meta", no_caps}}))) == kInvalidParams);
    Json bad_version = modern_meta();
    bad_version[kMetaProtocolVersion] = 2026;
    CHECK(error_code(call(s, session, request(9, "tools/list", {{"_meta", bad_version}}))) == kInvalidParams);
    CHECK(error_code(call(s, session, request(10, "server/discover"))) == kInvalidParams);

    CHECK(error_code(call(s, session, request(11, "ping", {{"_meta", modern_meta()}}))) == kMethodNotFound);
    CHECK(error_code(call(s, session, request(12, "initialize", {{"_meta", modern_meta()}}))) == kMethodNotFound);
    CHECK(error_code(call(s, session, request(13, "nope", {{"_meta", modern_meta()}}))) == kMethodNotFound);
    CHECK(error_code(call(s, session, request(14, "tools/call", {{"_meta", modern_meta()}, {"name", "zz"}}))) ==
          kInvalidParams);

    CHECK(Server::is_modern(to_message(request(1, "x", {{"_meta", modern_meta()}}))));
    CHECK_FALSE(Server::is_modern(to_message(request(1, "x", {{"_meta", {{"progressToken", 1}}}}))));
}

TEST_CASE("mcp server: one session serves both eras side by side", "[mcp]") {
    TestTools tools;
    Server s(config(), tools);
    Session session;
    handshake(s, session, "2025-06-18");
    Json legacy = call(s, session, request(2, "tools/list"))["result"];
    Json modern = call(s, session, request(3, "tools/list", {{"_meta", modern_meta()}}))["result"];
    CHECK(legacy["tools"] == modern["tools"]);
    CHECK_FALSE(legacy.contains("resultType"));
    CHECK(modern["resultType"] == "complete");
}

TEST_CASE("mcp server: the tool source can differ per call", "[mcp]") {
    TestTools fallback;
    TestTools other(3);
    Server s(config(), fallback);
    Session session;
    handshake(s, session);
    auto count = [&](ToolSource& src) {
        auto r = s.handle(session, to_message(request(2, "tools/list")), src);
        return (*r)["result"]["tools"].size();
    };
    CHECK(count(fallback) == 6);
    CHECK(count(other) == 9);
}

TEST_CASE("mcp server: Tool to and from JSON", "[mcp]") {
    auto t = Tool::from_json(Json::parse(R"({"name":"a","title":"A","description":"d",
        "inputSchema":{"type":"object","properties":{"x":{"type":"string"}}},
        "outputSchema":{"type":"object"},"annotations":{"readOnlyHint":true},
        "icons":[{"src":"i.png"}],"_meta":{"k":1}})"));
    REQUIRE(t.ok());
    CHECK(t->name == "a");
    CHECK(t->title == "A");
    CHECK(t->annotations["readOnlyHint"] == true);
    CHECK(t->extra["icons"][0]["src"] == "i.png");
    Json back = t->to_json();
    CHECK(back["_meta"]["k"] == 1);
    CHECK(back["inputSchema"]["properties"]["x"]["type"] == "string");
    CHECK_FALSE(Tool::from_json(Json::parse(R"({"title":"x"})")).ok());
    CHECK_FALSE(Tool::from_json(Json::parse(R"({"name":1})")).ok());
    Tool bare;
    bare.name = "b";
    CHECK(bare.to_json() == Json::parse(R"({"name":"b","inputSchema":{"type":"object"}})"));
}

namespace {

// Set by a thread-local's destructor, which runs when its thread exits, after
// the job returned: slow, so a thread left to exit on its own is seen still
// at it.
std::atomic<int> threads_exited{0};
struct SlowExit {
    bool used = false;
    ~SlowExit() {
        if (!used) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
        threads_exited++;
    }
};
thread_local SlowExit slow_exit;

}  // namespace

TEST_CASE("mcp server: call threads are joined, the finished ones as new calls come", "[mcp]") {
    threads_exited = 0;
    {
        CallThreads threads(8);
        for (int i = 0; i < 3; i++) threads.run([] { slow_exit.used = true; });
        CHECK(threads.threads() == 3);
        threads.wait_idle();
        // Every thread has exited (its thread-local state gone), not only its job returned.
        CHECK(threads_exited == 3);
        CHECK(threads.threads() == 0);

        std::atomic<bool> release{false};
        threads.run([&] {
            while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        });
        threads.run([] {});
        while (threads.running() > 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        CHECK(threads.threads() == 2);  // the quick one's thread is reaped by the next run
        threads.run([&] { release = true; });
        CHECK(threads.threads() == 2);  // that one joined, the new one not yet
        threads.run([] { slow_exit.used = true; });
    }
    CHECK(threads_exited == 4);  // the destructor joined the last one
}
