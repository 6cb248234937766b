// objects.h — the Kubernetes objects of one fracta session (spec/kubernetes.md),
// built as JSON from a start request and the runtime.kubernetes settings.
// Pure functions: no I/O, no API calls; fracta-spawn-k8s creates what these
// return, and `render` prints the same objects.
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
//   fracta-spawn-local supervise <name> --foreground --control :7070
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
#include "provider/start_request.h"

namespace fracta::k8s {

inline constexpr int kAgentUid = 65532;
inline constexpr int kControlPort = 7070;
inline constexpr const char* kControlListen = ":7070";  // all interfaces, kControlPort
inline constexpr const char* kFilesDir = "/etc/fracta/files";
inline constexpr const char* kHomeDir = "/home/fracta";
inline constexpr const char* kWorkspaceRoot = "/workspace/agents";
inline constexpr const char* kSupervisorTokenKey = "FRACTA_SUPERVISOR_TOKEN";
inline constexpr const char* kDefaultAgentImage = "ghcr.io/fracta-dev/fracta-agent:" FRACTA_VERSION;

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

struct SessionInput {
    std::string name;                // the raw session name
    provider::StartRequest request;  // already parsed (parse_start_request)
    ObjectSettings settings;         // before the request's own overrides
    std::string control_token;       // the supervisor's control API token (required)
};

struct SessionObjects {
    ObjectNames names;
    std::string mode;  // batch | stream
    Json workload;     // the Job or the Pod: create it first
    Json config_map;   // create next, with_owner(workload's uid)
    Json secret;       // create last, with_owner(workload's uid)
};

// Build everything `start` creates. Usage errors for bad input: an invalid
// name, workspace file paths that cannot become ConfigMap keys, files too
// large for a ConfigMap, secret_env names a Secret cannot hold, bad labels.
Result<SessionObjects> build_session_objects(const SessionInput& input);

// `object` with metadata.ownerReferences naming `owner` as its controller.
Json with_owner(Json object, const Owner& owner);

// What `render` prints: a v1 List of the workload, ConfigMap and Secret, in
// creation order, without ownerReferences (no uid exists before a create).
Result<Json> render(const SessionInput& input);

// The labels on every object of the session (for selectors and tests).
std::map<std::string, std::string> session_labels(const ObjectNames& names, const std::string& mode);

}  // namespace fracta::k8s
