// k8s_control.cc — the fracta-spawn-k8s ops that need the session's
// supervisor (typing, signals, metadata, activity, files): its control API
// on the pod's port 7070, reached through the API server's pods/proxy. The
// API server drops our Authorization header before the pod, so the
// session's control token (kept in its Secret) travels as X-Fracta-Token.
//
// A session whose pod does not run has nothing to type into or signal: those
// ops succeed doing nothing, reads answer empty, writes fail.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "k8s/objects_names.h"
#include "provider/k8s_internal.h"
#include "session/attach.h"
#include "session/attach_wire.h"
#include "session/processes.h"

namespace fracta::provider {
namespace k8s_op {

namespace {

// Whether a pod's agent still runs as far as the API server knows: a pod
// being deleted, past Running, or whose agent container has terminated
// does not (the kubelet's record of what the supervisor did).
bool agent_running(const Json& pod) {
    if (pod.contains("/metadata/deletionTimestamp"_json_pointer)) return false;
    if (str_at(pod, "/status/phase"_json_pointer) != "Running") return false;
    auto cs = "/status/containerStatuses"_json_pointer;
    if (pod.contains(cs) && pod.at(cs).is_array())
        for (const Json& c : pod.at(cs))
            if (c.value("name", "") == "agent" && c.contains("/state/terminated"_json_pointer)) return false;
    return true;
}

// The answer for a pod whose agent has ended: what the supervisor says
// itself while it ends (control_api.h), so both read the same.
http::ClientResponse ended_answer() {
    http::ClientResponse r;
    r.status = 410;
    r.body = to_line(Json{{"error", "the session has ended"}});
    return r;
}

}  // namespace

// The API server answers 503 while it cannot reach the pod. After the
// session's command ended that lasts until the pod is gone: rather than
// retrying blindly (seconds, then 111), each failed try asks the API server
// whether the agent still runs, and an ended one is answered at once.
SupervisorControl pod_control(k8s::Client& client, const std::string& pod, const std::string& token) {
    auto transport = [&client, pod, token](const std::string& method, const std::string& path, const std::string& body,
                                           std::chrono::milliseconds) -> Result<http::ClientResponse> {
        if (pod.empty()) return failure("no pod to reach the supervisor in");
        const int attempts = client.retry_attempts();
        for (int attempt = 1;; ++attempt) {
            auto r = client.proxy(pod, k8s::kControlPort, method, path, body, {{"X-Fracta-Token", token}}, false);
            if (r.ok()) return std::move(*r);
            if (r.code() != 503 && r.code() != 502) return std::move(r).take_error();
            auto now = client.get(k8s::kPods, pod);
            if (now.not_found() || (now.ok() && !agent_running(*now))) return ended_answer();
            if (attempt >= attempts) return std::move(r).take_error();
            client.pause_for_retry(attempt, nullptr);
        }
    };
    return SupervisorControl(transport, "supervisor of pod " + pod);
}

NudgeEvents nudge_events_of(const K8sContext& ctx) {
    std::error_code ec;
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    std::string file = ctx.config_file;
    if (file.empty())
        if (auto found = config::find_file(std::filesystem::current_path(ec).string())) file = *found;
    const std::string project = file.empty() ? "" : std::filesystem::absolute(file, ec).parent_path().string();
    return nudge_events("fracta-spawn-k8s", self, project);
}

Result<std::optional<SupervisorControl>> running_supervisor(k8s::Client& client, const k8s::ObjectNames& names) {
    FRACTA_TRY_ASSIGN(pod, find_pod(client, names));
    bool running = pod && !pod->contains("/metadata/deletionTimestamp"_json_pointer) &&
                   str_at(*pod, "/status/phase"_json_pointer) == "Running";
    if (!running) return std::optional<SupervisorControl>();
    FRACTA_TRY_ASSIGN(secret, client.get(k8s::kSecrets, names.secret));
    FRACTA_TRY_ASSIGN(token, k8s::secret_value(secret, k8s::kSupervisorTokenKey));
    return std::optional<SupervisorControl>(pod_control(client, str_at(*pod, "/metadata/name"_json_pointer), token));
}

}  // namespace k8s_op

namespace {

// The supervisor of session `name`, if its pod runs.
Result<std::optional<SupervisorControl>> supervisor_of(Result<k8s::Client*> client, const std::string& name) {
    if (!client.ok()) return client.error();
    FRACTA_TRY_ASSIGN(names, k8s::object_names(name));
    return k8s_op::running_supervisor(**client, names);
}

Error not_running(const std::string& op, const std::string& name) {
    return failure(op + ": no running session \"" + name + "\"");
}

// A call to a supervisor whose command has ended is answered as for a
// session that does not run: `value`.
template <typename T>
Result<T> or_ended(Result<T> r, T value) {
    if (!r.ok() && SupervisorControl::ended(r.error())) return value;
    return r;
}

Status or_ended(Status s) {
    if (!s.ok() && SupervisorControl::ended(s.error())) return {};
    return s;
}

}  // namespace

// Typed by the supervisor and confirmed by the program's reaction, as for
// fracta-spawn-local (--no-wait, --timeout), and recorded as a
// nudge.delivered or nudge.failed event; no running session: nothing to
// type into, which is no error (the contract).
Status K8sBackend::nudge(const std::string& name, const std::string& text, const std::vector<std::string>& options,
                         Io& io) {
    FRACTA_TRY_ASSIGN(wait, nudge_wait(options));
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    if (!ctl) return {};
    const auto started = std::chrono::steady_clock::now();
    auto answer = ctl->nudge(text, wait);
    return report_nudge(k8s_op::nudge_events_of(ctx_), name, text, wait, answer, started, io);
}

Status K8sBackend::send_keys(const std::string& name, const std::vector<std::string>& keys) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    return ctl ? or_ended(ctl->keys(keys)) : Status{};
}

Status K8sBackend::interrupt(const std::string& name) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    return ctl ? or_ended(ctl->interrupt()) : Status{};
}

Status K8sBackend::clear_scrollback(const std::string& name) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    return ctl ? or_ended(ctl->clear()) : Status{};
}

Result<std::string> K8sBackend::last_activity(const std::string& name) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    if (!ctl) return std::string();
    FRACTA_TRY_ASSIGN(s, or_ended(ctl->status(), Json::object()));
    return s.value("last_activity", std::string());
}

// No names: whether the session's command runs. Names: whether a process
// of the session (the supervisor reads the pod's /proc) is called one of them.
Result<bool> K8sBackend::process_alive(const std::string& name, const std::vector<std::string>& processes) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    if (!ctl) return false;
    if (processes.empty()) {
        FRACTA_TRY_ASSIGN(s, or_ended(ctl->status(), Json::object()));
        return s.value("state", std::string()) == "running";
    }
    FRACTA_TRY_ASSIGN(table, or_ended(ctl->processes(), std::vector<session::ProcessInfo>()));
    for (const std::string& wanted : processes)
        if (session::process_named(table, wanted)) return true;
    return false;
}

Result<std::string> K8sBackend::get_meta(const std::string& name, const std::string& key) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    return ctl ? or_ended(ctl->get_meta(key), std::string()) : std::string();
}

Status K8sBackend::set_meta(const std::string& name, const std::string& key, const std::string& value) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    if (!ctl) return not_running("set-meta", name);
    Status s = ctl->set_meta(key, value);
    if (!s.ok() && SupervisorControl::ended(s.error())) return not_running("set-meta", name);
    return s;
}

Status K8sBackend::remove_meta(const std::string& name, const std::string& key) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    return ctl ? or_ended(ctl->remove_meta(key)) : Status{};
}

// A file, or a directory's files (each one request, the supervisor writes
// one file per request and makes its directories); a missing source copies
// nothing and succeeds, as for fracta-spawn-local.
Status K8sBackend::copy_to(const std::string& name, const std::string& src, const std::string& rel_dst) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status st = fs::status(src, ec);
    if (!fs::exists(st)) return {};
    if (!fs::is_regular_file(st) && !fs::is_directory(st))
        return fail(ErrorKind::Unsupported, "copy-to: " + src + " is neither a file nor a directory");
    const std::string rel = rel_dst.empty() ? fs::path(src).filename().string() : rel_dst;
    std::vector<std::pair<std::string, std::string>> files;  // relative destination, source
    if (fs::is_regular_file(st)) {
        files.emplace_back(rel, src);
    } else {
        for (auto it = fs::recursive_directory_iterator(src, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec))
            if (it->is_regular_file(ec))
                files.emplace_back((fs::path(rel) / it->path().lexically_relative(src)).string(), it->path().string());
        if (ec) return failure("copy-to: cannot read " + src + ": " + ec.message());
    }
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    if (!ctl) return not_running("copy-to", name);
    size_t total = 0;
    for (const auto& [dst, from] : files) {
        std::ifstream in(from, std::ios::binary);
        std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) return failure("copy-to: cannot read " + from);
        total += content.size();
        if (total > (64u << 20)) return usage_error("copy-to: " + src + " is over 64 MiB");
        Status put = ctl->put_file(dst, content);
        if (!put.ok() && SupervisorControl::ended(put.error())) return not_running("copy-to", name);
        FRACTA_TRY(put);
    }
    return {};
}

// The pod's terminal through the API server: GET /v1/attach on the
// supervisor's control port, upgraded (control_api.h), then the same
// terminal loop as fracta-spawn-local's.
Result<int> K8sBackend::attach(const std::string& name, const std::vector<std::string>& options) {
    FRACTA_TRY_ASSIGN(o, session::attach_options(options));
    FRACTA_TRY_ASSIGN(c, client());
    FRACTA_TRY_ASSIGN(names, k8s::object_names(name));
    FRACTA_TRY_ASSIGN(pod, k8s_op::find_pod(*c, names));
    const Json status = k8s_op::pod_status(name, pod);
    const std::string state = status.value("state", "");
    if (!pod) return failure("no session \"" + name + "\"");
    if (state != "running") return failure("session \"" + name + "\" is not running (" + state + ")");
    if (status.value("mode", "") == "batch")
        return usage_error("session \"" + name + "\" has no terminal (batch mode): nothing to attach to");
    FRACTA_TRY_ASSIGN(secret, c->get(k8s::kSecrets, names.secret));
    FRACTA_TRY_ASSIGN(token, k8s::secret_value(secret, k8s::kSupervisorTokenKey));
    const std::string pod_name = k8s_op::str_at(*pod, "/metadata/name"_json_pointer);
    FRACTA_TRY_ASSIGN(stream, c->proxy_upgrade(pod_name, k8s::kControlPort, "/v1/attach", session::kAttachProtocol,
                                               {{"X-Fracta-Token", token}}));
    // Closed without the exit code (the supervisor killed, the connection
    // cut): what the API server records of the agent, once it knows.
    auto closed_status = [&]() -> int {
        for (int i = 0; i < 20; ++i) {
            auto now = k8s_op::find_pod(*c, names);
            if (!now.ok()) return 1;
            Json s = k8s_op::pod_status(name, *now);
            if (s.contains("exit_code") && s["exit_code"].is_number_integer()) return s["exit_code"].get<int>();
            if (s.value("state", "") == "running") return 1;  // the session runs on: the connection broke
            ::usleep(250000);
        }
        return 1;
    };
    return session::attach_stream(*stream, name, o, closed_status);
}

}  // namespace fracta::provider
