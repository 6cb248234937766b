// The k8s client against the Kubernetes API double (tests/k8s/double.mjs,
// itself checked with the real kubectl): HTTPS with a client certificate,
// create/get/list/delete with Status errors, a watch that sees a Job's pod
// go Running, logs, 410 after compaction, injected 500s, RBAC denials.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/base64.h"
#include "http/client.h"
#include "k8s/client.h"
#include "proc/process.h"
#include "proc/run.h"
#include "support.h"

using namespace fracta;
using namespace fracta::k8s;
using namespace std::chrono_literals;
using fracta::test::ok;
using fracta::test::slurp;

namespace {

struct Double {
    std::string dir;
    std::unique_ptr<proc::Process> p;
    std::string url, control;

    Double() : dir(test::temp_dir()) {
        test::sh(dir,
                 "set -e\n"
                 "k='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
                 "openssl req -x509 $k -keyout ca.key -out ca.pem -days 2 -subj /CN=ca 2>/dev/null\n"
                 "openssl req $k -keyout server.key -out server.csr -subj /CN=kube-apiserver 2>/dev/null\n"
                 "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext\n"
                 "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
                 "-extfile san.ext 2>/dev/null\n"
                 "openssl req $k -keyout client.key -out client.csr -subj /O=testers/CN=fracta 2>/dev/null\n"
                 "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 "
                 "2>/dev/null\n");
        proc::Command c;
        c.argv = {"node", test::source_root() + "/tests/k8s/double.mjs", "--tls-cert", dir + "/server.pem",
                  "--tls-key", dir + "/server.key", "--client-ca", dir + "/ca.pem", "--http-listen",
                  "127.0.0.1:0", "--namespace", "fracta", "--ready-file", dir + "/ready",
                  "--bookmark-interval-ms", "200"};
        p = ok(proc::Process::start(c));
        auto until = std::chrono::steady_clock::now() + 30s;
        while (::access((dir + "/ready").c_str(), F_OK) != 0) {  // written atomically when listening
            REQUIRE_FALSE(p->exited());
            REQUIRE(std::chrono::steady_clock::now() < until);
            std::this_thread::sleep_for(20ms);
        }
        Json ready = ok(parse_json(slurp(dir + "/ready")));
        url = ready["url"];
        control = ready["http_url"];
    }
    ~Double() {
        if (p) p->stop(200ms);
    }

    // POST to the double's control API.
    void ctl(const std::string& path, const Json& body) {
        http::Client c(control);
        auto r = ok(c.post_json("/_double" + path, body));
        INFO(r.body);
        REQUIRE(r.status / 100 == 2);
    }

    Config config() const {
        std::string kubeconfig = "current-context: c\n"
                                 "contexts: [{name: c, context: {cluster: k, user: u, namespace: fracta}}]\n"
                                 "clusters: [{name: k, cluster: {server: \"" + url +
                                 "\", certificate-authority: ca.pem}}]\n"
                                 "users: [{name: u, user: {client-certificate-data: " +
                                 base64_encode(slurp(dir + "/client.pem")) + ", client-key-data: " +
                                 base64_encode(slurp(dir + "/client.key")) + "}}]\n";
        return ok(from_kubeconfig(kubeconfig, dir + "/config", "", {}));
    }
};

Json job(const std::string& name) {
    return {{"apiVersion", "batch/v1"},
            {"kind", "Job"},
            {"metadata", {{"name", name}, {"labels", {{"app.kubernetes.io/managed-by", "fracta"}}}}},
            {"spec",
             {{"backoffLimit", 0},
              {"template",
               {{"metadata", {{"labels", {{"fracta-agent-id", name}}}}},
                {"spec",
                 {{"restartPolicy", "Never"},
                  {"containers", Json::array({{{"name", "agent"}, {"image", "fracta-agent:test"}}})}}}}}}}};
}

}  // namespace

TEST_CASE("k8s client against the API double", "[k8s][double]") {
    Double d;
    ClientOptions o;
    o.retry.base = 5ms;
    o.retry.cap = 20ms;
    Client k(d.config(), o);
    REQUIRE(k.ns() == "fracta");

    Json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "fracta-config-a"}}},
               {"data", {{"k", "v"}}}};
    auto created = k.create(kConfigMaps, cm);
    REQUIRE(created.ok());
    CHECK((*created)["metadata"]["namespace"] == "fracta");
    CHECK(ok(k.get(kConfigMaps, "fracta-config-a"))["data"]["k"] == "v");
    auto again = k.create(kConfigMaps, cm);
    CHECK(again.already_exists());
    CHECK(again.error().message == "create configmaps: configmaps \"fracta-config-a\" already exists");
    CHECK(k.get(kConfigMaps, "nope").not_found());

    // Injected 500s are retried.
    d.ctl("/faults", {{"method", "GET"}, {"path", "/configmaps/fracta-config-a"}, {"code", 500}, {"count", 2}});
    REQUIRE(k.get(kConfigMaps, "fracta-config-a").ok());

    // A Job; its pod appears and runs; the watch sees it.
    REQUIRE(k.create(kJobs, job("fracta-agent-a")).ok());
    Query q;
    q.label_selector = "app.kubernetes.io/managed-by=fracta";
    auto jobs = k.list(kJobs, q);
    REQUIRE(jobs.ok());
    REQUIRE((*jobs)["items"].size() == 1);

    std::string pod_name;
    WatchOptions w;
    w.label_selector = "fracta-agent-id=fracta-agent-a";
    w.deadline = std::chrono::steady_clock::now() + 20s;
    auto watched = k.watch(kPods, w, [&](const WatchEvent& e) {
        if (e.type == "BOOKMARK" || e.type == "DELETED") return true;
        std::string name = e.object["metadata"]["name"];
        if (pod_name.empty()) {
            pod_name = name;
            d.ctl("/pods/fracta/" + name + "/run", Json::object());
        }
        return e.object["status"].value("phase", "") != "Running";
    });
    REQUIRE(watched.ok());
    CHECK(watched->end == WatchEnd::Stopped);
    REQUIRE_FALSE(pod_name.empty());
    std::string rv = watched->resource_version;

    d.ctl("/pods/fracta/" + pod_name + "/log", {{"text", "hello\nworld\n"}});
    LogOptions lo;
    lo.tail_lines = 1;
    CHECK(ok(k.log(pod_name, lo)) == "world\n");

    // History compacted: watching from the old version lists again.
    d.ctl("/compact", Json::object());
    d.ctl("/pods/fracta/" + pod_name + "/exit", {{"code", 0}});
    WatchOptions from_old;
    from_old.resource_version = rv;
    from_old.label_selector = w.label_selector;
    from_old.deadline = std::chrono::steady_clock::now() + 20s;
    auto relisted = k.watch(kPods, from_old, [&](const WatchEvent& e) {
        return !(e.type != "BOOKMARK" && e.object["status"].value("phase", "") == "Succeeded");
    });
    REQUIRE(relisted.ok());
    CHECK(relisted->relists == 1);

    // RBAC denial names verb and resource.
    d.ctl("/deny", {{"verb", "create"}, {"resource", "jobs"}});
    auto denied = k.create(kJobs, job("fracta-agent-b"));
    REQUIRE_FALSE(denied.ok());
    CHECK(denied.code() == 403);
    CHECK(denied.error().kind == ErrorKind::Failed);
    CHECK(denied.error().message.rfind("cannot create jobs.batch in namespace \"fracta\": Forbidden: ", 0) == 0);

    REQUIRE(k.del(kJobs, "fracta-agent-a").ok());
    CHECK(k.del(kJobs, "fracta-agent-a").not_found());
}
