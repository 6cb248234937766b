#include "provider/k8s.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "config/yaml.h"
#include "k8s/objects_names.h"
#include "provider/k8s_internal.h"
#include "provider/start_request.h"
#include "session/session_dir.h"

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

std::string str_at(const Json& j, const Json::json_pointer& p) {
    if (!j.contains(p)) return "";
    const Json& v = j.at(p);
    return v.is_string() ? v.get<std::string>() : "";
}

}  // namespace

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
    if (phase == "Pending" || phase.empty()) state = "starting";
    else if (phase == "Running") state = "running";
    else if (phase == "Succeeded" || phase == "Failed") state = "exited";
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

// The client's configuration: the flags, then fracta.yaml's
// runtime.kubernetes namespace, kubeconfig and context (--config).
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

Status need_args(const std::string& op, const std::vector<std::string>& args, size_t n, const char* usage) {
    if (args.size() < n) return usage_error(op + ": usage: " + op + " " + usage);
    return {};
}

std::string bool_line(bool b) { return b ? "true\n" : "false\n"; }

// One client for the whole op: the kubeconfig or in-cluster configuration.
Result<k8s::Client> make_client(const K8sContext& ctx) {
    FRACTA_TRY_ASSIGN(o, resolve_options(ctx));
    FRACTA_TRY_ASSIGN(config, k8s::Config::resolve(o));
    return k8s::Client(std::move(config));
}

Status render(const std::string& name, const K8sContext& ctx, K8sIo& io) {
    FRACTA_TRY_ASSIGN(input, io.read_input(1 << 20));
    Json parsed = Json::parse(input, nullptr, false);
    if (parsed.is_discarded() || !(parsed.is_object() || (parsed.is_null() && input.find_first_not_of(" \t\r\n") == std::string::npos)))
        return usage_error("start JSON: not a JSON object");
    if (parsed.is_null()) parsed = Json::object();
    FRACTA_TRY_ASSIGN(request, parse_start_request(parsed));
    FRACTA_TRY_ASSIGN(settings, load_settings(ctx, fallback_namespace(ctx)));
    k8s::SessionInput in{name, request, settings, "minted-at-start"};
    FRACTA_TRY_ASSIGN(list, k8s::render(in));
    return io.write(list.dump(2) + "\n");
}

// list / list-running: one LIST of every fracta pod in the namespace (pods
// carry the labels and the raw name; a Job without its pod yet is missed).
Status list(k8s::Client& client, const std::string& op, const std::string& prefix, K8sIo& io) {
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
    Json all = Json::array();
    std::string out;
    for (const auto& [raw, pod] : newest) {
        Json s = pod_status(raw, pod);
        all.push_back(s);
        if (s["state"] == "running" || s["state"] == "starting") out += raw + "\n";
    }
    return io.write(op == "list" ? to_line(all) + "\n" : out);
}

// A Job exists before its pod does: no pod yet but a Job means "starting".
Result<Json> status(k8s::Client& client, const k8s::ObjectNames& names) {
    FRACTA_TRY_ASSIGN(pod, find_pod(client, names));
    if (pod) return pod_status(names.raw, pod);
    auto job = client.get(k8s::kJobs, names.job);
    if (job.not_found()) return pod_status(names.raw, std::nullopt);
    if (!job.ok()) return std::move(job).take_error();
    if (job->contains("/metadata/deletionTimestamp"_json_pointer)) return pod_status(names.raw, std::nullopt);
    return Json{{"name", names.raw}, {"state", "starting"}, {"ref", names.job}, {"mode", "batch"}};
}

Result<long> parse_lines(const std::string& n) {
    bool negative = !n.empty() && n[0] == '-';
    FRACTA_TRY_ASSIGN(count, cli::parse_int("peek: lines", negative ? n.substr(1) : n));
    return static_cast<long>(negative ? -count : count);
}

Status logs(k8s::Client& client, const k8s::ObjectNames& names, const std::vector<std::string>& args, K8sIo& io) {
    bool follow = args.size() > 1 && (args[1] == "--follow" || args[1] == "-f");
    FRACTA_TRY_ASSIGN(pod, find_pod(client, names));
    if (!pod) return failure("no session \"" + names.raw + "\"");
    std::string pod_name = (*pod)["metadata"]["name"];
    k8s::LogOptions o;
    o.container = "agent";
    if (!follow) {
        FRACTA_TRY_ASSIGN(text, client.log(pod_name, o));
        return io.write(text);
    }
    Status write_status;
    auto r = client.follow_log(pod_name, o, [&](std::string_view chunk) {
        write_status = io.write(chunk);
        return write_status.ok();
    });
    FRACTA_TRY(write_status);
    if (!r.ok()) return std::move(r).take_error();
    return {};
}

Status peek(k8s::Client& client, const k8s::ObjectNames& names, const std::vector<std::string>& args, K8sIo& io) {
    long lines = 0;
    if (args.size() > 1) {
        FRACTA_TRY_ASSIGN(n, parse_lines(args[1]));
        lines = n;
    }
    FRACTA_TRY_ASSIGN(pod, find_pod(client, names));
    if (!pod) return {};  // nothing to show, as for a session that never printed
    k8s::LogOptions o;
    o.container = "agent";
    if (lines > 0) o.tail_lines = lines;
    auto text = client.log((*pod)["metadata"]["name"], o);
    if (text.code() == 400) return {};  // the container has not started: no output yet
    if (!text.ok()) return std::move(text).take_error();
    return io.write(*text);
}

}  // namespace

const cli::Command& k8s_command() {
    static const cli::Command c = {
        "fracta-spawn-k8s",
        "[--kubeconfig FILE] [--context NAME] [--namespace NS] [--config FILE] OP NAME [ARGS]",
        "Run sessions as Kubernetes Jobs and Pods (a Gas City session provider: "
        "GC_SESSION=exec:fracta-spawn-k8s).",
        {{"kubeconfig", 0, "FILE", "kubeconfig to use (else $KUBECONFIG, ~/.kube/config, in-cluster)"},
         {"context", 0, "NAME", "kubeconfig context (else $FRACTA_K8S_CONTEXT, current-context)"},
         {"namespace", 'n', "NS", "namespace (else $FRACTA_K8S_NAMESPACE, fracta.yaml, the context's, fracta)"},
         {"config", 0, "FILE", "fracta.yaml with runtime.kubernetes settings"},
         {"start-timeout", 0, "SECONDS", "how long start waits for the pod to run (default 55)"}},
        {{"start NAME", "create the session's objects from the start JSON on stdin; returns once the pod runs"},
         {"stop NAME", "delete the session's Job or Pod (background propagation)"},
         {"interrupt NAME", "Ctrl-C to the session"},
         {"is-running NAME", "true or false"},
         {"process-alive NAME", "true while the session's command runs (names on stdin are not inspected)"},
         {"nudge NAME", "type the text on stdin into the session, then Enter"},
         {"send-keys NAME KEY…", "send tmux-style keys (Enter, Up, Down, Escape, C-c) or text"},
         {"peek NAME LINES", "the last LINES lines of output (<= 0: all)"},
         {"list-running PREFIX", "names of running sessions starting with PREFIX"},
         {"get-last-activity NAME", "RFC 3339 time of the last output or input"},
         {"set-meta NAME KEY", "store the value on stdin"},
         {"get-meta NAME KEY", "print the value (empty when unset)"},
         {"remove-meta NAME KEY", "forget a value"},
         {"clear-scrollback NAME", "clear the session's output log"},
         {"copy-to NAME SRC REL_DST", "copy a regular file into the session's workdir (directories: exit 2)"},
         {"attach NAME", "not supported (exit 2)"},
         {"check-image IMAGE", "not applicable (exit 2)"},
         {"wait NAME [TIMEOUT_S]", "block until the session ends; print its result as JSON"},
         {"status NAME", "the session's state as JSON"},
         {"list PREFIX", "JSON array of the status of every session starting with PREFIX"},
         {"logs NAME [--follow]", "the session's whole output"},
         {"render NAME", "print the objects start would create, as a v1 List (no API calls)"}},
        "exit status: 0 done, 1 failed (\"already exists\" for a duplicate start; 401/403 name the verb\n"
        "and resource), 2 not supported, 100 bad usage or input, 111 temporary failure (retry)."};
    return c;
}

bool is_k8s_operation(const std::string& op) {
    for (const auto& [usage, help] : k8s_command().operations)
        if (usage.substr(0, usage.find(' ')) == op) return true;
    return false;
}

Result<int> run_k8s(const std::string& op, const std::vector<std::string>& args, const K8sContext& ctx, K8sIo& io) {
    if (op == "attach") return fail(ErrorKind::Unsupported, "attach: not supported: a pod's terminal is reachable "
                                                            "only through its supervisor (use peek and nudge)");
    if (op == "check-image") return fail(ErrorKind::Unsupported, "check-image: not applicable");
    if (op == "list-running" || op == "list") {
        FRACTA_TRY_ASSIGN(client, make_client(ctx));
        FRACTA_TRY(list(client, op, args.empty() ? "" : args[0], io));
        return 0;
    }
    FRACTA_TRY(need_args(op, args, 1, "NAME"));
    const std::string& name = args[0];
    FRACTA_TRY_ASSIGN(names, k8s::object_names(name));
    if (op == "render") {
        FRACTA_TRY(render(name, ctx, io));
        return 0;
    }
    if (op == "peek" && args.size() > 1) FRACTA_TRY(parse_lines(args[1]));
    if (op == "wait" && args.size() > 1) FRACTA_TRY(cli::parse_int("timeout", args[1]));
    if ((op == "set-meta" || op == "get-meta" || op == "remove-meta")) {
        FRACTA_TRY(need_args(op, args, 2, "NAME KEY"));
        FRACTA_TRY(session::validate_meta_key(args[1]));
    }
    FRACTA_TRY_ASSIGN(client, make_client(ctx));
    if (op == "start") {
        FRACTA_TRY(start(client, name, ctx, io));
        return 0;
    }
    if (op == "stop") {
        FRACTA_TRY(stop(client, names));
        return 0;
    }
    if (op == "is-running" || op == "status") {
        FRACTA_TRY_ASSIGN(s, status(client, names));
        if (op == "status") FRACTA_TRY(io.write(to_line(s) + "\n"));
        else FRACTA_TRY(io.write(bool_line(s["state"] == "running" || s["state"] == "starting")));
        return 0;
    }
    if (op == "wait") {
        long long timeout_s = 24 * 3600;
        if (args.size() > 1) {
            FRACTA_TRY_ASSIGN(t, cli::parse_int("timeout", args[1]));
            timeout_s = t;
        }
        FRACTA_TRY_ASSIGN(result, wait(client, names, timeout_s));
        FRACTA_TRY(io.write(to_line(result) + "\n"));
        return 0;
    }
    if (op == "logs") {
        FRACTA_TRY(logs(client, names, args, io));
        return 0;
    }
    if (op == "peek") {
        FRACTA_TRY(peek(client, names, args, io));
        return 0;
    }
    if (is_control_operation(op)) return run_control(client, op, args, names, io);
    return fail(ErrorKind::Unsupported, "unknown operation \"" + op + "\"");
}

}  // namespace fracta::provider
