// The Kubernetes REST client against a real local HTTP server that answers
// like an API server: typed calls and their paths, Status errors mapped to
// exit kinds (401/403 naming verb and resource, 404/409 told apart), retries
// with backoff on 5xx, 429 (Retry-After) and refused connections, bounded,
// then Temporary; a 401 re-reads a rotated token file or re-runs an exec
// plugin once.
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <mutex>
#include <vector>

#include "http/server.h"
#include "k8s/client.h"
#include "support.h"

using namespace fracta;
using namespace fracta::k8s;
using namespace std::chrono_literals;
using fracta::test::ok;

namespace {

// A stand-in API server: records every request, answers with `answer`.
struct FakeApi {
    struct Seen {
        std::string method, path, body, auth;
        std::map<std::string, std::string> query;
    };
    std::mutex mu;
    std::vector<Seen> seen;
    std::function<http::Response(const http::Request&, int n)> answer;
    std::unique_ptr<http::Server> server;

    FakeApi() {
        auto s = http::Server::listen_tcp("127.0.0.1:0", [this](const http::Request& r) {
            int n;
            {
                std::lock_guard lock(mu);
                seen.push_back({r.method, r.path, r.body, r.header("authorization"), r.query});
                n = static_cast<int>(seen.size());
            }
            return answer(r, n);
        });
        if (!s.ok()) FAIL(s.error().message);
        server = std::move(*s);
    }
    std::string url() const { return "http://" + server->address(); }
    size_t count() {
        std::lock_guard lock(mu);
        return seen.size();
    }
    Seen at(size_t i) {
        std::lock_guard lock(mu);
        return seen.at(i);
    }
};

http::Response status(int code, const std::string& reason, const std::string& message) {
    return http::Response::json(code, {{"kind", "Status"},
                                       {"apiVersion", "v1"},
                                       {"metadata", Json::object()},
                                       {"status", "Failure"},
                                       {"message", message},
                                       {"reason", reason},
                                       {"code", code}});
}

Config config_for(const FakeApi& api, const std::string& token = "") {
    Config c;
    c.server = api.url();
    c.ns = "team";
    c.token = token;
    return c;
}

ClientOptions fast_retries(int attempts = 4) {
    ClientOptions o;
    o.retry.attempts = attempts;
    o.retry.base = 1ms;
    o.retry.cap = 4ms;
    return o;
}

}  // namespace

TEST_CASE("k8s client: typed calls send the right method, path, body and token", "[k8s][client]") {
    FakeApi api;
    api.answer = [](const http::Request& r, int) {
        if (r.method == "DELETE") return http::Response::json(200, {{"kind", "Status"}, {"status", "Success"}});
        return http::Response::json(r.method == "POST" ? 201 : 200,
                                    {{"kind", "Job"}, {"metadata", {{"name", "j"}, {"resourceVersion", "7"}}}});
    };
    Client k(config_for(api, "sekret"));
    CHECK(k.ns() == "team");
    Json job = {{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", {{"name", "j"}}}};
    auto created = k.create(kJobs, job);
    REQUIRE(created.ok());
    CHECK((*created)["metadata"]["resourceVersion"] == "7");
    REQUIRE(k.get(kJobs, "j").ok());
    Query q;
    q.label_selector = "app.kubernetes.io/managed-by=fracta";
    REQUIRE(k.list(kPods, q).ok());
    REQUIRE(k.replace(kJobs, "j", job).ok());
    REQUIRE(k.del(kJobs, "j").ok());

    REQUIRE(api.count() == 5);
    CHECK(api.at(0).method == "POST");
    CHECK(api.at(0).path == "/apis/batch/v1/namespaces/team/jobs");
    CHECK(ok(parse_json(api.at(0).body)) == job);
    CHECK(api.at(0).auth == "Bearer sekret");
    CHECK(api.at(1).path == "/apis/batch/v1/namespaces/team/jobs/j");
    CHECK(api.at(2).path == "/api/v1/namespaces/team/pods");
    CHECK(api.at(2).query.at("labelSelector") == "app.kubernetes.io/managed-by=fracta");
    CHECK(api.at(3).method == "PUT");
    CHECK(api.at(4).method == "DELETE");
    CHECK(ok(parse_json(api.at(4).body)) ==
          Json{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Background"}});
    CHECK(api.server->connections_accepted() == 1);  // one kept-alive connection
}

TEST_CASE("k8s client: Status errors keep code, reason and message; kinds follow the spec", "[k8s][client]") {
    FakeApi api;
    api.answer = [](const http::Request& r, int) {
        if (r.path.ends_with("/missing")) return status(404, "NotFound", "jobs.batch \"missing\" not found");
        if (r.method == "POST" && r.path.ends_with("/jobs"))
            return status(409, "AlreadyExists", "jobs.batch \"j\" already exists");
        if (r.method == "PUT") return status(409, "Conflict", "the object has been modified");
        if (r.path.ends_with("/secrets"))
            return status(403, "Forbidden",
                          "secrets is forbidden: User \"system:serviceaccount:team:cp\" cannot create resource "
                          "\"secrets\" in API group \"\" in the namespace \"team\"");
        if (r.path.ends_with("/configmaps")) return status(401, "Unauthorized", "Unauthorized");
        if (r.path.ends_with("/pods")) return status(422, "Invalid", "Pod \"x\" is invalid: spec.containers: Required value");
        return http::Response::text(418, "teapot\nsecond line");
    };
    Client k(config_for(api), fast_retries());

    auto missing = k.get(kJobs, "missing");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.not_found());
    CHECK_FALSE(missing.conflict());
    CHECK(missing.api_error().reason == "NotFound");
    CHECK(missing.error().kind == ErrorKind::Failed);
    CHECK(missing.error().message == "get jobs.batch: jobs.batch \"missing\" not found");

    Json j = {{"metadata", {{"name", "j"}}}};
    auto exists = k.create(kJobs, j);
    CHECK(exists.already_exists());
    CHECK(exists.code() == 409);
    auto conflict = k.replace(kJobs, "j", j);
    CHECK(conflict.conflict());
    CHECK_FALSE(conflict.already_exists());

    auto forbidden = k.create(kSecrets, j);
    REQUIRE_FALSE(forbidden.ok());
    CHECK(forbidden.code() == 403);
    CHECK(forbidden.error().kind == ErrorKind::Failed);
    CHECK(forbidden.error().message.rfind("cannot create secrets in namespace \"team\": Forbidden: secrets is forbidden: "
                                          "User \"system:serviceaccount:team:cp\" cannot create",
                                          0) == 0);

    auto unauthorized = k.create(kConfigMaps, j);
    CHECK(unauthorized.error().message == "cannot create configmaps in namespace \"team\": Unauthorized");
    CHECK(unauthorized.error().kind == ErrorKind::Failed);

    auto invalid = k.create(kPods, j);
    CHECK(invalid.error().kind == ErrorKind::Usage);
    CHECK(invalid.api_error().reason == "Invalid");

    auto odd = k.get(kSecrets, "s");  // not a Status: the body's first line
    CHECK(odd.error().message == "get secrets \"s\": teapot");
    CHECK(api.count() == 7);  // none of these is retried
}

TEST_CASE("api_error: one line from a Status, or from a bare body", "[k8s][client]") {
    Call get{.path = "/x", .verb = "get", .resource = "pods/log", .name = "p"};
    ApiError e = api_error(get, "n", 404, "");
    CHECK(e.message == "HTTP 404");
    CHECK(e.error.message == "get pods/log \"p\": HTTP 404");
    ApiError five = api_error(get, "n", 503, R"({"kind":"Status","code":503,"message":"etcdserver: leader changed"})");
    CHECK(five.error.kind == ErrorKind::Temporary);
    CHECK(five.error.message == "get pods/log: etcdserver: leader changed");
}

TEST_CASE("k8s client: 500s are retried, then the answer is used", "[k8s][client][retry]") {
    FakeApi api;
    api.answer = [](const http::Request&, int n) {
        if (n <= 2) return status(500, "InternalError", "etcd timeout");
        return http::Response::json(200, {{"kind", "Pod"}});
    };
    Client k(config_for(api), fast_retries(4));
    auto pod = k.get(kPods, "p");
    REQUIRE(pod.ok());
    CHECK((*pod)["kind"] == "Pod");
    CHECK(api.count() == 3);
    CHECK(k.requests_sent() == 3);
}

TEST_CASE("k8s client: retries are bounded, then a Temporary error", "[k8s][client][retry]") {
    FakeApi api;
    api.answer = [](const http::Request&, int) { return status(503, "ServiceUnavailable", "apiserver is shutting down"); };
    Client k(config_for(api), fast_retries(3));
    auto r = k.list(kJobs);
    REQUIRE_FALSE(r.ok());
    CHECK(r.code() == 503);
    CHECK(r.error().kind == ErrorKind::Temporary);
    CHECK(r.error().message == "list jobs.batch: apiserver is shutting down (after 3 attempts)");
    CHECK(api.count() == 3);

    // Nobody listening: connection failures, retried the same way.
    std::string url = api.url();
    api.server->stop();
    Config c;
    c.server = url;
    Client gone(c, fast_retries(3));
    auto refused = gone.get(kPods, "p");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.code() == 0);
    CHECK(refused.error().kind == ErrorKind::Temporary);
    CHECK(refused.error().message.find("(after 3 attempts)") != std::string::npos);
    CHECK(gone.requests_sent() == 3);
}

TEST_CASE("backoff: doubling, jittered within [half, all], capped", "[k8s][client][retry]") {
    RetryPolicy p;
    p.base = 100ms;
    p.cap = 1000ms;
    CHECK(backoff_delay(1, p, 0.0) == 50ms);
    CHECK(backoff_delay(1, p, 1.0) == 100ms);
    CHECK(backoff_delay(2, p, 1.0) == 200ms);
    CHECK(backoff_delay(3, p, 0.5) == 300ms);  // 400: 200 + half of 200
    for (int retry = 1; retry < 80; ++retry) {
        for (double j : {0.0, 0.3, 0.999}) {
            auto d = backoff_delay(retry, p, j);
            CHECK(d <= p.cap);
            CHECK(d >= std::min(p.cap, p.base * (1 << std::min(retry - 1, 10))) / 2);
        }
    }
}

TEST_CASE("k8s client: 429 waits for Retry-After", "[k8s][client][retry]") {
    FakeApi api;
    api.answer = [](const http::Request&, int n) {
        if (n == 1) {
            auto r = status(429, "TooManyRequests", "slow down");
            r.headers.emplace_back("Retry-After", "1");
            return r;
        }
        return http::Response::json(200, {{"kind", "PodList"}, {"items", Json::array()}});
    };
    Client k(config_for(api), fast_retries(3));
    auto start = std::chrono::steady_clock::now();
    REQUIRE(k.list(kPods).ok());
    CHECK(std::chrono::steady_clock::now() - start >= 1s);
    CHECK(api.count() == 2);
}

TEST_CASE("k8s client: a 401 re-reads a rotated token file once", "[k8s][client][credentials]") {
    std::string dir = test::temp_dir();
    std::ofstream(dir + "/token") << "old\n";
    FakeApi api;
    api.answer = [](const http::Request& r, int) {
        if (r.header("authorization") != "Bearer new") return status(401, "Unauthorized", "Unauthorized");
        return http::Response::json(200, {{"kind", "Pod"}});
    };
    Config c = config_for(api);
    c.token_file = dir + "/token";
    Client k(c, fast_retries());
    auto first = k.get(kPods, "p");
    REQUIRE_FALSE(first.ok());  // old token: tried, re-read (unchanged), tried again, refused
    CHECK(first.code() == 401);
    CHECK(api.count() == 2);

    std::ofstream(dir + "/token.new") << "new\n";
    REQUIRE(::rename((dir + "/token.new").c_str(), (dir + "/token").c_str()) == 0);
    REQUIRE(k.get(kPods, "p").ok());  // rotation noticed before sending
    CHECK(api.count() == 3);
    CHECK(api.at(2).auth == "Bearer new");
}

TEST_CASE("k8s client: exec credentials, re-run after expiry and once on a 401", "[k8s][client][exec]") {
    std::string dir = test::temp_dir();
    // Tokens tok-1, tok-2, …; each valid until the time the test's clock says.
    test::write_script(dir + "/plugin",
                       "#!/bin/sh\n"
                       "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count\n"
                       "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
                       "\"ExecCredential\",\"status\":{\"token\":\"tok-'$n'\","
                       "\"expirationTimestamp\":\"2030-01-01T00:00:02Z\"}}'\n");
    FakeApi api;
    std::atomic<bool> refuse_tok2{false};
    api.answer = [&](const http::Request& r, int) {
        if (refuse_tok2 && r.header("authorization") == "Bearer tok-2") return status(401, "Unauthorized", "Unauthorized");
        return http::Response::json(200, {{"kind", "Pod"}});
    };
    Config c = config_for(api);
    ExecPlugin p;
    p.api_version = "client.authentication.k8s.io/v1";
    p.command = "/bin/sh";
    p.args = {"-c", "cd '" + dir + "' && ./plugin"};
    c.exec = p;
    Timestamp now = ok(parse_rfc3339("2030-01-01T00:00:00Z"));
    ClientOptions o = fast_retries();
    o.clock = [&] { return now; };
    Client k(c, o);
    auto runs = [&] {
        std::ifstream in(dir + "/count");
        int n = 0;
        in >> n;
        return n;
    };

    REQUIRE(k.get(kPods, "p").ok());
    REQUIRE(k.get(kPods, "p").ok());
    CHECK(runs() == 1);
    CHECK(api.at(1).auth == "Bearer tok-1");

    now.seconds += 3;  // expired: the next request runs the plugin again
    REQUIRE(k.get(kPods, "p").ok());
    CHECK(runs() == 2);
    CHECK(api.at(2).auth == "Bearer tok-2");

    refuse_tok2 = true;  // revoked early: a 401, one more run, the request succeeds
    now.seconds -= 3;
    REQUIRE(k.get(kPods, "p").ok());
    CHECK(runs() == 3);
    REQUIRE(api.count() == 5);
    CHECK(api.at(3).auth == "Bearer tok-2");
    CHECK(api.at(4).auth == "Bearer tok-3");
}
