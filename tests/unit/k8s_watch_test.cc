// Watches, pod logs and pods/proxy against a real local HTTP server that
// streams like an API server: list-then-watch, BOOKMARKs, reconnecting from
// the last resourceVersion after a dropped stream, re-listing after 410 Gone
// (as an ERROR event and as an HTTP status), deadline and cancel, log
// tailing and following, proxied answers passed through.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "http/server.h"
#include "k8s/client.h"

using namespace fracta;
using namespace fracta::k8s;
using namespace std::chrono_literals;

namespace {

struct FakeApi {
    std::mutex mu;
    std::vector<http::Request> seen;
    std::function<http::Response(const http::Request&, int n)> answer;
    std::unique_ptr<http::Server> server;

    FakeApi() {
        http::ServerOptions o;
        o.thread_per_connection = true;
        auto s = http::Server::listen_tcp(
            "127.0.0.1:0",
            [this](const http::Request& r) {
                int n;
                {
                    std::lock_guard lock(mu);
                    seen.push_back(r);
                    n = static_cast<int>(seen.size());
                }
                return answer(r, n);
            },
            o);
        if (!s.ok()) FAIL(s.error().message);
        server = std::move(*s);
    }
    http::Request at(size_t i) {
        std::lock_guard lock(mu);
        return seen.at(i);
    }
    size_t count() {
        std::lock_guard lock(mu);
        return seen.size();
    }
};

Json pod(const std::string& name, const std::string& rv, const std::string& phase = "Pending") {
    return {{"kind", "Pod"},
            {"metadata", {{"name", name}, {"resourceVersion", rv}}},
            {"status", {{"phase", phase}}}};
}

std::string event(const std::string& type, const Json& object) {
    return to_line(Json{{"type", type}, {"object", object}}) + "\n";
}

Json gone_status() {
    return {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
            {"message", "too old resource version: 5 (20)"}, {"reason", "Expired"}, {"code", 410}};
}

// A streamed body in pieces; `drop` cuts the connection after the last one
// instead of ending the body properly.
http::Response stream_of(std::vector<std::string> pieces, bool drop = false) {
    auto queue = std::make_shared<std::deque<std::string>>(pieces.begin(), pieces.end());
    return http::Response::stream(
        [queue, drop](std::string& chunk) {
            if (queue->empty()) {
                if (drop) throw std::runtime_error("connection dropped");
                return false;
            }
            chunk = queue->front();
            queue->pop_front();
            return true;
        },
        "application/json");
}

Json ok_json(const std::string& text) {
    auto r = parse_json(text);
    if (!r.ok()) FAIL(r.error().message);
    return *r;
}

Client client_for(FakeApi& api) {
    Config c;
    c.server = "http://" + api.server->address();
    c.ns = "team";
    ClientOptions o;
    o.retry.base = 1ms;
    o.retry.cap = 2ms;
    o.retry.attempts = 3;
    return Client(c, o);
}

}  // namespace

TEST_CASE("watch: list, then watch; a dropped stream resumes from the last version, bookmarks included",
          "[k8s][watch]") {
    FakeApi api;
    api.answer = [](const http::Request& r, int n) {
        if (n == 1)
            return http::Response::json(200, {{"kind", "PodList"},
                                              {"metadata", {{"resourceVersion", "10"}}},
                                              {"items", Json::array({pod("a", "9")})}});
        if (n == 2)
            return stream_of({event("ADDED", pod("b", "11")),
                              // a line split across chunks is put back together
                              event("BOOKMARK", {{"kind", "Pod"}, {"metadata", {{"resourceVersion", "12"}}}}).substr(0, 20),
                              event("BOOKMARK", {{"kind", "Pod"}, {"metadata", {{"resourceVersion", "12"}}}}).substr(20)},
                             /*drop=*/true);
        (void)r;
        return stream_of({event("MODIFIED", pod("a", "13", "Running")), event("MODIFIED", pod("a", "14", "Running"))});
    };
    Client k = client_for(api);
    std::vector<std::string> seen;
    WatchOptions o;
    o.label_selector = "app=fracta";
    auto r = k.watch(kPods, o, [&](const WatchEvent& e) {
        seen.push_back(e.type + " " + e.object["metadata"].value("name", "") + (e.listed ? " listed" : ""));
        return !(e.type == "MODIFIED" && e.object["status"]["phase"] == "Running");
    });
    REQUIRE(r.ok());
    CHECK(r->end == WatchEnd::Stopped);
    CHECK(seen == std::vector<std::string>{"ADDED a listed", "ADDED b", "BOOKMARK ", "MODIFIED a"});
    CHECK(r->resource_version == "13");
    CHECK(r->reconnects == 1);
    REQUIRE(api.count() == 3);
    CHECK(api.at(0).query.count("watch") == 0);
    CHECK(api.at(0).query.at("labelSelector") == "app=fracta");
    CHECK(api.at(1).query.at("watch") == "true");
    CHECK(api.at(1).query.at("resourceVersion") == "10");
    CHECK(api.at(1).query.at("allowWatchBookmarks") == "true");
    CHECK(api.at(1).query.at("labelSelector") == "app=fracta");
    CHECK(api.at(1).query.at("timeoutSeconds") == "300");
    CHECK(api.at(2).query.at("resourceVersion") == "12");
}

TEST_CASE("watch: 410 Gone lists again and watches from the new version", "[k8s][watch]") {
    FakeApi api;
    bool as_status = GENERATE(false, true);  // an ERROR event, or the HTTP status itself
    api.answer = [as_status](const http::Request& r, int n) {
        if (n == 1) {
            if (as_status) return http::Response::json(410, gone_status());
            return stream_of({event("ERROR", gone_status())});
        }
        if (r.query.count("watch") == 0)
            return http::Response::json(200, {{"kind", "PodList"},
                                              {"metadata", {{"resourceVersion", "20"}}},
                                              {"items", Json::array({pod("x", "19")})}});
        return stream_of({event("ADDED", pod("y", "21"))});
    };
    Client k = client_for(api);
    WatchOptions o;
    o.resource_version = "5";
    o.field_selector = "metadata.name=y";
    std::vector<std::string> seen;
    auto r = k.watch(kPods, o, [&](const WatchEvent& e) {
        seen.push_back(e.type + " " + e.object["metadata"].value("name", "") + (e.listed ? " listed" : ""));
        return e.object["metadata"]["name"] != "y";
    });
    REQUIRE(r.ok());
    CHECK(r->relists == 1);
    CHECK(seen == std::vector<std::string>{"ADDED x listed", "ADDED y"});  // 410 is handled, not shown
    REQUIRE(api.count() == 3);
    CHECK(api.at(0).query.at("resourceVersion") == "5");
    CHECK(api.at(1).query.count("resourceVersion") == 0);
    CHECK(api.at(1).query.at("fieldSelector") == "metadata.name=y");
    CHECK(api.at(2).query.at("resourceVersion") == "20");
}

TEST_CASE("watch: other ERROR events and refusals end it with the Status", "[k8s][watch]") {
    FakeApi api;
    api.answer = [](const http::Request&, int n) {
        if (n == 1)
            return stream_of({event("ERROR", {{"kind", "Status"}, {"code", 500}, {"message", "internal error"}})});
        return http::Response::json(403, {{"kind", "Status"}, {"code", 403}, {"reason", "Forbidden"},
                                          {"message", "pods is forbidden"}});
    };
    Client k = client_for(api);
    WatchOptions o;
    o.resource_version = "1";
    std::vector<std::string> types;
    auto r = k.watch(kPods, o, [&](const WatchEvent& e) {
        types.push_back(e.type);
        return true;
    });
    REQUIRE_FALSE(r.ok());
    CHECK(types == std::vector<std::string>{"ERROR"});
    CHECK(r.error().message == "watch pods: internal error");
    auto refused = k.watch(kJobs, o, [](const WatchEvent&) { return true; });
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.code() == 403);
    CHECK(refused.error().message == "cannot watch jobs.batch in namespace \"team\": Forbidden: pods is forbidden");
}

TEST_CASE("watch: a silent stream ends at the deadline, or when cancelled", "[k8s][watch]") {
    FakeApi api;
    auto done = std::make_shared<std::atomic<bool>>(false);
    api.answer = [done](const http::Request&, int) {
        return http::Response::stream(
            [done](std::string&) {
                std::this_thread::sleep_for(20ms);
                return !*done;
            },
            "application/json");
    };
    Client k = client_for(api);
    WatchOptions o;
    o.resource_version = "1";
    SECTION("deadline") {
        o.deadline = std::chrono::steady_clock::now() + 1500ms;
        auto r = k.watch(kPods, o, [](const WatchEvent&) { return true; });
        REQUIRE(r.ok());
        CHECK(r->end == WatchEnd::Deadline);
        CHECK(std::chrono::steady_clock::now() >= *o.deadline);
        // what is left of the deadline, rounded up: 2, or 1 if the request
        // went out more than half a second late (a loaded machine)
        const std::string asked = api.at(0).query.at("timeoutSeconds");
        CHECK((asked == "2" || asked == "1"));
    }
    SECTION("cancel") {
        std::atomic<bool> stop{false};
        o.cancelled = [&] { return stop.load(); };
        std::thread t([&] {
            while (api.count() == 0) std::this_thread::sleep_for(10ms);
            stop = true;
        });
        auto r = k.watch(kPods, o, [](const WatchEvent&) { return true; });
        t.join();
        REQUIRE(r.ok());
        CHECK(r->end == WatchEnd::Cancelled);
    }
    *done = true;
}

TEST_CASE("pod logs: tail and follow", "[k8s][log]") {
    FakeApi api;
    api.answer = [](const http::Request& r, int) {
        if (r.query.count("follow")) return stream_of({"line 1\n", "line 2\n", "line 3\n"});
        if (r.path.ends_with("/missing/log"))
            return http::Response::json(404, {{"kind", "Status"}, {"code", 404}, {"reason", "NotFound"},
                                              {"message", "pods \"missing\" not found"}});
        return http::Response::text(200, "last\n");
    };
    Client k = client_for(api);
    LogOptions o;
    o.tail_lines = 5;
    o.container = "agent";
    auto text = k.log("p", o);
    REQUIRE(text.ok());
    CHECK(*text == "last\n");
    CHECK(api.at(0).path == "/api/v1/namespaces/team/pods/p/log");
    CHECK(api.at(0).query.at("tailLines") == "5");
    CHECK(api.at(0).query.at("container") == "agent");

    std::string got;
    auto followed = k.follow_log("p", {}, [&](std::string_view d) {
        got.append(d);
        return got.find("line 2\n") == std::string::npos;  // stop early
    });
    REQUIRE(followed.ok());
    CHECK(got.rfind("line 1\nline 2\n", 0) == 0);
    CHECK(api.at(1).query.at("follow") == "true");

    auto missing = k.log("missing");
    CHECK(missing.not_found());
    CHECK(missing.error().message == "get pods/log: pods \"missing\" not found");
}

TEST_CASE("pods/proxy: the target's answers pass through; the API server's refusals are errors", "[k8s][proxy]") {
    FakeApi api;
    api.answer = [](const http::Request& r, int) {
        if (r.path.find("/pods/gone:7070/") != std::string::npos)
            return http::Response::json(404, {{"kind", "Status"}, {"code", 404}, {"reason", "NotFound"},
                                              {"message", "pods \"gone\" not found"}});
        if (r.method == "POST")
            return http::Response::json(200, {{"echo", r.body}, {"token", r.header("x-fracta-control-token")}});
        return http::Response::json(404, {{"error", "no such session"}});
    };
    Client k = client_for(api);
    auto target404 = k.proxy("p", 7070, "GET", "/v1/peek?lines=3");
    REQUIRE(target404.ok());
    CHECK(target404->status == 404);
    CHECK(ok_json(target404->body)["error"] == "no such session");
    CHECK(api.at(0).path == "/api/v1/namespaces/team/pods/p:7070/proxy/v1/peek");
    CHECK(api.at(0).query.at("lines") == "3");

    auto posted = k.proxy("p", 7070, "POST", "/v1/nudge", R"({"text":"hi"})", {{"X-Fracta-Control-Token", "ct"}});
    REQUIRE(posted.ok());
    CHECK(posted->status == 200);
    CHECK(ok_json(posted->body) == Json{{"echo", R"({"text":"hi"})"}, {"token", "ct"}});

    auto gone = k.proxy("gone", 7070, "POST", "/v1/nudge", "{}");
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.not_found());
    CHECK(gone.error().message == "create pods/proxy: pods \"gone\" not found");
}
