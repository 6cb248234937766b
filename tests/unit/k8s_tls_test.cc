// The Kubernetes client over real TLS (openssl s_server -WWW with
// certificates made here): the CA from a kubeconfig's -data field or the
// service account's ca.crt, client certificates from -data fields or from
// an exec plugin — all handed to libcurl in memory — verification failures
// not retried, insecure-skip-tls-verify.
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>

#include "base/base64.h"
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

void make_certs(const std::string& dir);

// A CA, a server certificate for 127.0.0.1 and a client certificate, in a
// new directory (copied from the first one made: key generation is slow).
std::string certs_dir() {
    static std::string first;
    std::string dir = test::temp_dir();
    if (first.empty()) {
        make_certs(dir);
        first = dir;
    } else {
        test::sh(dir, "cp '" + first + "'/* .");
    }
    return dir;
}

void make_certs(const std::string& dir) {
    test::sh(dir,
             "set -e\n"
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem "
             "-days 2 -subj /CN=test-ca 2>/dev/null\n"
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr "
             "-subj /CN=kube-apiserver 2>/dev/null\n"
             "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext\n"
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
             "-extfile san.ext 2>/dev/null\n"
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout client.key -out client.csr "
             "-subj /CN=fracta/O=agents 2>/dev/null\n"
             "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 "
             "2>/dev/null\n"
             "printf '{\"major\":\"1\",\"minor\":\"30\"}' > version.json\n");
}

// openssl s_server serving `dir` over HTTPS on a free port; `require_client`
// makes it refuse clients without a certificate from the CA.
struct TlsServer {
    std::unique_ptr<proc::Process> p;
    int port = 0;

    ~TlsServer() {
        if (p) p->stop(50ms);  // s_server ignores its stdin closing: SIGTERM soon
    }

    TlsServer(const std::string& dir, bool require_client) {
        proc::Command c;
        c.argv = {"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", dir + "/server.pem",
                  "-key", dir + "/server.key", "-WWW", "-CAfile", dir + "/ca.pem",
                  require_client ? "-Verify" : "-verify", "1"};
        c.cwd = dir;
        p = ok(proc::Process::start(c));
        // Ready when it prints "ACCEPT 127.0.0.1:<port>".
        std::string out;
        auto until = std::chrono::steady_clock::now() + 20s;
        while (port == 0) {
            REQUIRE(std::chrono::steady_clock::now() < until);
            pollfd fd{p->stdout_fd(), POLLIN, 0};
            ::poll(&fd, 1, 200);
            char buf[256];
            ssize_t n = ::read(p->stdout_fd(), buf, sizeof buf);
            if (n > 0) out.append(buf, static_cast<size_t>(n));
            REQUIRE(n != 0);  // EOF: it died
            if (auto a = out.find("ACCEPT 127.0.0.1:"); a != std::string::npos && out.find('\n', a) != std::string::npos)
                port = std::stoi(out.substr(a + 17));
        }
    }
};

std::string kubeconfig(int port, const std::string& cluster_extra, const std::string& user) {
    return "current-context: c\n"
           "contexts: [{name: c, context: {cluster: k, user: u, namespace: team}}]\n"
           "clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:" + std::to_string(port) + "\n" +
           cluster_extra + "users:\n- name: u\n  user:\n" + user;
}

ClientOptions no_retries() {
    ClientOptions o;
    o.retry.attempts = 1;
    return o;
}

Call version_call() { return Call{.path = "/version.json", .verb = "get", .resource = "version"}; }

}  // namespace

TEST_CASE("TLS: CA and client certificate from -data fields; failures", "[k8s][tls]") {
    std::string dir = certs_dir();
    TlsServer server(dir, /*require_client=*/true);
    std::string ca = "    certificate-authority-data: " + base64_encode(slurp(dir + "/ca.pem")) + "\n";
    std::string cert = "    client-certificate-data: " + base64_encode(slurp(dir + "/client.pem")) + "\n" +
                       "    client-key-data: " + base64_encode(slurp(dir + "/client.key")) + "\n";

    SECTION("verified both ways") {
        auto c = ok(from_kubeconfig(kubeconfig(server.port, ca, cert), dir + "/config", "", {}));
        Client k(c, no_retries());
        auto r = k.send(version_call());
        REQUIRE(r.ok());
        CHECK(r->body == R"({"major":"1","minor":"30"})");
    }
    SECTION("client certificate from files next to the kubeconfig") {
        auto c = ok(from_kubeconfig(
            kubeconfig(server.port, ca, "    client-certificate: client.pem\n    client-key: client.key\n"),
            dir + "/config", "", {}));
        Client k(c, no_retries());
        REQUIRE(k.send(version_call()).ok());
    }
    SECTION("insecure-skip-tls-verify without a CA") {
        auto c = ok(from_kubeconfig(kubeconfig(server.port, "    insecure-skip-tls-verify: true\n", cert),
                                    dir + "/config", "", {}));
        Client k(c, no_retries());
        REQUIRE(k.send(version_call()).ok());
    }
    SECTION("an unknown CA is a permanent failure, not retried") {
        auto c = ok(from_kubeconfig(kubeconfig(server.port, "", cert), dir + "/config", "", {}));
        ClientOptions o;
        o.retry.attempts = 3;
        o.retry.base = 1ms;
        Client k(c, o);
        auto r = k.send(version_call());
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind == ErrorKind::Failed);
        CHECK(k.requests_sent() == 1);
    }
    SECTION("no client certificate: refused") {
        auto c = ok(from_kubeconfig(kubeconfig(server.port, ca, "    token: t\n"), dir + "/config", "", {}));
        Client k(c, no_retries());
        CHECK_FALSE(k.send(version_call()).ok());
    }
}

TEST_CASE("TLS: a client certificate from an exec plugin", "[k8s][tls][exec]") {
    std::string dir = certs_dir();
    TlsServer server(dir, /*require_client=*/true);
    // PEM inside JSON: newlines as \n.
    test::write_script(dir + "/plugin",
                       "#!/bin/sh\ncd \"$(dirname \"$0\")\"\n"
                       "pem() { awk '{printf \"%s\\\\n\", $0}' \"$1\"; }\n"
                       "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
                       "\"ExecCredential\",\"status\":{\"clientCertificateData\":\"%s\","
                       "\"clientKeyData\":\"%s\"}}' \"$(pem client.pem)\" \"$(pem client.key)\"\n");
    std::string ca = "    certificate-authority: ca.pem\n";
    auto c = ok(from_kubeconfig(
        kubeconfig(server.port, ca, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                                    "      command: ./plugin\n"),
        dir + "/config", "", {}));
    Client k(c, no_retries());
    auto r = k.send(version_call());
    REQUIRE(r.ok());
    CHECK(r->body.find("\"minor\":\"30\"") != std::string::npos);
}

TEST_CASE("TLS: in cluster, the service account's CA and token", "[k8s][tls]") {
    std::string dir = certs_dir();
    TlsServer server(dir, /*require_client=*/false);
    REQUIRE(::mkdir((dir + "/sa").c_str(), 0755) == 0);
    std::ofstream(dir + "/sa/token") << "sa-token";
    std::ofstream(dir + "/sa/namespace") << "agents";
    std::ofstream(dir + "/sa/ca.crt") << slurp(dir + "/ca.pem");
    std::map<std::string, std::string> env = {{"KUBERNETES_SERVICE_HOST", "127.0.0.1"},
                                              {"KUBERNETES_SERVICE_PORT", std::to_string(server.port)},
                                              {"FRACTA_K8S_SA_DIR", dir + "/sa"},
                                              {"HOME", dir + "/nohome"}};
    ResolveOptions o;
    o.env = [&](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
    auto c = ok(Config::resolve(o));
    CHECK(c.ns == "agents");
    Client k(c, no_retries());
    auto r = k.send(version_call());
    REQUIRE(r.ok());
    CHECK(r->status == 200);
}
