// objects.h — what the Kubernetes objects of a fracta session are made of
// (spec/kubernetes.md): the runtime.kubernetes settings, the fixed names and
// paths, ownerReferences. The objects themselves are built from a start
// request by provider/k8s_objects.h (the session contract's side).
//
// A session is a Job `fracta-agent-<name>` (batch) or a bare Pod
// `fracta-stream-<name>` (stream), a ConfigMap `fracta-config-<name>` with
// the workspace files, and a Secret `fracta-auth-<name>` with the secret
// environment and the supervisor's control token. The workload is created
// first; the ConfigMap and Secret are then created with an ownerReference to
// it (which needs the uid the API server gave it), so deleting the workload
// with background propagation removes everything. The pod waits for its
// ConfigMap and Secret in the meantime, which is what the kubelet does anyway.
//
// The agent container runs the session supervisor in the foreground:
//   fracta-spawn-local supervise <name> --foreground --copy-output --control :7070
//       --mode <mode> --files-from /etc/fracta/files -- /bin/sh -c <command>
// with the restricted pod security profile (non-root uid 65532, no privilege
// escalation, all capabilities dropped, RuntimeDefault seccomp, read-only
// root filesystem; /tmp, HOME and the workdir are emptyDirs).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "k8s/objects_names.h"

namespace fracta::k8s {

inline constexpr int kAgentUid = 65532;
inline constexpr int kControlPort = 7070;
inline constexpr const char* kControlListen = ":7070";  // all interfaces, kControlPort
inline constexpr const char* kFilesDir = "/etc/fracta/files";
inline constexpr const char* kHomeDir = "/home/fracta";
inline constexpr const char* kWorkspaceRoot = "/workspace/agents";
inline constexpr const char* kSupervisorTokenKey = "FRACTA_SUPERVISOR_TOKEN";
inline constexpr const char* kGitTokenEnv = "FRACTA_GIT_TOKEN";  // the clone's token, by secretKeyRef
inline constexpr const char* kGitSshKeyEnv = "FRACTA_GIT_SSH_KEY";          // an SSH remote's key, by secretKeyRef
inline constexpr const char* kGitKnownHostsEnv = "FRACTA_GIT_KNOWN_HOSTS";  // and its host keys
inline constexpr const char* kDefaultAgentImage = "ghcr.io/fracta-dev/fracta-agent:" FRACTA_VERSION;

// runtime.kubernetes.git and .push: the workspace comes from a git remote and
// the agent's branch goes back to it (provider/k8s_git.h).
struct GitWorkspace {
    bool push = true;                  // push: false → an empty workspace, nothing pushed
    std::string url;                   // empty: the project's origin
    std::string token_secret;          // a Secret holding the remote's token; empty: none
    std::string token_key = "token";   // its key
    // A Secret holding an SSH key (kubernetes.io/ssh-auth's key by default)
    // and the remote's known_hosts lines; empty: none.
    std::string ssh_key_secret;
    std::string ssh_key_key = "ssh-privatekey", known_hosts_key = "known_hosts";
    int depth = 0;                     // clone depth; 0: whole history
};

// What one session's pod clones: resolved from the start request at start.
struct GitCheckout {
    std::string url, commit, branch;  // url empty: no git workspace
    int depth = 0;
    bool push = false;
    std::string token_secret, token_key;
    std::string ssh_key_secret, ssh_key_key, known_hosts_key;
};

// runtime.kubernetes of fracta.yaml (spec/config.md), plus reaper.max_age,
// with a session's `kubernetes` overrides merged in.
struct ObjectSettings {
    std::string namespace_name = "fracta";
    std::string image = kDefaultAgentImage;
    std::string image_pull_policy = "IfNotPresent";  // Always | IfNotPresent | Never
    std::string service_account;                     // empty: none (no API token mounted either)
    int job_ttl_seconds = 300;                       // ttlSecondsAfterFinished
    long long max_age_seconds = 0;                   // activeDeadlineSeconds; 0: none
    // A container's ResourceRequirements ({requests, limits}).
    Json resources = {{"requests", {{"cpu", "500m"}, {"memory", "512Mi"}}},
                      {"limits", {{"cpu", "2"}, {"memory", "2Gi"}}}};
    std::map<std::string, std::string> labels, annotations, node_selector;
    Json tolerations = Json::array();
    Json extra_volumes = Json::array();
    Json extra_volume_mounts = Json::array();
    GitWorkspace git;
    // pvc: an existing PersistentVolumeClaim the workspace lives on, each
    // session in its own subPath agents/<name> (RWX for agents on several
    // nodes); empty: an emptyDir that goes with the pod.
    std::string pvc;
};

// Read settings from a parsed fracta.yaml document (its root object):
// runtime.kubernetes.* and reaper.max_age. Missing keys keep the defaults;
// wrong types are usage errors naming the key.
Result<ObjectSettings> settings_from_config(const Json& root);

// Merge a start request's `kubernetes` overrides (image, resources, labels,
// annotations, service_account, node_selector, tolerations, extra_volumes,
// extra_volume_mounts): maps merge (the session wins), lists append.
Result<ObjectSettings> merge_session_overrides(ObjectSettings base, const Json& overrides);

// The workload that owns a session's ConfigMap and Secret, as the API
// server returned it (the uid is only known after the create).
struct Owner {
    std::string api_version, kind, name, uid;
};
Result<Owner> owner_of(const Json& created);

}  // namespace fracta::k8s
