// k8s.cc — see k8s.h: the backend's reads (one LIST of pods), logs, peek
// and render; start, stop and wait are in k8s_lifecycle.cc, the ops that go
// to the supervisor in k8s_control.cc.
#include "provider/k8s.h"

#include <filesystem>
#include <map>

#include "config/yaml.h"
#include "k8s/objects_names.h"
#include "provider/k8s_internal.h"
#include "provider/k8s_objects.h"

namespace fracta::provider {
namespace k8s_op {

namespace {

const Json* agent_container_status(const Json& pod) {
    const Json* status = pod.contains("status") ? &pod["status"] : nullptr;
    if (!status || !status->contains("containerStatuses") || !(*status)["containerStatuses"].is_array()) return nullptr;
    const Json& list = (*status)["containerStatuses"];
    for (const Json& c : list)
        if (c.value("name", "") == "agent") return &c;
    return list.empty() ? nullptr : &list[0];
}

}  // namespace

std::string str_at(const Json& j, const Json::json_pointer& p) {
    if (!j.contains(p)) return "";
    const Json& v = j.at(p);
    return v.is_string() ? v.get<std::string>() : "";
}

Result<std::optional<Json>> find_pod(k8s::Client& client, const k8s::ObjectNames& names) {
    k8s::Query q;
    q.label_selector = "fracta-agent-id=" + names.label;
    FRACTA_TRY_ASSIGN(list, client.list(k8s::kPods, q));
    std::optional<Json> newest;
    for (const Json& pod : list.value("items", Json::array())) {
        if (str_at(pod, "/metadata/annotations/fracta~1session-name"_json_pointer) != names.raw) continue;
        if (!newest || str_at(pod, "/metadata/creationTimestamp"_json_pointer) >=
                           str_at(*newest, "/metadata/creationTimestamp"_json_pointer))
            newest = pod;
    }
    return newest;
}

bool pod_live(const Json& pod) {
    if (pod.contains("/metadata/deletionTimestamp"_json_pointer)) return false;
    std::string phase = str_at(pod, "/status/phase"_json_pointer);
    return phase == "Pending" || phase == "Running" || phase.empty();
}

Json pod_status(const std::string& raw_name, const std::optional<Json>& pod) {
    Json j = {{"name", raw_name}, {"state", "absent"}};
    if (!pod) return j;
    std::string phase = str_at(*pod, "/status/phase"_json_pointer);
    const Json* cs = agent_container_status(*pod);
    std::string state = "lost";
    if (phase == "Pending" || phase.empty())
        state = "starting";
    else if (phase == "Running")
        state = "running";
    else if (phase == "Succeeded" || phase == "Failed")
        state = "exited";
    if (pod->contains("/metadata/deletionTimestamp"_json_pointer) && state != "exited") state = "exited";
    j["state"] = state;
    j["ref"] = str_at(*pod, "/metadata/name"_json_pointer);
    j["mode"] = str_at(*pod, "/metadata/labels/fracta~1mode"_json_pointer);
    std::string started = str_at(*pod, "/status/startTime"_json_pointer);
    if (cs && cs->contains("/state/terminated"_json_pointer)) {
        const Json& t = cs->at("/state/terminated"_json_pointer);
        if (t.contains("exitCode") && state == "exited") j["exit_code"] = t["exitCode"];
        if (t.contains("startedAt") && t["startedAt"].is_string()) started = t["startedAt"];
        if (t.contains("finishedAt") && t["finishedAt"].is_string()) j["ended_at"] = t["finishedAt"];
    } else if (cs && cs->contains("/state/running/startedAt"_json_pointer)) {
        started = str_at(*cs, "/state/running/startedAt"_json_pointer);
    }
    if (!started.empty()) j["started_at"] = started;
    return j;
}

Result<k8s::ObjectSettings> load_settings(const K8sContext& ctx, const std::string& ns) {
    k8s::ObjectSettings s;
    if (!ctx.config_file.empty()) {
        FRACTA_TRY_ASSIGN(doc, yaml::load_file(ctx.config_file));
        FRACTA_TRY_ASSIGN(loaded, k8s::settings_from_config(doc.root));
        s = std::move(loaded);
    }
    s.namespace_name = ns;
    return s;
}

Result<k8s::ResolveOptions> resolve_options(const K8sContext& ctx) {
    k8s::ResolveOptions o = ctx.resolve;
    if (ctx.config_file.empty()) return o;
    FRACTA_TRY_ASSIGN(doc, yaml::load_file(ctx.config_file));
    const std::string dir = std::filesystem::absolute(ctx.config_file).parent_path().string();
    FRACTA_TRY(k8s::from_fracta_config(doc.root, dir, o));
    return o;
}

std::string fallback_namespace(const K8sContext& ctx) {
    auto o = resolve_options(ctx);
    if (!o.ok()) return "fracta";
    if (!o->ns.empty()) return o->ns;
    if (const char* e = std::getenv("FRACTA_K8S_NAMESPACE"); e && *e) return e;
    if (!o->config_ns.empty()) return o->config_ns;
    // The kubeconfig's context (or the service account's) when there is one:
    // resolving reads files only, it sends nothing.
    if (auto config = k8s::Config::resolve(*o); config.ok() && !config->ns.empty()) return config->ns;
    return "fracta";
}

}  // namespace k8s_op

namespace {

using namespace k8s_op;

k8s::ObjectNames names_of(const std::string& name) {
    return *k8s::object_names(name);
}  // checked by check_name

// list / list-running: one LIST of every fracta pod in the namespace (pods
// carry the labels and the raw name; a Job without its pod yet is missed).
Result<std::vector<Json>> list_sessions(k8s::Client& client, const std::string& prefix) {
    k8s::Query q;
    q.label_selector = "app.kubernetes.io/managed-by=fracta";
    FRACTA_TRY_ASSIGN(pods, client.list(k8s::kPods, q));
    std::map<std::string, Json> newest;  // raw name → pod
    for (const Json& pod : pods.value("items", Json::array())) {
        auto p = "/metadata/annotations/fracta~1session-name"_json_pointer;
        if (!pod.contains(p) || !pod.at(p).is_string()) continue;
        std::string raw = pod.at(p);
        if (raw.compare(0, prefix.size(), prefix) != 0) continue;
        auto ts = "/metadata/creationTimestamp"_json_pointer;
        auto it = newest.find(raw);
        if (it == newest.end() || pod.value(ts, std::string()) >= it->second.value(ts, std::string()))
            newest[raw] = pod;
    }
    std::vector<Json> all;
    for (const auto& [raw, pod] : newest) all.push_back(pod_status(raw, pod));
    return all;
}

// A Job exists before its pod does: no pod yet but a Job means "starting".
Result<Json> session_status(k8s::Client& client, const k8s::ObjectNames& names) {
    FRACTA_TRY_ASSIGN(pod, find_pod(client, names));
    if (pod) return pod_status(names.raw, pod);
    auto job = client.get(k8s::kJobs, names.job);
    if (job.not_found()) return pod_status(names.raw, std::nullopt);
    if (!job.ok()) return std::move(job).take_error();
    if (job->contains("/metadata/deletionTimestamp"_json_pointer)) return pod_status(names.raw, std::nullopt);
    return Json{{"name", names.raw}, {"state", "starting"}, {"ref", names.job}, {"mode", "batch"}};
}

Result<Answer> render(const OpCall& call, const K8sContext& ctx) {
    FRACTA_TRY_ASSIGN(settings, load_settings(ctx, fallback_namespace(ctx)));
    SessionInput in{call.args[0], call.request, settings, "minted-at-start", {}};
    FRACTA_TRY_ASSIGN(list, provider::render(in));
    Answer a;
    a.text = list.dump(2) + "\n";
    return a;
}

}  // namespace

const std::vector<Op>& K8sBackend::ops() const {
    static const std::vector<Op> table = ops_table(
        {},
        {{"start", "NAME", "create the session's objects from the start JSON on stdin; returns once the pod runs"},
         {"stop", "NAME", "delete the session's Job or Pod (background propagation)"},
         {"interrupt", "NAME", "Ctrl-C to the session"},
         {"process-alive", "NAME", "true if a process named on stdin (one per line) runs in the session's pod"},
         {"nudge", "NAME [--no-wait] [--timeout S]",
          "clear the input line, type the text on stdin, submit; wait until the program reacted"},
         {"copy-to", "NAME SRC REL_DST", "copy a file or directory into the session's workdir"}},
        {{"render", "NAME", 1, true, Input::StartJson, Output::Text,
          "print the objects start would create, as a v1 List (no API calls)", run_extra}});
    return table;
}

Status K8sBackend::check_name(const std::string& name) const {
    FRACTA_TRY(k8s::object_names(name));
    return {};
}

Result<k8s::Client*> K8sBackend::client() {
    if (!client_) {
        FRACTA_TRY_ASSIGN(o, resolve_options(ctx_));
        FRACTA_TRY_ASSIGN(config, k8s::Config::resolve(o));
        client_.emplace(std::move(config));
    }
    return &*client_;
}

Status K8sBackend::start(const std::string& name, const StartRequest& request, Io& io) {
    FRACTA_TRY_ASSIGN(c, client());
    return k8s_op::start(*c, name, request, ctx_, io);
}

Status K8sBackend::stop(const std::string& name) {
    FRACTA_TRY_ASSIGN(c, client());
    return k8s_op::stop(*c, names_of(name));
}

Result<Json> K8sBackend::status(const std::string& name) {
    FRACTA_TRY_ASSIGN(c, client());
    return session_status(*c, names_of(name));
}

Result<std::vector<Json>> K8sBackend::list(const std::string& prefix) {
    FRACTA_TRY_ASSIGN(c, client());
    return list_sessions(*c, prefix);
}

Result<Json> K8sBackend::wait(const std::string& name, std::chrono::seconds timeout) {
    FRACTA_TRY_ASSIGN(c, client());
    return k8s_op::wait(*c, names_of(name), timeout.count());
}

Status K8sBackend::logs(const std::string& name, bool follow, Io& io) {
    FRACTA_TRY_ASSIGN(c, client());
    FRACTA_TRY_ASSIGN(pod, find_pod(*c, names_of(name)));
    if (!pod) return failure("no session \"" + name + "\"");
    std::string pod_name = (*pod)["metadata"]["name"];
    k8s::LogOptions o;
    o.container = "agent";
    if (!follow) {
        FRACTA_TRY_ASSIGN(text, c->log(pod_name, o));
        return io.write(text);
    }
    Status write_status;
    auto r = c->follow_log(pod_name, o, [&](std::string_view chunk) {
        write_status = io.write(chunk);
        return write_status.ok();
    });
    FRACTA_TRY(write_status);
    if (!r.ok()) return std::move(r).take_error();
    return {};
}

Result<std::string> K8sBackend::peek(const std::string& name, long lines) {
    FRACTA_TRY_ASSIGN(c, client());
    FRACTA_TRY_ASSIGN(pod, find_pod(*c, names_of(name)));
    if (!pod) return std::string();  // nothing to show, as for a session that never printed
    k8s::LogOptions o;
    o.container = "agent";
    if (lines > 0) o.tail_lines = lines;
    auto text = c->log((*pod)["metadata"]["name"], o);
    if (text.code() == 400) return std::string();  // the container has not started: no output yet
    if (!text.ok()) return std::move(text).take_error();
    return std::move(*text);
}

Result<Answer> K8sBackend::extra(const OpCall& call, Io&) {
    return render(call, ctx_);
}

const Tool& k8s_tool() {
    static const Tool t = provider_tool(
        {.name = "fracta-spawn-k8s",
         .synopsis = "[--kubeconfig FILE] [--context NAME] [--namespace NS] [--config FILE] OP NAME [ARGS]",
         .options = {{"kubeconfig", 0, "FILE", "kubeconfig to use (else $KUBECONFIG, ~/.kube/config, in-cluster)"},
                     {"context", 0, "NAME", "kubeconfig context (else $FRACTA_K8S_CONTEXT, current-context)"},
                     {"namespace", 'n', "NS",
                      "namespace (else $FRACTA_K8S_NAMESPACE, fracta.yaml, the context's, fracta)"},
                     {"config", 0, "FILE", "fracta.yaml with runtime.kubernetes settings"},
                     {"start-timeout", 0, "SECONDS", "how long start waits for the pod to run (default 55)"}}},
        "Kubernetes Jobs and Pods", OpStyle::First, k8s_backend({})->ops(),
        "failed (\"already exists\" for a duplicate start; 401/403 name the verb and resource)",
        [](const cli::Args& options) -> Result<std::unique_ptr<SessionBackend>> {
            FRACTA_TRY_ASSIGN(ctx, k8s_context(options));
            return k8s_backend(std::move(ctx));
        });
    return t;
}

std::unique_ptr<SessionBackend> k8s_backend(K8sContext ctx) {
    return std::make_unique<K8sBackend>(std::move(ctx));
}

Result<K8sContext> k8s_context(const cli::Args& args) {
    K8sContext ctx;
    ctx.resolve.kubeconfig = args.get("kubeconfig");
    ctx.resolve.context = args.get("context");
    ctx.resolve.ns = args.get("namespace");
    ctx.config_file = args.get("config");
    FRACTA_TRY(cli::int_option(args, "start-timeout", ctx.start_timeout_s));
    return ctx;
}

}  // namespace fracta::provider
