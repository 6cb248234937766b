// k8s_objects.cc — see k8s_objects.h.
#include "provider/k8s_objects.h"

#include <set>

namespace fracta::provider {
using namespace fracta::k8s;  // the names, settings and constants of the objects
namespace {

// Our own volumes; a user's extra volume may not take these names.
constexpr const char* kFilesVolume = "fracta-files";
constexpr const char* kTmpVolume = "fracta-tmp";
constexpr const char* kHomeVolume = "fracta-home";
constexpr const char* kWorkspaceVolume = "fracta-workspace";

Status check_labels(const std::map<std::string, std::string>& labels) {
    for (const auto& [k, v] : labels) {
        if (!valid_qualified_key(k)) return usage_error("kubernetes.labels: invalid label key \"" + k + "\"");
        if (!valid_label_value(v))
            return usage_error("kubernetes.labels." + k + ": invalid label value \"" + v +
                               "\" (at most 63 letters, digits, '-', '_', '.', alphanumeric at both ends)");
    }
    return {};
}

Status check_annotations(const std::map<std::string, std::string>& annotations) {
    for (const auto& [k, v] : annotations)
        if (!valid_qualified_key(k)) return usage_error("kubernetes.annotations: invalid annotation key \"" + k + "\"");
    return {};
}

// Secret keys are [-._a-zA-Z0-9]+; an environment variable holding a
// secret must also be a name a shell can export.
bool valid_secret_env_name(const std::string& name) {
    if (name.empty() || name.size() > 253 || (name[0] >= '0' && name[0] <= '9')) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

// The pod's own variables: the supervisor's token and the remote's credentials.
bool reserved(const std::string& k) {
    return k == kSupervisorTokenKey || k == kGitTokenEnv || k == kGitSshKeyEnv || k == kGitKnownHostsEnv;
}

Status check_env(const StartRequest& r) {
    for (const auto& [k, v] : r.env) {
        if (k.empty() || k.find('=') != std::string::npos)
            return usage_error("env: invalid variable name \"" + k + "\"");
        if (reserved(k)) return usage_error("env: " + k + " is reserved");
    }
    for (const auto& [k, v] : r.secret_env) {
        if (!valid_secret_env_name(k))
            return usage_error("secret_env: invalid variable name \"" + k + "\" (use letters, digits and '_')");
        if (reserved(k)) return usage_error("secret_env: " + k + " is reserved");
    }
    for (const auto& [k, ref] : r.secret_refs) {
        const std::string what = "secret_refs." + k;
        if (!valid_secret_env_name(k)) return usage_error(what + ": invalid variable name (use letters, digits and '_')");
        if (reserved(k) || r.secret_env.count(k)) return usage_error(what + ": " + k + " is reserved or given twice");
        if (!k8s::valid_object_name(ref.secret)) return usage_error(what + ": \"" + ref.secret + "\" is not a Secret's name");
        if (!k8s::valid_secret_key(ref.key)) return usage_error(what + ": \"" + ref.key + "\" is not a Secret's key");
    }
    return {};
}

// Start keys whose work happens on the caller's host or around the session
// in ways a pod cannot do as asked: refused, never dropped.
Status check_unsupported(const StartRequest& r) {
    auto refuse = [](const std::string& key, const std::string& why) {
        return failure("\"" + key + "\" is not supported in a pod: " + why);
    };
    if (!r.pre_start.empty()) return refuse("pre_start", "the session's commands run in its image (put them in \"command\")");
    if (!r.session_setup.empty() || !r.session_setup_script.empty())
        return refuse(r.session_setup.empty() ? "session_setup_script" : "session_setup",
                      "the session's commands run in its image (put them in \"command\")");
    if (!r.copy_files.empty())
        return refuse("copy_files", "the files are on this host (send them as \"workspace_files\", or use copy-to)");
    if (!r.ready_prompt_prefix.empty())
        return refuse("ready_prompt_prefix", "the nudge is typed once the pod runs, without waiting for a prompt");
    return {};
}

// work_dir: where the session's workspace volume is mounted and its command
// starts. Absolute and plain, and clear of the pod's other mounts.
Result<std::string> workspace_dir(const StartRequest& r, const ObjectNames& names) {
    if (r.work_dir.empty()) return std::string(kWorkspaceRoot) + "/" + names.raw;
    const std::string& d = r.work_dir;
    auto bad = [&](const std::string& why) { return usage_error("work_dir \"" + d + "\": " + why); };
    if (d[0] != '/') return bad("must be an absolute path");
    if (d == "/") return bad("must not be /");
    if (d.size() > 1024 || d.find(':') != std::string::npos) return bad("must be at most 1024 characters, without ':'");
    for (size_t i = 1, next; i <= d.size(); i = next + 1) {
        next = d.find('/', i);
        if (next == std::string::npos) next = d.size();
        std::string part = d.substr(i, next - i);
        if (part.empty() || part == "." || part == "..")
            return bad("must be a plain path (no empty, \".\" or \"..\" parts)");
    }
    auto within = [&](const std::string& dir) { return d == dir || d.rfind(dir + "/", 0) == 0; };
    for (const std::string mount : {"/tmp", kHomeDir})
        if (d == mount) return bad("is one of the pod's own mounts");
    if (within(kFilesDir)) return bad(std::string("is inside the read-only ") + kFilesDir);
    return d;
}

Json metadata(const std::string& name, const std::string& ns, const ObjectNames& names, const std::string& mode,
              const ObjectSettings& s) {
    Json labels = Json::object();
    for (const auto& [k, v] : s.labels) labels[k] = v;
    for (const auto& [k, v] : session_labels(names, mode)) labels[k] = v;  // ours win
    Json annotations = Json::object();
    for (const auto& [k, v] : s.annotations) annotations[k] = v;
    annotations["fracta/session-name"] = names.raw;
    return {{"name", name}, {"namespace", ns}, {"labels", labels}, {"annotations", annotations}};
}

std::vector<std::string> agent_command(const SessionInput& in) {
    const StartRequest& r = in.request;
    std::vector<std::string> argv = {"fracta-spawn-local", "supervise",  in.name,        "--foreground",
                                     "--copy-output",      "--control",  kControlListen, "--mode",
                                     r.mode,               "--files-from", kFilesDir};
    if (!in.git.url.empty()) {
        argv.insert(argv.end(), {"--git-url", in.git.url, "--git-commit", in.git.commit, "--git-branch", in.git.branch});
        if (in.git.depth > 0) argv.insert(argv.end(), {"--git-depth", std::to_string(in.git.depth)});
        if (in.git.push) argv.push_back("--git-push");
    }
    auto keys = [&](const char* flag, const std::vector<std::string>& list) {
        if (list.empty()) return;
        std::string joined;
        for (const std::string& k : list) joined += (joined.empty() ? "" : ",") + k;
        argv.insert(argv.end(), {flag, joined});
    };
    keys("--clear-keys", r.clear_keys);
    keys("--submit-keys", r.submit_keys);
    argv.push_back("--");
    if (r.command.empty() && r.mode == "stream")
        // Gas City's "if empty, a default shell": the session's $SHELL (its
        // env), else the image's /bin/sh.
        argv.insert(argv.end(), {"/bin/sh", "-c", "exec \"${SHELL:-/bin/sh}\""});
    else if (r.command.empty())
        argv.push_back("true");
    else
        argv.insert(argv.end(), {"/bin/sh", "-c", r.command});
    return argv;
}

// Plain variables by value, secret ones (and the control token) by
// reference into the Secret: a secret value never appears in the pod spec.
Json agent_env(const StartRequest& r, const ObjectNames& names, const GitCheckout& git) {
    std::map<std::string, std::string> plain = {{"HOME", kHomeDir}};
    if (r.mode == "stream") plain["TERM"] = "xterm-256color";  // a terminal, as fracta-spawn-local's
    for (const auto& [k, v] : r.env) plain[k] = v;
    Json env = Json::array();
    for (const auto& [k, v] : plain)
        if (!r.secret_env.count(k)) env.push_back({{"name", k}, {"value", v}});
    auto from_secret = [&](const std::string& key) {
        env.push_back({{"name", key}, {"valueFrom", {{"secretKeyRef", {{"name", names.secret}, {"key", key}}}}}});
    };
    for (const auto& [k, v] : r.secret_env) from_secret(k);
    // The user's own Secrets, referenced where they are: fracta never reads them.
    for (const auto& [k, ref] : r.secret_refs)
        env.push_back({{"name", k}, {"valueFrom", {{"secretKeyRef", {{"name", ref.secret}, {"key", ref.key}}}}}});
    from_secret(kSupervisorTokenKey);
    // The remote's credentials stay in the user's own Secrets: referenced, never copied.
    auto from_user_secret = [&](const char* name, const std::string& secret, const std::string& key) {
        env.push_back({{"name", name}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}});
    };
    if (!git.url.empty() && !git.token_secret.empty()) from_user_secret(kGitTokenEnv, git.token_secret, git.token_key);
    if (!git.url.empty() && !git.ssh_key_secret.empty()) {
        from_user_secret(kGitSshKeyEnv, git.ssh_key_secret, git.ssh_key_key);
        from_user_secret(kGitKnownHostsEnv, git.ssh_key_secret, git.known_hosts_key);
    }
    return env;
}

Json restricted_container_security() {
    return {{"allowPrivilegeEscalation", false},
            {"capabilities", {{"drop", Json::array({"ALL"})}}},
            {"privileged", false},
            {"readOnlyRootFilesystem", true},
            {"runAsNonRoot", true},
            {"runAsUser", kAgentUid},
            {"runAsGroup", kAgentUid},
            {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

Result<Json> pod_spec(const SessionInput& in, const ObjectNames& names, const ObjectSettings& s) {
    FRACTA_TRY_ASSIGN(workdir, workspace_dir(in.request, names));
    Json mounts = Json::array({
        {{"name", kFilesVolume}, {"mountPath", kFilesDir}, {"readOnly", true}},
        {{"name", kTmpVolume}, {"mountPath", "/tmp"}},
        {{"name", kHomeVolume}, {"mountPath", kHomeDir}},
        // The emptyDir is mounted at the workdir itself: a directory the
        // runtime had to create inside it would belong to root.
        {{"name", kWorkspaceVolume}, {"mountPath", workdir}},
    });
    if (!s.pvc.empty()) mounts[3]["subPath"] = "agents/" + names.raw;
    for (const Json& m : s.extra_volume_mounts) mounts.push_back(m);
    Json volumes = Json::array({
        {{"name", kFilesVolume}, {"configMap", {{"name", names.config_map}, {"defaultMode", 0444}}}},
        {{"name", kTmpVolume}, {"emptyDir", Json::object()}},
        {{"name", kHomeVolume}, {"emptyDir", Json::object()}},
        {{"name", kWorkspaceVolume}, {"emptyDir", Json::object()}},
    });
    if (!s.pvc.empty()) volumes[3] = {{"name", kWorkspaceVolume}, {"persistentVolumeClaim", {{"claimName", s.pvc}}}};
    std::set<std::string> ours = {kFilesVolume, kTmpVolume, kHomeVolume, kWorkspaceVolume};
    for (const Json& v : s.extra_volumes) {
        auto n = v.find("name");
        if (n == v.end() || !n->is_string() || n->get<std::string>().empty())
            return usage_error("kubernetes.extra_volumes: every volume needs a name");
        if (ours.count(n->get<std::string>()))
            return usage_error("kubernetes.extra_volumes: the volume name \"" + n->get<std::string>() +
                               "\" is fracta's own");
        volumes.push_back(v);
    }

    Json container = {
        {"name", "agent"},
        {"image", s.image},
        {"imagePullPolicy", s.image_pull_policy},
        {"command", agent_command(in)},
        {"workingDir", workdir},
        {"env", agent_env(in.request, names, in.git)},
        {"ports", Json::array({{{"name", "control"}, {"containerPort", kControlPort}, {"protocol", "TCP"}}})},
        {"resources", s.resources},
        {"securityContext", restricted_container_security()},
        {"volumeMounts", mounts}};

    Json spec = {{"restartPolicy", "Never"}, {"enableServiceLinks", false}};
    if (s.service_account.empty())
        spec["automountServiceAccountToken"] = false;
    else
        spec["serviceAccountName"] = s.service_account;
    spec["securityContext"] = {{"runAsNonRoot", true},
                               {"runAsUser", kAgentUid},
                               {"runAsGroup", kAgentUid},
                               {"fsGroup", kAgentUid},
                               {"seccompProfile", {{"type", "RuntimeDefault"}}}};
    if (!s.node_selector.empty()) {
        Json sel = Json::object();
        for (const auto& [k, v] : s.node_selector) sel[k] = v;
        spec["nodeSelector"] = sel;
    }
    if (!s.tolerations.empty()) spec["tolerations"] = s.tolerations;
    spec["containers"] = Json::array({container});
    spec["volumes"] = volumes;
    return spec;
}

Result<Json> config_map(const SessionInput& in, const ObjectNames& names, const ObjectSettings& s) {
    Json data = Json::object();
    size_t total = 0;
    for (const auto& [path, content] : in.request.workspace_files) {
        FRACTA_TRY_ASSIGN(key, encode_file_key(path));
        data[key] = content;
        total += key.size() + content.size();
    }
    if (total > kMaxConfigMapBytes - 64 * 1024)  // leave room for the metadata
        return usage_error("workspace_files: " + std::to_string(total) +
                           " bytes do not fit in a ConfigMap (at most 960 KiB)");
    Json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}};
    cm["metadata"] = metadata(names.config_map, s.namespace_name, names, in.request.mode, s);
    cm["immutable"] = true;
    cm["data"] = data;
    return cm;
}

Json secret(const SessionInput& in, const ObjectNames& names, const ObjectSettings& s) {
    Json data = Json::object();
    for (const auto& [k, v] : in.request.secret_env) data[k] = base64_encode(v);
    data[kSupervisorTokenKey] = base64_encode(in.control_token);
    Json sec = {{"apiVersion", "v1"}, {"kind", "Secret"}};
    sec["metadata"] = metadata(names.secret, s.namespace_name, names, in.request.mode, s);
    sec["type"] = "Opaque";
    sec["immutable"] = true;
    sec["data"] = data;
    return sec;
}

}  // namespace

std::map<std::string, std::string> session_labels(const ObjectNames& names, const std::string& mode) {
    return {{"app.kubernetes.io/name", "fracta"},       {"app.kubernetes.io/component", "agent"},
            {"app.kubernetes.io/managed-by", "fracta"}, {"app", "fracta"},
            {"fracta-agent-id", names.label},           {"fracta/mode", mode}};
}

Result<SessionObjects> build_session_objects(const SessionInput& in) {
    FRACTA_TRY_ASSIGN(names, object_names(in.name));
    const StartRequest& r = in.request;
    if (r.mode != "batch" && r.mode != "stream") return usage_error("\"mode\" must be batch or stream");
    if (in.control_token.empty()) return failure("no control token for the session supervisor");
    FRACTA_TRY_ASSIGN(s, merge_session_overrides(in.settings, r.kubernetes));
    FRACTA_TRY(check_labels(s.labels));
    FRACTA_TRY(check_annotations(s.annotations));
    FRACTA_TRY(check_env(r));
    FRACTA_TRY(check_unsupported(r));

    SessionObjects out;
    out.names = names;
    out.mode = r.mode;
    FRACTA_TRY_ASSIGN(spec, pod_spec(in, names, s));
    if (r.mode == "batch") {
        Json job = {{"apiVersion", "batch/v1"}, {"kind", "Job"}};
        job["metadata"] = metadata(names.job, s.namespace_name, names, r.mode, s);
        Json js = {{"backoffLimit", 0}, {"ttlSecondsAfterFinished", s.job_ttl_seconds}};
        if (s.max_age_seconds > 0) js["activeDeadlineSeconds"] = s.max_age_seconds;
        Json tmeta = metadata(names.job, s.namespace_name, names, r.mode, s);
        js["template"] = {{"metadata", {{"labels", tmeta["labels"]}, {"annotations", tmeta["annotations"]}}},
                          {"spec", spec}};
        job["spec"] = js;
        out.workload = job;
    } else {
        if (s.max_age_seconds > 0) spec["activeDeadlineSeconds"] = s.max_age_seconds;
        Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}};
        pod["metadata"] = metadata(names.pod, s.namespace_name, names, r.mode, s);
        pod["spec"] = spec;
        out.workload = pod;
    }
    FRACTA_TRY_ASSIGN(cm, config_map(in, names, s));
    out.config_map = cm;
    out.secret = secret(in, names, s);
    return out;
}

Json with_owner(Json object, const Owner& owner) {
    object["metadata"]["ownerReferences"] = Json::array({{{"apiVersion", owner.api_version},
                                                          {"kind", owner.kind},
                                                          {"name", owner.name},
                                                          {"uid", owner.uid},
                                                          {"controller", true}}});
    return object;
}

Result<Json> render(const SessionInput& in) {
    FRACTA_TRY_ASSIGN(objects, build_session_objects(in));
    return Json{{"apiVersion", "v1"},
                {"kind", "List"},
                {"metadata", {{"resourceVersion", ""}}},
                {"items", Json::array({objects.workload, objects.config_map, objects.secret})}};
}

}  // namespace fracta::provider
