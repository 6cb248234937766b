// Kubernetes client configuration: base64, REST paths, kubeconfig parsing
// (contexts, -data vs files, tokens, insecure, exec plugins), the order of
// resolve() (flags, KUBECONFIG, ~/.kube/config, in cluster, namespaces), and
// credentials that rotate: a token file rewritten, an exec plugin re-run
// when its credential expires (a real script, counting its runs in a file).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "base/base64.h"
#include "k8s/config.h"
#include "k8s/credentials.h"
#include "k8s/paths.h"
#include "support.h"

using namespace fracta;
using namespace fracta::k8s;
using fracta::test::env_of;
using fracta::test::ok;
using fracta::test::slurp;

namespace {

void write(const std::string& path, const std::string& text, int mode = 0644) {
    std::ofstream(path, std::ios::binary) << text;
    ::chmod(path.c_str(), mode);
}

const char* kTwoContexts = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443/
    certificate-authority-data: Q0EtUEVN
- name: prod-cluster
  cluster:
    server: https://prod.example
    certificate-authority: certs/ca.pem
    insecure-skip-tls-verify: true
users:
- name: dev-user
  user:
    token: "abc$def${HOME}"
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
- name: prod-user
  user:
    tokenFile: tok
    client-certificate: certs/client.pem
    client-key: /abs/missing-key.pem
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
- name: anon
  context: {cluster: dev-cluster}
)";

}  // namespace

TEST_CASE("base64 encodes and decodes, padded or not, across line breaks", "[k8s][base64]") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode(std::string("\xff\x00\x10", 3)) == "/wAQ");
    CHECK(ok(base64_decode("Zm9vYmFy")) == "foobar");
    CHECK(ok(base64_decode("Zm8")) == "fo");
    CHECK(ok(base64_decode("Zm9v\nYmE=\n")) == "fooba");
    CHECK(ok(base64_decode("/wAQ")) == std::string("\xff\x00\x10", 3));
    CHECK(base64_decode("Zm9v!").error().kind == ErrorKind::Usage);
    CHECK(base64_decode("Z").error().kind == ErrorKind::Usage);
    CHECK_FALSE(base64_decode("Zg==Zg").ok());
}

TEST_CASE("REST paths: core and named groups, items, subresources, queries", "[k8s][paths]") {
    CHECK(path(kPods, "ns1") == "/api/v1/namespaces/ns1/pods");
    CHECK(path(kJobs, "ns1", "fracta-agent-x") == "/apis/batch/v1/namespaces/ns1/jobs/fracta-agent-x");
    CHECK(path(kNamespaces, "ignored", "fracta") == "/api/v1/namespaces/fracta");
    CHECK(kJobs.qualified() == "jobs.batch");
    CHECK(kPods.qualified() == "pods");
    Query q;
    q.label_selector = "app.kubernetes.io/managed-by=fracta,fracta-agent-id=a b";
    q.resource_version = "42";
    q.watch = true;
    q.allow_watch_bookmarks = true;
    q.timeout_seconds = 30;
    CHECK(path(kJobs, "n", "", "", q) ==
          "/apis/batch/v1/namespaces/n/jobs?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dfracta%2Cfracta-agent-id%3Da%20b"
          "&resourceVersion=42&watch=true&allowWatchBookmarks=true&timeoutSeconds=30");
    Query logq;
    logq.tail_lines = 20;
    logq.follow = true;
    logq.container = "agent";
    CHECK(path(kPods, "n", "p", "log", logq) == "/api/v1/namespaces/n/pods/p/log?container=agent&tailLines=20&follow=true");
    Query del;
    del.propagation_policy = "Background";
    CHECK(path(kJobs, "n", "j", "", del) == "/apis/batch/v1/namespaces/n/jobs/j?propagationPolicy=Background");
    CHECK(proxy_path("n", "p", 7070, "/v1/peek?lines=5") == "/api/v1/namespaces/n/pods/p:7070/proxy/v1/peek?lines=5");
}

TEST_CASE("kubeconfig: current context, -data fields, literal '$', namespaces", "[k8s][config]") {
    std::string dir = test::temp_dir();
    auto c = ok(from_kubeconfig(kTwoContexts, dir + "/config", "", env_of({})));
    CHECK(c.context == "dev");
    CHECK(c.server == "https://dev.example:6443");
    CHECK(c.ca_pem == "CA-PEM");
    CHECK(c.client_cert_pem == "CERT");
    CHECK(c.client_key_pem == "KEY");
    CHECK(c.token == "abc$def${HOME}");  // kubeconfigs are not templates
    CHECK(c.ns == "team-a");
    CHECK_FALSE(c.insecure_skip_tls_verify);
    CHECK_FALSE(c.exec);
    CHECK(c.origin.find("context \"dev\"") != std::string::npos);

    auto anon = ok(from_kubeconfig(kTwoContexts, dir + "/config", "anon", env_of({})));
    CHECK(anon.token.empty());
    CHECK(anon.client_cert_pem.empty());
    CHECK(anon.ns.empty());
}

TEST_CASE("kubeconfig: files relative to the kubeconfig, token file, insecure", "[k8s][config]") {
    std::string dir = test::temp_dir();
    REQUIRE(::mkdir((dir + "/certs").c_str(), 0755) == 0);
    write(dir + "/certs/ca.pem", "FILE-CA");
    write(dir + "/certs/client.pem", "FILE-CERT");
    write(dir + "/tok", "tok-1\n");

    // client-key points at a file that does not exist: a usage error naming it.
    auto missing = from_kubeconfig(kTwoContexts, dir + "/config", "prod", env_of({}));
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().kind == ErrorKind::Usage);
    CHECK(missing.error().message.find("/abs/missing-key.pem") != std::string::npos);

    std::string text = kTwoContexts;
    text.replace(text.find("/abs/missing-key.pem"), 20, "certs/client.pem");
    auto c = ok(from_kubeconfig(text, dir + "/config", "prod", env_of({})));
    CHECK(c.server == "https://prod.example");
    CHECK(c.ca_pem == "FILE-CA");
    CHECK(c.insecure_skip_tls_verify);
    CHECK(c.client_cert_pem == "FILE-CERT");
    CHECK(c.token_file == dir + "/tok");
    CHECK(c.token.empty());
}

TEST_CASE("kubeconfig: what is wrong is said, with the file", "[k8s][config]") {
    auto env = env_of({});
    auto no_ctx = from_kubeconfig(kTwoContexts, "/k/config", "nope", env);
    REQUIRE_FALSE(no_ctx.ok());
    CHECK(no_ctx.error().message == "/k/config: no context named \"nope\"");
    CHECK(no_ctx.error().kind == ErrorKind::Usage);

    auto no_current = from_kubeconfig("clusters: []\n", "/k/config", "", env);
    REQUIRE_FALSE(no_current.ok());
    CHECK(no_current.error().message.find("no current-context") != std::string::npos);

    auto bad_yaml = from_kubeconfig("a: [1,\n", "/k/config", "", env);
    REQUIRE_FALSE(bad_yaml.ok());
    CHECK(bad_yaml.error().message.rfind("/k/config:", 0) == 0);

    auto provider = from_kubeconfig(R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://x"}}]
users: [{name: u, user: {auth-provider: {name: gcp}}}]
)", "/k/config", "", env);
    REQUIRE_FALSE(provider.ok());
    CHECK(provider.error().message.find("auth-provider \"gcp\" is not supported") != std::string::npos);

    auto bad_data = from_kubeconfig(R"(current-context: c
contexts: [{name: c, context: {cluster: k}}]
clusters: [{name: k, cluster: {server: "https://x", certificate-authority-data: "%%%"}}]
)", "/k/config", "", env);
    REQUIRE_FALSE(bad_data.ok());
    CHECK(bad_data.error().message.find("certificate-authority-data") != std::string::npos);
}

TEST_CASE("kubeconfig: exec plugins, v1 and v1beta1, with cluster info", "[k8s][config][exec]") {
    std::string text = R"(current-context: eks
contexts: [{name: eks, context: {cluster: k, user: u}}]
clusters:
- name: k
  cluster:
    server: https://eks.example
    certificate-authority-data: Q0EtUEVN
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: fracta}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: bin/get-token
      args: [--cluster, one, "2"]
      env: [{name: REGION, value: eu-1}]
      installHint: install get-token
      provideClusterInfo: true
      interactiveMode: Never
)";
    auto c = ok(from_kubeconfig(text, "/home/u/.kube/config", "", env_of({})));
    REQUIRE(c.exec);
    CHECK(c.exec->api_version == "client.authentication.k8s.io/v1beta1");
    CHECK(c.exec->command == "/home/u/.kube/bin/get-token");
    CHECK(c.exec->args == std::vector<std::string>{"--cluster", "one", "2"});
    REQUIRE(c.exec->env.size() == 1);
    CHECK(c.exec->env[0] == std::pair<std::string, std::string>{"REGION", "eu-1"});
    CHECK(c.exec->install_hint == "install get-token");
    CHECK(c.exec->cluster["server"] == "https://eks.example");
    CHECK(c.exec->cluster["certificate-authority-data"] == "Q0EtUEVN");
    CHECK(c.exec->cluster["config"] == Json{{"audience", "fracta"}});

    std::string bare = text;
    bare.replace(bare.find("bin/get-token"), 13, "aws");
    CHECK(ok(from_kubeconfig(bare, "/home/u/.kube/config", "", env_of({}))).exec->command == "aws");

    std::string old = text;
    old.replace(old.find("v1beta1"), 7, "v1alpha1");
    auto refused = from_kubeconfig(old, "/k", "", env_of({}));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.find("v1alpha1") != std::string::npos);
}

TEST_CASE("resolve: --kubeconfig, KUBECONFIG's first file, ~/.kube/config, contexts, namespaces", "[k8s][config]") {
    std::string dir = test::temp_dir();
    write(dir + "/a.yaml", kTwoContexts);
    std::string other = kTwoContexts;
    other.replace(other.find("current-context: dev"), 20, "current-context: anon");
    write(dir + "/b.yaml", other);
    REQUIRE(::mkdir((dir + "/home").c_str(), 0755) == 0);
    REQUIRE(::mkdir((dir + "/home/.kube").c_str(), 0755) == 0);
    write(dir + "/home/.kube/config", other);
    std::string sa = dir + "/sa";  // absent unless created

    ResolveOptions o;
    o.env = env_of({{"KUBECONFIG", dir + "/a.yaml:" + dir + "/b.yaml"}, {"HOME", dir + "/home"},
                    {"FRACTA_K8S_SA_DIR", sa}});
    auto c = ok(Config::resolve(o));
    CHECK(c.context == "dev");
    CHECK(c.ns == "team-a");

    o.kubeconfig = dir + "/b.yaml";  // the flag wins over KUBECONFIG
    c = ok(Config::resolve(o));
    CHECK(c.context == "anon");
    CHECK(c.ns == "fracta");  // no namespace anywhere

    o.context = "dev";  // --context wins over current-context
    CHECK(ok(Config::resolve(o)).context == "dev");

    o.context.clear();
    o.env = env_of({{"HOME", dir + "/home"}, {"FRACTA_K8S_CONTEXT", "dev"}, {"FRACTA_K8S_NAMESPACE", "envns"},
                    {"FRACTA_K8S_SA_DIR", sa}});
    o.kubeconfig.clear();
    c = ok(Config::resolve(o));  // ~/.kube/config, context from the environment
    CHECK(c.origin.find(dir + "/home/.kube/config") != std::string::npos);
    CHECK(c.context == "dev");
    CHECK(c.ns == "envns");  // the environment beats the context's namespace
    o.ns = "flagns";
    CHECK(ok(Config::resolve(o)).ns == "flagns");

    // A KUBECONFIG naming a missing file is an error, not a silent fallback.
    ResolveOptions missing;
    missing.env = env_of({{"KUBECONFIG", dir + "/nope.yaml"}, {"HOME", dir + "/home"}});
    auto m = Config::resolve(missing);
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().message.find(dir + "/nope.yaml") != std::string::npos);

    ResolveOptions nothing;
    nothing.env = env_of({{"HOME", dir}});
    auto none = Config::resolve(nothing);
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().kind == ErrorKind::Usage);
    CHECK(none.error().message.find("no Kubernetes configuration") != std::string::npos);
}

TEST_CASE("resolve: in cluster from the service account directory", "[k8s][config]") {
    std::string dir = test::temp_dir();
    write(dir + "/token", "sa-token\n");
    write(dir + "/ca.crt", "SA-CA");
    write(dir + "/namespace", "agents\n");
    ResolveOptions o;
    o.env = env_of({{"HOME", dir + "/nohome"}, {"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                    {"KUBERNETES_SERVICE_PORT", "443"}, {"FRACTA_K8S_SA_DIR", dir}});
    auto c = ok(Config::resolve(o));
    CHECK(c.server == "https://10.0.0.1:443");
    CHECK(c.ca_pem == "SA-CA");
    CHECK(c.token_file == dir + "/token");
    CHECK(c.ns == "agents");
    CHECK(c.origin.rfind("in-cluster", 0) == 0);

    o.env = env_of({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"},
                    {"FRACTA_K8S_SA_DIR", dir}, {"FRACTA_K8S_NAMESPACE", "x"}});
    c = ok(Config::resolve(o));
    CHECK(c.server == "https://[fd00::1]:6443");
    CHECK(c.ns == "x");

    o.env = env_of({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"},
                    {"FRACTA_K8S_SA_DIR", dir + "/missing"}});
    auto bad = Config::resolve(o);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find(dir + "/missing/token") != std::string::npos);
}

TEST_CASE("credentials: a rotated service account token is read again", "[k8s][credentials]") {
    std::string dir = test::temp_dir();
    write(dir + "/token", "first\n");
    write(dir + "/ca.crt", "CA");
    auto c = ok(in_cluster(env_of({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "1"},
                                   {"FRACTA_K8S_SA_DIR", dir}})));
    Credentials creds(c);
    CHECK(ok(creds.current()).token == "first");
    CHECK(ok(creds.current()).token == "first");
    // kubelet's rotation: a new file renamed into place.
    write(dir + "/token.new", "second-token");
    REQUIRE(::rename((dir + "/token.new").c_str(), (dir + "/token").c_str()) == 0);
    CHECK(ok(creds.current()).token == "second-token");
    REQUIRE(::unlink((dir + "/token").c_str()) == 0);
    auto gone = creds.current();
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.error().message.find(dir + "/token") != std::string::npos);
}

namespace {

// An exec plugin that counts its runs in a file, saves the environment it
// got, and prints an ExecCredential whose expiry the test chooses.
Config exec_config(const std::string& dir, const std::string& api_version, const std::string& status_json) {
    write(dir + "/plugin", "#!/bin/sh\n"
                           "n=$(cat \"$COUNT\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$COUNT\"\n"
                           "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$COUNT.info\"\n"
                           "printf '%s' \"$*\" > \"$COUNT.args\"\n"
                           "cat <<EOF\n"
                           "{\"apiVersion\":\"" + api_version + "\",\"kind\":\"ExecCredential\",\"status\":" +
                               status_json + "}\nEOF\n",
          0755);
    Config c;
    c.server = "https://unused.example";
    ExecPlugin p;
    p.api_version = api_version;
    p.command = dir + "/plugin";
    p.args = {"token", "--x"};
    p.env = {{"COUNT", dir + "/count"}};
    c.exec = p;
    return c;
}

int runs(const std::string& dir) {
    std::string n = slurp(dir + "/count");
    return n.empty() ? 0 : std::stoi(n);
}

}  // namespace

TEST_CASE("exec plugin: run once, cached until expirationTimestamp, then run again", "[k8s][credentials][exec]") {
    std::string dir = test::temp_dir();
    Config c = exec_config(dir, "client.authentication.k8s.io/v1",
                           R"j({"token":"tok-$(cat $COUNT)","expirationTimestamp":"2030-01-01T00:00:10Z"})j");
    Timestamp clock = ok(parse_rfc3339("2030-01-01T00:00:00Z"));
    Credentials creds(c, [&] { return clock; });

    CHECK(ok(creds.current()).token == "tok-1");
    CHECK(runs(dir) == 1);
    auto info = ok(parse_json(slurp(dir + "/count.info")));
    CHECK(info == Json{{"kind", "ExecCredential"},
                       {"apiVersion", "client.authentication.k8s.io/v1"},
                       {"spec", {{"interactive", false}}}});
    CHECK(slurp(dir + "/count.args") == "token --x");

    clock.seconds += 9;  // still valid
    CHECK(ok(creds.current()).token == "tok-1");
    CHECK(runs(dir) == 1);

    clock.seconds += 1;  // expired at exactly the timestamp
    CHECK(ok(creds.current()).token == "tok-2");
    CHECK(runs(dir) == 2);

    // A 401 makes the next call run it again, expiry or not.
    clock.seconds -= 5;
    CHECK(creds.invalidate());
    CHECK(ok(creds.current()).token == "tok-3");
    CHECK(creds.exec_runs() == 3);
}

TEST_CASE("exec plugin: v1beta1 client certificates, cluster info, failures", "[k8s][credentials][exec]") {
    std::string dir = test::temp_dir();
    Config c = exec_config(dir, "client.authentication.k8s.io/v1beta1",
                           R"({"clientCertificateData":"-----CERT-----","clientKeyData":"-----KEY-----"})");
    c.exec->provide_cluster_info = true;
    c.exec->cluster = {{"server", "https://k"}};
    Credentials creds(c);
    auto a = ok(creds.current());
    CHECK(a.token.empty());
    CHECK(a.cert_pem == "-----CERT-----");
    CHECK(a.key_pem == "-----KEY-----");
    ok(creds.current());
    CHECK(runs(dir) == 1);  // no expiry: cached for the process
    auto info = ok(parse_json(slurp(dir + "/count.info")));
    CHECK(info["spec"]["cluster"]["server"] == "https://k");

    // Wrong apiVersion back, non-zero exit, missing command (with the hint).
    Config wrong = exec_config(dir, "client.authentication.k8s.io/v1", R"({"token":"x"})");
    wrong.exec->api_version = "client.authentication.k8s.io/v1beta1";
    auto w = Credentials(wrong).current();
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().message.find("answered apiVersion") != std::string::npos);

    write(dir + "/failing", "#!/bin/sh\necho 'token expired: run sso login' >&2\nexit 3\n", 0755);
    Config failing = wrong;
    failing.exec->command = dir + "/failing";
    auto f = Credentials(failing).current();
    REQUIRE_FALSE(f.ok());
    CHECK(f.error().kind == ErrorKind::Failed);
    CHECK(f.error().message == "exec credential plugin " + dir +
                                   "/failing: exited with status 3: token expired: run sso login");

    Config missing = wrong;
    missing.exec->command = "fracta-no-such-plugin";
    missing.exec->install_hint = "brew install it";
    auto m = Credentials(missing).current();
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().kind == ErrorKind::NotFound);
    CHECK(m.error().message.find("brew install it") != std::string::npos);

    Config interactive = wrong;
    interactive.exec->interactive_mode = "Always";
    CHECK(Credentials(interactive).current().error().kind == ErrorKind::Usage);
}

TEST_CASE("resolve: fracta.yaml's runtime.kubernetes kubeconfig, context and namespace", "[k8s][config]") {
    std::string dir = test::temp_dir();
    REQUIRE(::mkdir((dir + "/kube").c_str(), 0755) == 0);
    write(dir + "/kube/config", kTwoContexts);
    write(dir + "/ambient.yaml", kTwoContexts);
    const Json root = {{"runtime", {{"kubernetes", {{"kubeconfig", "kube/config"}, {"context", "anon"}, {"namespace", "yns"}}}}}};
    ResolveOptions o;
    o.env = env_of({{"KUBECONFIG", dir + "/ambient.yaml"}, {"HOME", dir}, {"FRACTA_K8S_SA_DIR", dir + "/sa"}});
    REQUIRE(from_fracta_config(root, dir, o).ok());
    CHECK(o.config_kubeconfig == dir + "/kube/config");  // relative to the file's directory
    auto c = ok(Config::resolve(o));
    CHECK(c.origin.find(dir + "/kube/config") != std::string::npos);  // the file's, not KUBECONFIG's
    CHECK(c.context == "anon");
    CHECK(c.ns == "yns");

    // the environment outranks the file's context and namespace
    o.env = env_of({{"HOME", dir}, {"FRACTA_K8S_CONTEXT", "dev"}, {"FRACTA_K8S_NAMESPACE", "envns"},
                    {"FRACTA_K8S_SA_DIR", dir + "/sa"}});
    c = ok(Config::resolve(o));
    CHECK(c.context == "dev");
    CHECK(c.ns == "envns");
    // and the flags outrank both
    o.kubeconfig = dir + "/ambient.yaml";
    o.context = "anon";
    c = ok(Config::resolve(o));
    CHECK(c.origin.find(dir + "/ambient.yaml") != std::string::npos);
    CHECK(c.context == "anon");

    ResolveOptions home;
    home.env = env_of({{"HOME", "/home/u"}});
    REQUIRE(from_fracta_config({{"runtime", {{"kubernetes", {{"kubeconfig", "~/.kube/other"}}}}}}, dir, home).ok());
    CHECK(home.config_kubeconfig == "/home/u/.kube/other");
    auto bad = from_fracta_config({{"runtime", {{"kubernetes", {{"context", 7}}}}}}, dir, home);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().kind == ErrorKind::Usage);
    CHECK(bad.error().message.find("runtime.kubernetes.context") != std::string::npos);
}
