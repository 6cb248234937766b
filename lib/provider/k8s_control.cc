// k8s_control.cc — the fracta-spawn-k8s ops that need the session's
// supervisor (typing, signals, metadata, activity, files): its control API
// on the pod's port 7070, reached through the API server's pods/proxy. The
// API server drops our Authorization header before the pod, so the
// session's control token (kept in its Secret) travels as X-Fracta-Token.
//
// A session whose pod does not run has nothing to type into or signal: those
// ops succeed doing nothing, reads answer empty, writes fail.
#include <filesystem>
#include <fstream>

#include "k8s/objects_names.h"
#include "provider/k8s_internal.h"

namespace fracta::provider {
namespace k8s_op {

SupervisorControl pod_control(k8s::Client& client, const std::string& pod, const std::string& token) {
    auto transport = [&client, pod, token](const std::string& method, const std::string& path, const std::string& body,
                                           std::chrono::milliseconds) -> Result<http::ClientResponse> {
        if (pod.empty()) return failure("no pod to reach the supervisor in");
        auto r = client.proxy(pod, k8s::kControlPort, method, path, body, {{"X-Fracta-Token", token}});
        if (!r.ok()) return std::move(r).take_error();
        return std::move(*r);
    };
    return SupervisorControl(transport, "supervisor of pod " + pod);
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

}  // namespace

Status K8sBackend::nudge(const std::string& name, const std::string& text, const std::vector<std::string>&, Io&) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    if (ctl) FRACTA_TRY(ctl->nudge(text));
    return {};
}

Status K8sBackend::send_keys(const std::string& name, const std::vector<std::string>& keys) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    return ctl ? ctl->keys(keys) : Status{};
}

Status K8sBackend::interrupt(const std::string& name) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    return ctl ? ctl->interrupt() : Status{};
}

Status K8sBackend::clear_scrollback(const std::string& name) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    return ctl ? ctl->clear() : Status{};
}

Result<std::string> K8sBackend::last_activity(const std::string& name) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    if (!ctl) return std::string();
    FRACTA_TRY_ASSIGN(s, ctl->status());
    return s.value("last_activity", std::string());
}

// The supervisor knows whether the session's command runs, not the names of
// what runs under it: the command is the agent.
Result<bool> K8sBackend::process_alive(const std::string& name, const std::vector<std::string>&) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    if (!ctl) return false;
    FRACTA_TRY_ASSIGN(s, ctl->status());
    return s.value("state", std::string()) == "running";
}

Result<std::string> K8sBackend::get_meta(const std::string& name, const std::string& key) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    return ctl ? ctl->get_meta(key) : std::string();
}

Status K8sBackend::set_meta(const std::string& name, const std::string& key, const std::string& value) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    return ctl ? ctl->set_meta(key, value) : Status(not_running("set-meta", name));
}

Status K8sBackend::remove_meta(const std::string& name, const std::string& key) {
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    return ctl ? ctl->remove_meta(key) : Status{};
}

// Regular files only: the supervisor writes one file per request.
Status K8sBackend::copy_to(const std::string& name, const std::string& src, const std::string& rel_dst) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(src, ec))
        return fail(ErrorKind::Unsupported, "copy-to: only regular files can be copied into a pod (" + src + ")");
    const std::string rel = rel_dst.empty() ? std::filesystem::path(src).filename().string() : rel_dst;
    FRACTA_TRY_ASSIGN(ctl, supervisor_of(client(), name));
    if (!ctl) return not_running("copy-to", name);
    std::ifstream in(src, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) return failure("copy-to: cannot read " + src);
    if (content.size() > (64u << 20)) return usage_error("copy-to: " + src + " is over 64 MiB");
    return ctl->put_file(rel, content);
}

}  // namespace fracta::provider
