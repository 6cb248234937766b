// The Kubernetes object builders (lib/k8s/objects*, lib/provider/k8s_objects*): derived names, the
// workspace-file key encoding, labels, the restricted security context,
// secrets kept out of the pod spec, ownerReferences, batch vs stream — and
// the rendered Lists checked against the Kubernetes OpenAPI schemas by
// tests/k8s/validate.mjs (node, kubernetes-models from tests/node_modules).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <set>

#include "base/json.h"
#include "k8s/objects.h"
#include "provider/k8s_objects.h"
#include "provider/contract.h"
#include "support.h"

using namespace fracta;
using namespace fracta::k8s;
using namespace fracta::provider;

namespace {

provider::StartRequest request(const std::string& text) {
    auto j = parse_json(text);
    REQUIRE(j.ok());
    auto r = provider::parse_start_request(*j);
    REQUIRE(r.ok());
    return *r;
}

SessionInput input(const std::string& name, const std::string& start_json) {
    SessionInput in;
    in.name = name;
    in.request = request(start_json);
    in.control_token = "control-token-0123456789";
    return in;
}

SessionObjects build(const SessionInput& in) {
    auto o = build_session_objects(in);
    INFO((o.ok() ? "" : o.error().message));
    REQUIRE(o.ok());
    return *o;
}

const Json& pod_spec_of(const SessionObjects& o) {
    return o.mode == "batch" ? o.workload["spec"]["template"]["spec"] : o.workload["spec"];
}

const Json& agent_of(const SessionObjects& o) {
    return pod_spec_of(o)["containers"][0];
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream f(path);
    f << text;
    REQUIRE(f.good());
}

std::string read_text(const std::string& path) {
    std::ifstream f(path);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

const char* kBatch = R"({
  "command": "claude -p 'do the thing'",
  "mode": "batch",
  "env": {"FRACTA_TASK": "fix-bug", "FRACTA_GATEWAY_URL": "http://fracta-gw:8080"},
  "secret_env": {"FRACTA_GATEWAY_TOKEN": "gw-secret-token-abc", "ANTHROPIC_API_KEY": "sk-ant-very-secret"},
  "workspace_files": {".mcp.json": "{\"mcpServers\":{}}", "CLAUDE.md": "# contract\n", ".claude/settings.json": "{}"}
})";

const char* kStream = R"({"command": "opencode", "mode": "stream", "workspace_files": {"AGENTS.md": "hi"}})";

}  // namespace

TEST_CASE("k8s names: DNS-1123, label-safe, collision-free, short enough", "[k8s]") {
    auto n = object_names("fix-bug");
    REQUIRE(n.ok());
    CHECK(n->dns == "fix-bug");
    CHECK(n->label == "fix-bug");
    CHECK(n->job == "fracta-agent-fix-bug");
    CHECK(n->pod == "fracta-stream-fix-bug");
    CHECK(n->config_map == "fracta-config-fix-bug");
    CHECK(n->secret == "fracta-auth-fix-bug");

    // Sanitising changes these: each gets the hash of its raw name.
    auto upper = object_names("Fix_Bug");
    auto lower = object_names("fix-bug");
    auto under = object_names("fix_bug");
    REQUIRE((upper.ok() && lower.ok() && under.ok()));
    CHECK(upper->dns.rfind("fix-bug-", 0) == 0);
    CHECK(upper->dns.size() == std::string("fix-bug-").size() + 8);
    std::set<std::string> dns = {upper->dns, lower->dns, under->dns};
    CHECK(dns.size() == 3);
    CHECK(upper->label == "Fix_Bug");                   // a valid label value stays as it is
    CHECK(object_names("Fix_Bug")->dns == upper->dns);  // stable

    // Gas City's mapped names ("/" → "--", "." → "__").
    auto gc = object_names("rig--polecat__1");
    REQUIRE(gc.ok());
    CHECK(gc->dns.rfind("rig--polecat--1-", 0) == 0);
    CHECK(gc->label == "rig--polecat__1");

    // Edges that neither a DNS label nor a label value may have.
    auto edges = object_names("_x_");
    REQUIRE(edges.ok());
    CHECK(edges->dns.rfind("x-", 0) == 0);
    CHECK(edges->label.rfind("x-", 0) == 0);
    auto only = object_names("__");
    REQUIRE(only.ok());
    CHECK(only->dns.size() == 8);
    CHECK(valid_label_value(only->label));

    // Long names are truncated, with the hash: Job and pod names stay ≤ 63.
    std::string long_name(150, 'a');
    auto l1 = object_names(long_name);
    auto l2 = object_names(long_name + "b");
    REQUIRE((l1.ok() && l2.ok()));
    CHECK(l1->job.size() <= 63);
    CHECK(l1->pod.size() <= 63);
    CHECK(l1->config_map.size() <= 63);
    CHECK(l1->label.size() <= 63);
    CHECK(l1->dns != l2->dns);
    CHECK(l1->label != l2->label);
    CHECK(valid_label_value(l1->label));

    // What the session contract refuses, the builders refuse too.
    CHECK(object_names("a/b").error().kind == ErrorKind::Usage);
    CHECK(object_names("").error().kind == ErrorKind::Usage);
    CHECK(object_names("a.b").error().kind == ErrorKind::Usage);
}

TEST_CASE("k8s names: every sanitised form is valid", "[k8s]") {
    std::mt19937 rng(42);
    const std::string alphabet = "abcXYZ019_-";
    for (int i = 0; i < 2000; ++i) {
        std::string raw;
        size_t len = 1 + rng() % 80;
        for (size_t k = 0; k < len; ++k) raw += alphabet[rng() % alphabet.size()];
        auto n = object_names(raw);
        REQUIRE(n.ok());
        INFO(raw);
        CHECK(valid_label_value(n->label));
        CHECK(!n->label.empty());
        CHECK(n->dns.size() <= 49);
        CHECK(dns_label_name(n->dns, 63) == n->dns);  // already a DNS label: a fixed point
        CHECK(n->pod.size() <= 63);
    }
}

TEST_CASE("k8s workspace file keys: the spec's encoding, and a round trip", "[k8s]") {
    const std::pair<const char*, const char*> keys[] = {{"CLAUDE.md", "CLAUDE.md"},
                                                        {".mcp.json", "dot-mcp.json"},
                                                        {".claude/settings.json", "dot-claude--settings.json"},
                                                        {"a/.env", "a--dot-env"},
                                                        {"src/my-file.txt", "src--my-file.txt"},
                                                        {"./docs//x.md", "docs--x.md"},
                                                        // What would be ambiguous is escaped.
                                                        {"a--b", "a_2d_2db"},
                                                        {"-x-", "_2dx_2d"},
                                                        {"dot-env", "dot_2denv"},
                                                        {"under_score", "under_5fscore"},
                                                        {"sp ace", "sp_20ace"}};
    for (auto [path, key] : keys) CHECK(*encode_file_key(path) == key);

    CHECK(*decode_file_key("dot-claude--settings.json") == ".claude/settings.json");
    CHECK(*decode_file_key("dot_2denv") == "dot-env");

    // Bad paths and keys.
    CHECK(encode_file_key("../x").error().kind == ErrorKind::Usage);
    CHECK(encode_file_key("/etc/passwd").error().kind == ErrorKind::Usage);
    CHECK(encode_file_key("a/../../b").error().kind == ErrorKind::Usage);
    CHECK(encode_file_key("").error().kind == ErrorKind::Usage);
    CHECK(encode_file_key(std::string(300, 'x')).error().kind == ErrorKind::Usage);
    for (const char* key : {"a---b", "a_2", "a_zz", "-a", "a-", "a_2fb", "x--", "--x", "a_2Db", "a b", "A--"})
        CHECK_FALSE(decode_file_key(key).ok());
    CHECK(decode_file_key("A--b").ok());

    // Random paths from an alphabet full of trouble survive the round trip,
    // and every key is a valid ConfigMap key.
    std::mt19937 rng(7);
    const std::string alphabet = "ab.-_/ Z9dot\xc3\xa9";
    int tried = 0;
    for (int i = 0; i < 5000; ++i) {
        std::string path;
        size_t len = 1 + rng() % 24;
        for (size_t k = 0; k < len; ++k) path += alphabet[rng() % alphabet.size()];
        auto key = encode_file_key(path);
        if (!key.ok()) continue;  // "..", empty
        ++tried;
        INFO(path << " -> " << *key);
        for (char c : *key)
            REQUIRE(((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                     c == '_' || c == '.'));
        REQUIRE((*key)[0] != '.');
        auto back = decode_file_key(*key);
        REQUIRE(back.ok());
        // The round trip gives the normalised path (no empty or "." parts).
        auto again = encode_file_key(*back);
        REQUIRE(again.ok());
        CHECK(*again == *key);
        if (path.find("//") == std::string::npos && path.find("./") == std::string::npos && path.back() != '/' &&
            path[0] != '/' && path != "." && path.substr(path.size() > 1 ? path.size() - 2 : 0) != "/.")
            CHECK(*back == path);
    }
    CHECK(tried > 3000);

    // What the supervisor gets from the mounted volume, kubelet entries included.
    auto files = decode_file_keys(
        {{"..data", "x"}, {"..2026_01_01", "y"}, {"dot-mcp.json", "{}"}, {"dot-claude--settings.json", "s"}});
    REQUIRE(files.ok());
    CHECK(*files == std::map<std::string, std::string>{{".mcp.json", "{}"}, {".claude/settings.json", "s"}});
    CHECK_FALSE(decode_file_keys({{"a_zz", "x"}}).ok());
}

TEST_CASE("k8s secret values", "[k8s]") {
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
    CHECK(*secret_value({{"data", {{"K", base64_encode(bytes)}}}}, "K") == bytes);
    CHECK(*secret_value({{"data", {{"K", "Zm9v"}}}}, "K") == "foo");
    CHECK(*secret_value({{"stringData", {{"K", "bar"}}}}, "K") == "bar");
    CHECK_FALSE(secret_value({{"data", Json::object()}}, "K").ok());
}

TEST_CASE("k8s batch session: a Job, its ConfigMap and Secret", "[k8s]") {
    SessionObjects o = build(input("fix-bug", kBatch));
    const Json& job = o.workload;
    CHECK(job["apiVersion"] == "batch/v1");
    CHECK(job["kind"] == "Job");
    CHECK(job["metadata"]["name"] == "fracta-agent-fix-bug");
    CHECK(job["metadata"]["namespace"] == "fracta");
    CHECK(job["spec"]["backoffLimit"] == 0);
    CHECK(job["spec"]["ttlSecondsAfterFinished"] == 300);
    CHECK_FALSE(job["spec"].contains("activeDeadlineSeconds"));  // no max age configured

    const Json& pod = pod_spec_of(o);
    CHECK(pod["restartPolicy"] == "Never");
    CHECK(pod["automountServiceAccountToken"] == false);
    const Json& agent = agent_of(o);
    CHECK(agent["name"] == "agent");
    CHECK(agent["image"] == std::string("ghcr.io/fracta-dev/fracta-agent:") + FRACTA_VERSION);
    CHECK(agent["imagePullPolicy"] == "IfNotPresent");
    CHECK(agent["workingDir"] == "/workspace/agents/fix-bug");
    CHECK(agent["command"] == Json::array({"fracta-spawn-local", "supervise", "fix-bug", "--foreground", "--copy-output", "--control",
                                           ":7070", "--mode", "batch", "--files-from", "/etc/fracta/files", "--",
                                           "/bin/sh", "-c", "claude -p 'do the thing'"}));
    CHECK(agent["ports"][0]["containerPort"] == 7070);

    // The ConfigMap at /etc/fracta/files, the keys encoded.
    bool mounted = false;
    for (const Json& m : agent["volumeMounts"])
        if (m["mountPath"] == "/etc/fracta/files") {
            mounted = true;
            CHECK(m["readOnly"] == true);
            for (const Json& v : pod["volumes"])
                if (v["name"] == m["name"]) CHECK(v["configMap"]["name"] == "fracta-config-fix-bug");
        }
    CHECK(mounted);
    CHECK(o.config_map["metadata"]["name"] == "fracta-config-fix-bug");
    CHECK(o.config_map["data"]["dot-mcp.json"] == "{\"mcpServers\":{}}");
    CHECK(o.config_map["data"]["CLAUDE.md"] == "# contract\n");
    CHECK(o.config_map["data"]["dot-claude--settings.json"] == "{}");
    CHECK(o.config_map["data"].size() == 3);

    // Secret values: in the Secret (base64), referenced from the pod, never plain.
    CHECK(o.secret["metadata"]["name"] == "fracta-auth-fix-bug");
    CHECK(o.secret["type"] == "Opaque");
    CHECK(*secret_value(o.secret, "FRACTA_GATEWAY_TOKEN") == "gw-secret-token-abc");
    CHECK(*secret_value(o.secret, "ANTHROPIC_API_KEY") == "sk-ant-very-secret");
    CHECK(*secret_value(o.secret, "FRACTA_SUPERVISOR_TOKEN") == "control-token-0123456789");
    std::string job_text = job.dump();
    std::string cm_text = o.config_map.dump();
    for (const char* secret : {"gw-secret-token-abc", "sk-ant-very-secret", "control-token-0123456789"}) {
        CHECK(job_text.find(secret) == std::string::npos);
        CHECK(cm_text.find(secret) == std::string::npos);
        CHECK(job_text.find(base64_encode(secret)) == std::string::npos);
    }
    std::map<std::string, Json> env;
    for (const Json& e : agent["env"]) env[e["name"].get<std::string>()] = e;
    CHECK(env["FRACTA_TASK"]["value"] == "fix-bug");
    CHECK(env["HOME"]["value"] == "/home/fracta");
    for (const char* key : {"FRACTA_GATEWAY_TOKEN", "ANTHROPIC_API_KEY", "FRACTA_SUPERVISOR_TOKEN"}) {
        INFO(key);
        REQUIRE(env.count(key));
        CHECK_FALSE(env[key].contains("value"));
        CHECK(env[key]["valueFrom"]["secretKeyRef"]["name"] == "fracta-auth-fix-bug");
        CHECK(env[key]["valueFrom"]["secretKeyRef"]["key"] == key);
    }
    CHECK(agent["env"].size() == 6);
}

TEST_CASE("k8s labels and annotations on every object", "[k8s]") {
    SessionInput in = input("Fix_Bug", kBatch);
    in.settings.labels = {{"team", "infra"}, {"app", "spoofed"}};
    in.settings.annotations = {{"example.com/owner", "ops"}};
    SessionObjects o = build(in);
    const Json expected = {{"team", "infra"},
                           {"app", "fracta"},
                           {"app.kubernetes.io/component", "agent"},
                           {"app.kubernetes.io/managed-by", "fracta"},
                           {"app.kubernetes.io/name", "fracta"},
                           {"fracta-agent-id", "Fix_Bug"},
                           {"fracta/mode", "batch"}};
    auto same = [](const Json& a, const Json& b) {
        std::map<std::string, std::string> x, y;
        for (const auto& [k, v] : a.items()) x[k] = v.get<std::string>();
        for (const auto& [k, v] : b.items()) y[k] = v.get<std::string>();
        return x == y;
    };
    for (const Json* obj : {&o.workload, &o.config_map, &o.secret, &o.workload["spec"]["template"]}) {
        CHECK(same((*obj)["metadata"]["labels"], expected));
        CHECK((*obj)["metadata"]["annotations"]["fracta/session-name"] == "Fix_Bug");
        CHECK((*obj)["metadata"]["annotations"]["example.com/owner"] == "ops");
    }
    CHECK(o.workload["metadata"]["name"] != "fracta-agent-fix-bug");  // hashed, not colliding with fix-bug

    SessionInput bad = input("x", kBatch);
    bad.settings.labels = {{"team", "not valid!"}};
    CHECK(build_session_objects(bad).error().kind == ErrorKind::Usage);
    bad.settings.labels = {{"-bad-key", "v"}};
    CHECK(build_session_objects(bad).error().kind == ErrorKind::Usage);
}

TEST_CASE("k8s pods run with the restricted security context", "[k8s]") {
    for (const char* start : {kBatch, kStream}) {
        SessionObjects o = build(input("sec", start));
        const Json& pod = pod_spec_of(o);
        const Json& psc = pod["securityContext"];
        CHECK(psc["runAsNonRoot"] == true);
        CHECK(psc["runAsUser"] == 65532);
        CHECK(psc["seccompProfile"]["type"] == "RuntimeDefault");
        const Json& sc = agent_of(o)["securityContext"];
        CHECK(sc["runAsNonRoot"] == true);
        CHECK(sc["runAsUser"] == 65532);
        CHECK(sc["allowPrivilegeEscalation"] == false);
        CHECK(sc["capabilities"]["drop"] == Json::array({"ALL"}));
        CHECK_FALSE(sc["capabilities"].contains("add"));
        CHECK(sc["seccompProfile"]["type"] == "RuntimeDefault");
        CHECK(sc["readOnlyRootFilesystem"] == true);
        // Writable places are emptyDirs: /tmp, HOME, the workdir.
        std::map<std::string, std::string> mount_volume;
        for (const Json& m : agent_of(o)["volumeMounts"])
            mount_volume[m["mountPath"].get<std::string>()] = m["name"].get<std::string>();
        for (const char* path : {"/tmp", "/home/fracta", "/workspace/agents/sec"}) {
            INFO(path);
            REQUIRE(mount_volume.count(path));
            bool empty_dir = false;
            for (const Json& v : pod["volumes"])
                if (v["name"] == mount_volume[path]) empty_dir = v.contains("emptyDir");
            CHECK(empty_dir);
        }
        CHECK(agent_of(o)["resources"]["requests"]["cpu"] == "500m");
        CHECK(agent_of(o)["resources"]["limits"]["memory"] == "2Gi");
    }
}

TEST_CASE("k8s stream session: a bare Pod, same shape", "[k8s]") {
    SessionInput in = input("chat", kStream);
    in.settings.max_age_seconds = 14400;
    SessionObjects o = build(in);
    CHECK(o.workload["apiVersion"] == "v1");
    CHECK(o.workload["kind"] == "Pod");
    CHECK(o.workload["metadata"]["name"] == "fracta-stream-chat");
    CHECK(o.workload["metadata"]["labels"]["fracta/mode"] == "stream");
    CHECK(o.workload["spec"]["restartPolicy"] == "Never");
    CHECK(o.workload["spec"]["activeDeadlineSeconds"] == 14400);
    const Json& cmd = agent_of(o)["command"];
    CHECK(cmd[8] == "stream");
    CHECK(cmd[cmd.size() - 1] == "opencode");
    CHECK(o.config_map["data"]["AGENTS.md"] == "hi");
    CHECK(*secret_value(o.secret, "FRACTA_SUPERVISOR_TOKEN") == "control-token-0123456789");

    // Batch with a max age: the deadline is on the Job.
    SessionInput b = input("aged", kBatch);
    b.settings.max_age_seconds = 60;
    CHECK(build(b).workload["spec"]["activeDeadlineSeconds"] == 60);

    // No command: the session's $SHELL (else /bin/sh) for stream, `true` for batch.
    auto last = [](const SessionObjects& s) { return agent_of(s)["command"].back().get<std::string>(); };
    CHECK(last(build(input("s", R"({"mode":"stream"})"))) == R"(exec "${SHELL:-/bin/sh}")");
    CHECK(last(build(input("b", "{}"))) == "true");

    // A stream session is a terminal; the runtime's nudge keys reach its supervisor.
    SessionObjects keyed = build(input("k", R"({"mode":"stream","clear_keys":["C-a","C-k"],"submit_keys":["Escape","Enter"]})"));
    const Json& argv = agent_of(keyed)["command"];
    auto after = [&](const std::string& flag) {
        for (size_t i = 0; i + 1 < argv.size(); ++i)
            if (argv[i] == flag) return argv[i + 1].get<std::string>();
        return std::string();
    };
    CHECK(after("--clear-keys") == "C-a,C-k");
    CHECK(after("--submit-keys") == "Escape,Enter");
    bool term = false;
    for (const Json& e : agent_of(keyed)["env"])
        if (e.value("name", "") == "TERM") term = e.value("value", "") == "xterm-256color";
    CHECK(term);
}

TEST_CASE("k8s ownerReferences: ConfigMap and Secret owned by the workload", "[k8s]") {
    SessionObjects o = build(input("own", kBatch));
    Json created = o.workload;
    created["metadata"]["uid"] = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
    auto owner = owner_of(created);
    REQUIRE(owner.ok());
    for (const Json& obj : {with_owner(o.config_map, *owner), with_owner(o.secret, *owner)}) {
        const Json& refs = obj["metadata"]["ownerReferences"];
        REQUIRE(refs.size() == 1);
        CHECK(refs[0]["apiVersion"] == "batch/v1");
        CHECK(refs[0]["kind"] == "Job");
        CHECK(refs[0]["name"] == "fracta-agent-own");
        CHECK(refs[0]["uid"] == "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
        CHECK(refs[0]["controller"] == true);
    }
    SessionObjects s = build(input("own", kStream));
    Json pod = s.workload;
    pod["metadata"]["uid"] = "u-1";
    CHECK(with_owner(s.secret, *owner_of(pod))["metadata"]["ownerReferences"][0]["kind"] == "Pod");
    CHECK_FALSE(owner_of(o.workload).ok());  // not created yet: no uid
}

TEST_CASE("k8s settings: config keys, session overrides, bad input", "[k8s]") {
    auto root = parse_json(R"({
      "runtime": {"kubernetes": {
        "namespace": "agents", "image": "registry.local/agent:1", "image_pull_policy": "Always",
        "service_account": "fracta-agent", "job_ttl_seconds": 60,
        "resources": {"cpu_request": "250m", "memory_limit": "1Gi"},
        "labels": {"team": "a"}, "node_selector": {"pool": "agents"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "agents", "effect": "NoSchedule"}],
        "extra_volumes": [{"name": "cache", "emptyDir": {}}],
        "extra_volume_mounts": [{"name": "cache", "mountPath": "/cache"}]}},
      "reaper": {"max_age": "4h"}
    })");
    REQUIRE(root.ok());
    auto s = settings_from_config(*root);
    REQUIRE(s.ok());
    CHECK(s->namespace_name == "agents");
    CHECK(s->max_age_seconds == 4 * 3600);
    CHECK(s->resources["requests"]["cpu"] == "250m");
    CHECK(s->resources["requests"]["memory"] == "512Mi");  // default kept
    CHECK(s->resources["limits"]["memory"] == "1Gi");

    SessionInput in = input("ovr", R"({"kubernetes": {"image": "registry.local/claude:2",
        "labels": {"tier": "heavy"}, "resources": {"limits": {"cpu": "4"}},
        "tolerations": [{"key": "gpu", "operator": "Exists"}]}})");
    in.settings = *s;
    SessionObjects o = build(in);
    const Json& pod = pod_spec_of(o);
    CHECK(o.workload["metadata"]["namespace"] == "agents");
    CHECK(o.workload["spec"]["ttlSecondsAfterFinished"] == 60);
    CHECK(o.workload["spec"]["activeDeadlineSeconds"] == 14400);
    CHECK(agent_of(o)["image"] == "registry.local/claude:2");
    CHECK(agent_of(o)["imagePullPolicy"] == "Always");
    CHECK(agent_of(o)["resources"]["limits"]["cpu"] == "4");
    CHECK(pod["serviceAccountName"] == "fracta-agent");
    CHECK_FALSE(pod.contains("automountServiceAccountToken"));
    CHECK(pod["nodeSelector"]["pool"] == "agents");
    CHECK(pod["tolerations"].size() == 2);
    CHECK(pod["volumes"].back()["name"] == "cache");
    CHECK(agent_of(o)["volumeMounts"].back()["mountPath"] == "/cache");
    CHECK(o.workload["metadata"]["labels"]["team"] == "a");
    CHECK(o.workload["metadata"]["labels"]["tier"] == "heavy");

    for (const char* bad :
         {R"({"runtime":{"kubernetes":{"image_pull_policy":"Sometimes"}}})",
          R"({"runtime":{"kubernetes":{"job_ttl_seconds":-1}}})",
          R"({"runtime":{"kubernetes":{"namespace":"Not_DNS"}}})",
          R"({"runtime":{"kubernetes":{"resources":{"gpus":1}}}})",
          R"({"runtime":{"kubernetes":{"tolerations":{"a":1}}}})", R"({"reaper":{"max_age":"forever"}})",
          R"({"runtime":{"kubernetes":{"push":"yes"}}})", R"({"runtime":{"kubernetes":{"git":"https://x"}}})",
          R"({"runtime":{"kubernetes":{"git":{"depth":-2}}}})",
          R"({"runtime":{"kubernetes":{"git":{"token_secret":"Not A Name"}}}})",
          R"({"runtime":{"kubernetes":{"git":{"token_key":""}}}})"}) {
        INFO(bad);
        auto r = settings_from_config(*parse_json(bad));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind == ErrorKind::Usage);
    }
    auto named = settings_from_config(*parse_json(R"({"runtime":{"kubernetes":{"job_ttl_seconds":"x"}}})"));
    CHECK(named.error().message.find("runtime.kubernetes.job_ttl_seconds") != std::string::npos);

    auto git = settings_from_config(*parse_json(
        R"({"runtime":{"kubernetes":{"push":false,"git":{"url":"https://git.example/p.git","token_secret":"pat.v1","depth":5}}}})"));
    REQUIRE(git.ok());
    CHECK_FALSE(git->git.push);
    CHECK(git->git.url == "https://git.example/p.git");
    CHECK(git->git.token_secret == "pat.v1");
    CHECK(git->git.token_key == "token");
    CHECK(git->git.depth == 5);
    auto depth = settings_from_config(*parse_json(R"({"runtime":{"kubernetes":{"git":{"depth":"x"}}}})"));
    CHECK(depth.error().message.find("runtime.kubernetes.git.depth") != std::string::npos);

    // The pod's git workspace: flags on the supervisor, the token by reference.
    SessionInput with_git = input("g", R"({"command": "true"})");
    with_git.git = {"https://git.example/p.git", "0123abcd", "feature/g", 2, true, "pat", "token"};
    auto built = build_session_objects(with_git);
    REQUIRE(built.ok());
    const Json& c = built->workload["spec"]["template"]["spec"]["containers"][0];
    std::vector<std::string> cmd = c["command"].get<std::vector<std::string>>();
    auto flag = [&](const std::string& f) {
        auto it = std::find(cmd.begin(), cmd.end(), f);
        return it == cmd.end() || it + 1 == cmd.end() ? std::string("<none>") : *(it + 1);
    };
    CHECK(flag("--git-url") == "https://git.example/p.git");
    CHECK(flag("--git-commit") == "0123abcd");
    CHECK(flag("--git-branch") == "feature/g");
    CHECK(flag("--git-depth") == "2");
    CHECK(std::find(cmd.begin(), cmd.end(), "--git-push") < std::find(cmd.begin(), cmd.end(), "--"));
    bool by_ref = false;
    for (const Json& e : c["env"])
        if (e["name"] == "FRACTA_GIT_TOKEN")
            by_ref = e["valueFrom"]["secretKeyRef"] == Json{{"name", "pat"}, {"key", "token"}} && !e.contains("value");
    CHECK(by_ref);
    CHECK(build_session_objects(input("x", R"({"env": {"FRACTA_GIT_TOKEN": "v"}})")).error().kind == ErrorKind::Usage);

    // Input the builders refuse before anything is created.
    CHECK(build_session_objects(input("x", R"({"secret_env": {"BAD-NAME": "v"}})")).error().kind == ErrorKind::Usage);
    CHECK(build_session_objects(input("x", R"({"env": {"FRACTA_SUPERVISOR_TOKEN": "v"}})")).error().kind ==
          ErrorKind::Usage);
    CHECK(build_session_objects(
              input("x", R"({"kubernetes": {"extra_volumes": [{"name": "fracta-tmp", "emptyDir": {}}]}})"))
              .error()
              .kind == ErrorKind::Usage);
    std::string big(1100 * 1024, 'x');
    SessionInput huge = input("x", "{}");
    huge.request.workspace_files["big.txt"] = big;
    CHECK(build_session_objects(huge).error().kind == ErrorKind::Usage);
    SessionInput no_token = input("x", "{}");
    no_token.control_token.clear();
    CHECK_FALSE(build_session_objects(no_token).ok());
    // A plain variable that is also secret is only taken from the Secret.
    SessionObjects dup = build(input("x", R"({"env": {"K": "plain"}, "secret_env": {"K": "hidden"}})"));
    CHECK(dup.workload.dump().find("plain") == std::string::npos);
}

TEST_CASE("k8s secret_refs: the user's own Secret by reference, nothing copied into the session's", "[k8s]") {
    SessionObjects o = build(input("x", R"({"secret_refs": {"ANTHROPIC_API_KEY": {"secret": "team-keys", "key": "anthropic"}}})"));
    const Json& env = o.workload["spec"]["template"]["spec"]["containers"][0]["env"];
    bool by_ref = false;
    for (const Json& e : env)
        if (e["name"] == "ANTHROPIC_API_KEY")
            by_ref = e["valueFrom"]["secretKeyRef"] == Json{{"name", "team-keys"}, {"key", "anthropic"}} && !e.contains("value");
    CHECK(by_ref);
    CHECK_FALSE(o.secret["data"].contains("ANTHROPIC_API_KEY"));

    for (const char* bad : {R"({"secret_refs": {"K": {"secret": "Team_Keys", "key": "k"}}})",
                            R"({"secret_refs": {"K": {"secret": "team", "key": "a/b"}}})",
                            R"({"secret_refs": {"BAD-NAME": {"secret": "team", "key": "k"}}})",
                            R"({"secret_refs": {"FRACTA_GIT_TOKEN": {"secret": "team", "key": "k"}}})",
                            R"({"secret_refs": {"K": {"secret": "team", "key": "k"}}, "secret_env": {"K": "v"}})"}) {
        INFO(bad);
        auto r = build_session_objects(input("x", bad));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind == ErrorKind::Usage);
    }
}

TEST_CASE("k8s render: the Lists validate against the Kubernetes OpenAPI schemas", "[k8s]") {
    std::string dir = test::temp_dir();
    std::vector<std::string> files;
    SessionInput batch = input("Fix_Bug", kBatch);
    batch.settings.max_age_seconds = 3600;
    batch.settings.node_selector = {{"kubernetes.io/os", "linux"}};
    batch.settings.tolerations = Json::array({{{"key", "dedicated"}, {"operator", "Exists"}}});
    batch.settings.extra_volumes = Json::array({{{"name", "cache"}, {"emptyDir", Json::object()}}});
    batch.settings.extra_volume_mounts = Json::array({{{"name", "cache"}, {"mountPath", "/cache"}}});
    batch.settings.service_account = "fracta-agent";
    for (auto [name, in] : {std::pair{"batch", batch}, std::pair{"stream", input("chat", kStream)}}) {
        auto list = render(in);
        REQUIRE(list.ok());
        CHECK((*list)["kind"] == "List");
        REQUIRE((*list)["items"].size() == 3);
        CHECK((*list)["items"][0]["kind"] == (std::string(name) == "batch" ? "Job" : "Pod"));
        CHECK((*list)["items"][1]["kind"] == "ConfigMap");
        CHECK((*list)["items"][2]["kind"] == "Secret");
        std::string path = dir + "/" + name + ".json";
        write_text(path, list->dump(2));
        files.push_back(path);
        // The owned forms (what start creates second) validate too.
        auto objects = build_session_objects(in);
        REQUIRE(objects.ok());
        Json created = objects->workload;
        created["metadata"]["uid"] = "0b7c3a7e-0000-4000-8000-000000000001";
        Json owned = {{"apiVersion", "v1"},
                      {"kind", "List"},
                      {"items", Json::array({with_owner(objects->config_map, *owner_of(created)),
                                             with_owner(objects->secret, *owner_of(created))})}};
        std::string owned_path = dir + "/" + name + "-owned.json";
        write_text(owned_path, owned.dump(2));
        files.push_back(owned_path);
    }
    std::string cmd = "node " + test::source_root() + "/tests/k8s/validate.mjs";
    for (const auto& f : files) cmd += " " + f;
    cmd += " > " + dir + "/validate.out 2>&1";
    int rc = std::system(cmd.c_str());
    std::string out = read_text(dir + "/validate.out");
    INFO(cmd << "\n" << out);
    CHECK(rc == 0);
    CHECK(out == "ok: 10 objects\n");

    // The validator can fail: an unknown field and a bad enum are caught.
    auto list = render(input("bad", kBatch));
    REQUIRE(list.ok());
    (*list)["items"][0]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNobody"] = true;
    (*list)["items"][0]["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Sometimes";
    write_text(dir + "/bad.json", list->dump());
    std::string bad_cmd =
        "node " + test::source_root() + "/tests/k8s/validate.mjs " + dir + "/bad.json > " + dir + "/bad.out 2>&1";
    CHECK(std::system(bad_cmd.c_str()) != 0);
    auto bad_out = std::make_unique<std::string>(read_text(dir + "/bad.out"));
    INFO(*bad_out);
    CHECK(bad_out->find("runAsNobody") != std::string::npos);
    CHECK(bad_out->find("imagePullPolicy") != std::string::npos);
}
