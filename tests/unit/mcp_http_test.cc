// MCP over HTTP through a real http::Server on 127.0.0.1: the streamable
// HTTP rules of both eras (406/415/400/404/405/409/202, sessions from
// initialize to DELETE, SSE answers with progress, the GET push stream,
// -32020 header checks, -32022), the legacy HTTP+SSE transport, sessions
// bound to their scope, and the bounded session table. Requests go out
// through libcurl directly, to set any header.
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "http/server.h"
#include "http/sse.h"
#include "mcp/http_server.h"
#include "mcp_test_tools.h"

using namespace fracta;
using namespace fracta::mcp;
using namespace fracta::mcp::test;
using namespace std::chrono_literals;

namespace {

struct Reply {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-cased names

    Json json() const {
        auto j = parse_json(body);
        if (!j) FAIL("not JSON (" << j.error().message << "): " << body);
        return *j;
    }
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

size_t on_header(char* data, size_t size, size_t n, void* cls) {
    std::string line(data, size * n);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
            value.pop_back();
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        static_cast<Reply*>(cls)->headers[name] = value;
    }
    return size * n;
}

struct Sink {
    Reply* reply;
    std::function<bool(const std::string& body)> more;  // false: stop reading
};

size_t on_body(char* data, size_t size, size_t n, void* cls) {
    auto* sink = static_cast<Sink*>(cls);
    sink->reply->body.append(data, size * n);
    if (sink->more && !sink->more(sink->reply->body)) return 0;  // abort: we have what we wanted
    return size * n;
}

// One HTTP exchange; `more` (if set) sees the body so far and may stop it.
Reply exchange(const std::string& method, const std::string& url, const std::vector<std::string>& headers,
               const std::string& body = "", std::function<bool(const std::string&)> more = {}) {
    Reply reply;
    Sink sink{&reply, std::move(more)};
    CURL* c = curl_easy_init();
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &reply);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    reply.status = static_cast<int>(status);
    // No FAIL here: readers run on their own threads, where Catch must not be
    // used. A transport failure shows as status -1 with curl's reason.
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && sink.more)) {
        reply.status = -1;
        reply.body = std::string("curl: ") + curl_easy_strerror(rc);
    }
    return reply;
}

// The data of every `event` frame in an SSE body, in order.
std::vector<std::string> sse_events(const std::string& body, const std::string& event = "message") {
    std::vector<std::string> out;
    http::SseReader p;
    p.feed(body, [&](const http::SseEvent& f) {
        if (f.type == event) out.push_back(f.data);
        return true;
    });
    return out;
}

const std::string kAccept = "Accept: application/json, text/event-stream";
const std::string kJson = "Content-Type: application/json";

// A gateway in miniature: /agents/<task>/{mcp,sse,messages}, each agent with
// its own scope; agent "other" sees a different tool source.
struct Gateway {
    std::shared_ptr<TestTools> tools = std::make_shared<TestTools>();
    std::shared_ptr<TestTools> other_tools = std::make_shared<TestTools>(2);
    std::unique_ptr<Server> core;
    std::unique_ptr<HttpEndpoint> endpoint;
    std::unique_ptr<http::Server> http;
    std::string base;

    explicit Gateway(HttpEndpointOptions o = {}) {
        ServerConfig c;
        c.name = "gw";
        c.version = "1";
        core = std::make_unique<Server>(c, *tools);
        o.heartbeat = 50ms;
        endpoint = std::make_unique<HttpEndpoint>(*core, o);
        http::Router router;
        auto binding = [this](const http::Request& r) {
            std::string task = r.params.at("task");
            return Binding{task, task == "other" ? std::static_pointer_cast<ToolSource>(other_tools)
                                                 : std::static_pointer_cast<ToolSource>(tools)};
        };
        for (const char* m : {"GET", "POST", "DELETE", "PUT"})
            router.add(m, "/agents/{task}/mcp",
                       [this, binding](const http::Request& r) { return endpoint->handle(r, binding(r)); });
        router.add("GET", "/agents/{task}/sse", [this, binding](const http::Request& r) {
            return endpoint->handle_sse(r, binding(r), "/agents/" + r.params.at("task") + "/messages");
        });
        router.add("POST", "/agents/{task}/messages",
                   [this, binding](const http::Request& r) { return endpoint->handle_messages(r, binding(r)); });
        http::ServerOptions so;
        so.thread_per_connection = true;
        auto s = http::Server::listen_tcp("127.0.0.1:0", router.handler(), so);
        REQUIRE(s.ok());
        http = std::move(s).value();
        base = "http://" + http->address();
    }
    ~Gateway() {
        tools->release();
        endpoint->close_streams();
        http->stop();
    }

    std::string url(const std::string& task = "t1", const std::string& leaf = "mcp") const {
        return base + "/agents/" + task + "/" + leaf;
    }

    Reply post(const Json& body, std::vector<std::string> headers = {}, const std::string& task = "t1") {
        headers.push_back(kAccept);
        headers.push_back(kJson);
        return exchange("POST", url(task), headers, to_line(body));
    }

    // initialize + initialized: the session id.
    std::string open_session(const std::string& version = "2025-11-25", const std::string& task = "t1") {
        Reply r = post(make_request(Id(1), "initialize",
                                    {{"protocolVersion", version},
                                     {"capabilities", Json::object()},
                                     {"clientInfo", {{"name", "t"}, {"version", "1"}}}}),
                       {}, task);
        REQUIRE(r.status == 200);
        std::string sid = r.header("mcp-session-id");
        REQUIRE(sid.size() == 32);
        Reply n = post(make_notification("notifications/initialized"), session_headers(sid, version), task);
        REQUIRE(n.status == 202);
        return sid;
    }

    static std::vector<std::string> session_headers(const std::string& sid, const std::string& version = "2025-11-25") {
        return {"Mcp-Session-Id: " + sid, "MCP-Protocol-Version: " + version};
    }
};

Json modern_request(int id, const std::string& method, Json params = Json::object()) {
    params["_meta"] = modern_meta();
    return make_request(Id(id), method, params);
}

std::vector<std::string> modern_headers(const std::string& method, const std::string& name = "") {
    std::vector<std::string> h = {"MCP-Protocol-Version: 2026-07-28", "Mcp-Method: " + method};
    if (!name.empty()) h.push_back("Mcp-Name: " + name);
    return h;
}

// Reads one GET stream on its own thread; stopped (at the next keep-alive
// at the latest) and joined however the test ends.
struct StreamReader {
    std::mutex mu;
    std::string body;
    int status = 0;
    std::atomic<bool> stop{false};
    std::thread thread;

    StreamReader(std::string url, std::vector<std::string> headers) {
        thread = std::thread([this, url = std::move(url), headers = std::move(headers)] {
            Reply r = exchange("GET", url, headers, "", [this](const std::string& b) {
                std::lock_guard lock(mu);
                body = b;
                return !stop.load();
            });
            std::lock_guard lock(mu);
            status = r.status;
        });
    }
    ~StreamReader() { finish(); }
    void finish() {
        stop = true;
        if (thread.joinable()) thread.join();
    }
    std::string text() {
        std::lock_guard lock(mu);
        return body;
    }
    std::vector<std::string> events(const std::string& kind = "message") { return sse_events(text(), kind); }
};

// Retry `check` until it holds (state the server updates on its own threads).
template <class F>
bool eventually(F check) {
    for (int i = 0; i < 500; i++) {
        if (check()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return check();
}

}  // namespace

TEST_CASE("mcp http: POST is refused on bad Accept, Content-Type or JSON", "[mcp]") {
    Gateway gw;
    Json ping = make_request(Id(1), "ping");
    Reply r = exchange("POST", gw.url(), {"Accept: application/json", kJson}, to_line(ping));
    CHECK(r.status == 406);
    r = exchange("POST", gw.url(), {"Accept: text/event-stream", kJson}, to_line(ping));
    CHECK(r.status == 406);
    r = exchange("POST", gw.url(), {kAccept, "Content-Type: text/plain"}, to_line(ping));
    CHECK(r.status == 415);
    r = exchange("POST", gw.url(), {kAccept, "Content-Type: application/json; charset=utf-8"}, "{oops");
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["code"] == kParseError);
    r = exchange("POST", gw.url(), {kAccept, kJson}, R"({"jsonrpc":"2.0","id":4,"method":12})");
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["code"] == kInvalidRequest);
    CHECK(r.json()["id"] == 4);
    r = exchange("PUT", gw.url(), {kAccept, kJson}, "");
    CHECK(r.status == 405);
}

TEST_CASE("mcp http: a legacy session from initialize to DELETE", "[mcp]") {
    Gateway gw;
    Reply init = gw.post(make_request(Id(1), "initialize",
                                      {{"protocolVersion", "2025-06-18"},
                                       {"capabilities", Json::object()},
                                       {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
    REQUIRE(init.status == 200);
    CHECK(init.header("content-type") == "application/json");
    CHECK(init.json()["result"]["protocolVersion"] == "2025-06-18");
    std::string sid = init.header("mcp-session-id");
    REQUIRE(sid.size() == 32);
    CHECK(gw.endpoint->session_count() == 1);

    auto h = Gateway::session_headers(sid, "2025-06-18");
    Reply note = gw.post(make_notification("notifications/initialized"), h);
    CHECK(note.status == 202);
    CHECK(note.body.empty());

    Reply list = gw.post(make_request(Id(2), "tools/list"), h);
    CHECK(list.status == 200);
    CHECK(list.json()["result"]["tools"].size() == 6);
    Reply call = gw.post(make_request(Id(3), "tools/call", {{"name", "echo"}, {"arguments", {{"message", "yo"}}}}), h);
    CHECK(call.json()["result"]["content"][0]["text"] == "yo");
    Reply unknown_tool = gw.post(make_request(Id(4), "tools/call", {{"name", "nope"}}), h);
    CHECK(unknown_tool.status == 200);
    CHECK(unknown_tool.json()["error"]["code"] == kInvalidParams);
    Reply unknown_method = gw.post(make_request(Id(5), "prompts/list"), h);
    CHECK(unknown_method.json()["error"]["code"] == kMethodNotFound);

    // A response from the client is acknowledged like a notification.
    CHECK(gw.post(make_result(Id(77), Json::object()), h).status == 202);

    CHECK(gw.post(make_request(Id(6), "tools/list")).status == 400);  // no session id
    CHECK(gw.post(make_request(Id(7), "tools/list"), {"Mcp-Session-Id: 0123456789abcdef"}).status == 404);
    CHECK(gw.post(make_request(Id(8), "tools/list"), {"Mcp-Session-Id: " + sid, "MCP-Protocol-Version: 1999-01-01"})
              .status == 400);
    CHECK(gw.post(make_request(Id(9), "tools/list"), {"Mcp-Session-Id: " + sid}).status == 200);  // header optional

    // The same id from another agent's path is unknown there.
    CHECK(gw.post(make_request(Id(10), "tools/list"), h, "t2").status == 404);

    CHECK(exchange("DELETE", gw.url(), {}).status == 405);
    CHECK(exchange("DELETE", gw.url(), {"Mcp-Session-Id: nope"}).status == 404);
    CHECK(exchange("DELETE", gw.url(), h).status == 200);
    CHECK(gw.endpoint->session_count() == 0);
    CHECK(gw.post(make_request(Id(11), "tools/list"), h).status == 404);
}

TEST_CASE("mcp http: a failed initialize leaves no session", "[mcp]") {
    Gateway gw;
    Reply r = gw.post(make_request(Id(1), "initialize", Json::object()));
    CHECK(r.status == 200);
    CHECK(r.json()["error"]["code"] == kInvalidParams);
    CHECK(r.header("mcp-session-id").empty());
    CHECK(gw.endpoint->session_count() == 0);
}

TEST_CASE("mcp http: each agent sees its own tools", "[mcp]") {
    Gateway gw;
    std::string a = gw.open_session("2025-11-25", "t1");
    std::string b = gw.open_session("2025-11-25", "other");
    CHECK(gw.post(make_request(Id(2), "tools/list"), Gateway::session_headers(a), "t1")
              .json()["result"]["tools"]
              .size() == 6);
    CHECK(gw.post(make_request(Id(2), "tools/list"), Gateway::session_headers(b), "other")
              .json()["result"]["tools"]
              .size() == 8);
}

TEST_CASE("mcp http: a call that reports progress is answered as an SSE stream", "[mcp]") {
    Gateway gw;
    std::string sid = gw.open_session();
    Json call = make_request(Id(5), "tools/call", {{"name", "progress"}, {"_meta", {{"progressToken", "p"}}}});
    Reply r = gw.post(call, Gateway::session_headers(sid));
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "text/event-stream");
    CHECK(r.header("x-accel-buffering") == "no");
    auto events = sse_events(r.body);
    REQUIRE(events.size() == 3);
    Json p1 = Json::parse(events[0]), p2 = Json::parse(events[1]), done = Json::parse(events[2]);
    CHECK(p1["method"] == "notifications/progress");
    CHECK(p1["params"]["progressToken"] == "p");
    CHECK(p1["params"]["progress"] == 1.0);
    CHECK(p2["params"]["progress"] == 2.5);
    CHECK(done["id"] == 5);
    CHECK(done["result"]["content"][0]["text"] == "done");

    // Without a token: plain JSON.
    Reply plain = gw.post(make_request(Id(6), "tools/call", {{"name", "progress"}}), Gateway::session_headers(sid));
    CHECK(plain.header("content-type") == "application/json");
}

TEST_CASE("mcp http: a cancelled call's POST ends without a response", "[mcp]") {
    Gateway gw;
    std::string sid = gw.open_session();
    auto h = Gateway::session_headers(sid);
    Reply waited;
    std::thread t([&] { waited = gw.post(make_request(Id(9), "tools/call", {{"name", "wait"}}), h); });
    gw.tools->await_started(1);
    Reply cancel = gw.post(make_notification("notifications/cancelled", {{"requestId", 9}}), h);
    CHECK(cancel.status == 202);
    t.join();
    CHECK(waited.status == 202);
    CHECK(waited.body.empty());
    CHECK(gw.tools->saw_cancel == 1);
}

namespace {

// Send one raw HTTP POST to `port`, and once `sent` returns (the call is
// running) hang up without reading the answer: a client that gave up.
void post_and_hang_up(int port, const std::string& path, const std::vector<std::string>& headers,
                      const std::string& body, const std::function<void()>& sent) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    std::string req =
        "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& h : headers) req += h + "\r\n";
    req += "\r\n" + body;
    REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    sent();
    ::close(fd);
}

}  // namespace

TEST_CASE("mcp http: a stateless call whose client hangs up is cancelled (JSON and SSE answers)", "[mcp]") {
    Gateway gw;
    Json call = modern_request(1, "tools/call", {{"name", "wait"}});
    auto headers = modern_headers("tools/call", "wait");
    headers.push_back(kAccept);
    headers.push_back(kJson);
    post_and_hang_up(gw.http->port(), "/agents/t1/mcp", headers, to_line(call), [&] { gw.tools->await_started(1); });
    CHECK(eventually([&] { return gw.tools->saw_cancel == 1; }));

    // With a progress token the answer is an SSE stream: closing it cancels too.
    Json streamed = call;
    streamed["params"]["_meta"]["progressToken"] = "p";
    post_and_hang_up(gw.http->port(), "/agents/t1/mcp", headers, to_line(streamed),
                     [&] { gw.tools->await_started(2); });
    CHECK(eventually([&] { return gw.tools->saw_cancel == 2; }));

    // A client that stays gets its answer.
    std::thread releaser([&] {
        gw.tools->await_started(3);
        gw.tools->release();
    });
    Reply r = gw.post(call, modern_headers("tools/call", "wait"));
    releaser.join();
    CHECK(r.status == 200);
    CHECK(r.json()["result"]["content"][0]["text"] == "released");
    CHECK(gw.tools->saw_cancel == 2);
}

TEST_CASE("mcp http: oversized bodies, non-object payloads and sessionless batches", "[mcp]") {
    HttpEndpointOptions o;
    o.max_body = 1000;
    Gateway gw(o);
    Json big = make_request(Id(1), "ping", {{"pad", std::string(2000, 'x')}});
    Reply r = gw.post(big);
    CHECK(r.status == 413);
    for (const char* payload : {"\"a string\"", "42", "null"}) {
        r = exchange("POST", gw.url(), {kAccept, kJson}, payload);
        CHECK(r.status == 400);
        CHECK(r.json()["error"]["code"] == kInvalidRequest);
    }
    Json batch = Json::array({make_request(Id(1), "ping")});
    r = gw.post(batch);
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["code"] == kInvalidRequest);
    r = gw.post(batch, {"MCP-Protocol-Version: 2026-07-28"});
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["code"] == kInvalidRequest);
    // the endpoint still answers
    CHECK(gw.post(modern_request(2, "server/discover"), modern_headers("server/discover")).status == 200);
}

TEST_CASE("mcp http: the GET stream pushes list_changed, one stream per session", "[mcp]") {
    Gateway gw;
    CHECK(exchange("GET", gw.url(), {"Accept: text/event-stream"}).status == 405);  // no session: not offered
    std::string sid = gw.open_session();
    auto h = Gateway::session_headers(sid);
    h.push_back("Accept: text/event-stream");
    CHECK(exchange("GET", gw.url(), {"Mcp-Session-Id: nope", "Accept: text/event-stream"}).status == 404);
    CHECK(exchange("GET", gw.url(), {"Mcp-Session-Id: " + sid, "Accept: application/json"}).status == 406);
    {
        StreamReader stream(gw.url(), h);
        CHECK(eventually([&] { return stream.text().find(": stream open") != std::string::npos; }));
        CHECK(exchange("GET", gw.url(), h).status == 409);
        CHECK(gw.endpoint->notify_tools_changed("someone-else") == 0);
        CHECK(gw.endpoint->notify_tools_changed("t1") == 1);
        CHECK(eventually([&] { return stream.events().size() == 1; }));
        CHECK(eventually([&] { return stream.text().find(": ping") != std::string::npos; }));
        stream.finish();
        CHECK(stream.status == 200);
        auto events = stream.events();
        REQUIRE(events.size() == 1);
        CHECK(Json::parse(events[0])["method"] == "notifications/tools/list_changed");
    }
    // The client left: a new GET stream may open once the server noticed.
    CHECK(eventually([&] {
        Reply again = exchange("GET", gw.url(), h, "", [](const std::string&) { return false; });
        return again.status == 200;
    }));
}

TEST_CASE("mcp http: batches only in a 2025-03-26 session", "[mcp]") {
    Gateway gw;
    std::string old = gw.open_session("2025-03-26");
    Json batch = Json::array({make_request(Id(1), "ping"), make_notification("notifications/x"),
                              make_request(Id(2), "tools/call", {{"name", "echo"}, {"arguments", {{"message", "b"}}}}),
                              Json{{"jsonrpc", "2.0"}, {"id", 3}, {"method", 4}}});
    Reply r = gw.post(batch, Gateway::session_headers(old, "2025-03-26"));
    CHECK(r.status == 200);
    Json replies = r.json();
    REQUIRE(replies.is_array());
    REQUIRE(replies.size() == 3);
    std::map<int, Json> by_id;
    for (const auto& x : replies) by_id[x["id"].get<int>()] = x;
    CHECK(by_id[1]["result"] == Json::object());
    CHECK(by_id[2]["result"]["content"][0]["text"] == "b");
    CHECK(by_id[3]["error"]["code"] == kInvalidRequest);

    std::string newer = gw.open_session("2025-06-18");
    Reply refused = gw.post(batch, Gateway::session_headers(newer, "2025-06-18"));
    CHECK(refused.status == 400);
    CHECK(refused.json()["error"]["code"] == kInvalidRequest);
}

TEST_CASE("mcp http: modern requests need no session and must agree with their headers", "[mcp]") {
    Gateway gw;
    Reply d = gw.post(modern_request(1, "server/discover"), modern_headers("server/discover"));
    CHECK(d.status == 200);
    CHECK(d.header("mcp-session-id").empty());
    CHECK(d.json()["result"]["resultType"] == "complete");
    CHECK(d.json()["result"]["supportedVersions"] == Json::array({"2026-07-28"}));

    Json call = modern_request(2, "tools/call", {{"name", "echo"}, {"arguments", {{"message", "m"}}}});
    Reply ok = gw.post(call, modern_headers("tools/call", "echo"));
    CHECK(ok.status == 200);
    CHECK(ok.json()["result"]["content"][0]["text"] == "m");
    CHECK(ok.json()["result"]["_meta"][kMetaServerInfo]["name"] == "gw");

    // Mcp-Name may be base64-encoded; a stale session id is ignored.
    auto encoded = modern_headers("tools/call", "=?base64?ZWNobw==?=");
    encoded.push_back("Mcp-Session-Id: stale");
    CHECK(gw.post(call, encoded).status == 200);

    for (auto headers :
         {modern_headers("tools/call"), modern_headers("tools/call", "other"), modern_headers("tools/list", "echo"),
          std::vector<std::string>{"Mcp-Method: tools/call", "Mcp-Name: echo"},
          std::vector<std::string>{"MCP-Protocol-Version: 2025-11-25", "Mcp-Method: tools/call", "Mcp-Name: echo"}}) {
        Reply bad = gw.post(call, headers);
        CHECK(bad.status == 400);
        CHECK(bad.json()["error"]["code"] == kHeaderMismatch);
        CHECK(bad.json()["id"] == 2);
    }

    Json future = make_request(Id(3), "tools/list", {{"_meta", modern_meta("2099-01-01")}});
    Reply v = gw.post(future, {"MCP-Protocol-Version: 2099-01-01", "Mcp-Method: tools/list"});
    CHECK(v.status == 400);
    CHECK(v.json()["error"]["code"] == kUnsupportedProtocolVersion);
    CHECK(v.json()["error"]["data"]["supported"] == Json::array({"2026-07-28"}));

    Json no_caps = make_request(Id(4), "tools/list", {{"_meta", {{kMetaProtocolVersion, "2026-07-28"}}}});
    Reply caps = gw.post(no_caps, modern_headers("tools/list"));
    CHECK(caps.status == 400);
    CHECK(caps.json()["error"]["code"] == kInvalidParams);

    Reply unknown = gw.post(modern_request(5, "nope/nope"), modern_headers("nope/nope"));
    CHECK(unknown.status == 404);
    CHECK(unknown.json()["error"]["code"] == kMethodNotFound);

    Json note = make_notification("notifications/cancelled", {{"requestId", 1}, {"_meta", modern_meta()}});
    CHECK(gw.post(note, modern_headers("notifications/cancelled")).status == 202);

    CHECK(exchange("GET", gw.url(), {"Accept: text/event-stream"}).status == 405);
    CHECK(exchange("DELETE", gw.url(), {}).status == 405);
    CHECK(gw.endpoint->session_count() == 0);

    // With a progress token: SSE, the response last.
    Json prog = modern_request(6, "tools/call", {{"name", "progress"}});
    prog["params"]["_meta"]["progressToken"] = 1;
    Reply s = gw.post(prog, modern_headers("tools/call", "progress"));
    CHECK(s.header("content-type") == "text/event-stream");
    auto events = sse_events(s.body);
    REQUIRE(events.size() == 3);
    CHECK(Json::parse(events[2])["result"]["resultType"] == "complete");
}

TEST_CASE("mcp http: legacy HTTP+SSE transport round trip", "[mcp]") {
    Gateway gw;
    auto stream =
        std::make_unique<StreamReader>(gw.url("t1", "sse"), std::vector<std::string>{"Accept: text/event-stream"});
    REQUIRE(eventually([&] { return stream->events("endpoint").size() == 1; }));
    std::string endpoint = stream->events("endpoint")[0];
    REQUIRE(endpoint.rfind("/agents/t1/messages?sessionId=", 0) == 0);
    std::string url = gw.base + endpoint;
    CHECK(gw.endpoint->session_count() == 1);

    auto post = [&](const Json& m) { return exchange("POST", url, {kJson}, to_line(m)); };
    Reply r = post(make_request(Id(1), "initialize",
                                {{"protocolVersion", "2024-11-05"},
                                 {"capabilities", Json::object()},
                                 {"clientInfo", {{"name", "old"}, {"version", "0"}}}}));
    CHECK(r.status == 202);
    CHECK(post(make_notification("notifications/initialized")).status == 202);
    CHECK(post(make_request(Id(2), "tools/call", {{"name", "progress"}, {"_meta", {{"progressToken", "t"}}}})).status ==
          202);
    REQUIRE(eventually([&] { return stream->events().size() == 4; }));
    auto msgs = stream->events();
    CHECK(Json::parse(msgs[0])["result"]["protocolVersion"] == "2024-11-05");
    CHECK(Json::parse(msgs[1])["method"] == "notifications/progress");
    CHECK(Json::parse(msgs[1])["params"].contains("message") == false);  // not in 2024-11-05
    CHECK(Json::parse(msgs[3])["result"]["content"][0]["text"] == "done");

    CHECK(gw.endpoint->notify_tools_changed() == 1);
    CHECK(eventually([&] { return stream->events().size() == 5; }));

    // Bad input and unknown sessions; the session is not usable on /mcp.
    Reply bad = exchange("POST", url, {kJson}, "{nope");
    CHECK(bad.status == 400);
    CHECK(bad.json()["error"]["code"] == kParseError);
    CHECK(exchange("POST", url, {"Content-Type: text/plain"}, "{}").status == 415);
    CHECK(exchange("POST", gw.url("t1", "messages?sessionId=zzz"), {kJson}, "{}").status == 404);
    CHECK(exchange("POST", gw.url("t2", endpoint.substr(endpoint.find("messages"))), {kJson}, "{}").status == 404);
    std::string sid = endpoint.substr(endpoint.find('=') + 1);
    CHECK(gw.post(make_request(Id(3), "tools/list"), Gateway::session_headers(sid)).status == 404);

    // The session ends with its stream.
    stream.reset();
    CHECK(eventually([&] { return gw.endpoint->session_count() == 0; }));
    CHECK(exchange("POST", url, {kJson}, to_line(make_request(Id(4), "ping"))).status == 404);
}

TEST_CASE("mcp http: the session table is bounded", "[mcp]") {
    HttpEndpointOptions o;
    o.max_sessions = 3;
    Gateway gw(o);
    std::vector<std::string> ids;
    for (int i = 0; i < 5; i++) ids.push_back(gw.open_session());
    CHECK(gw.endpoint->session_count() == 3);
    // The least recently used went first.
    CHECK(gw.post(make_request(Id(2), "ping"), Gateway::session_headers(ids[0])).status == 404);
    CHECK(gw.post(make_request(Id(2), "ping"), Gateway::session_headers(ids[1])).status == 404);
    CHECK(gw.post(make_request(Id(2), "ping"), Gateway::session_headers(ids[2])).status == 200);
    gw.open_session();  // ids[2] was just used: ids[3] goes
    CHECK(gw.post(make_request(Id(2), "ping"), Gateway::session_headers(ids[3])).status == 404);
    CHECK(gw.post(make_request(Id(2), "ping"), Gateway::session_headers(ids[2])).status == 200);

    HttpEndpointOptions idle;
    idle.session_idle = std::chrono::seconds(0);
    Gateway quick(idle);
    std::string first = quick.open_session();
    quick.open_session();  // the first had been idle "long enough"
    CHECK(quick.endpoint->session_count() == 1);
    CHECK(quick.post(make_request(Id(2), "ping"), Gateway::session_headers(first)).status == 404);
}
