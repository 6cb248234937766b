// k8s_objects.h — the Kubernetes objects of one fracta session
// (spec/kubernetes.md), built as JSON from a start request and the
// runtime.kubernetes settings (k8s/objects.h). Pure functions: no I/O, no API
// calls; fracta-spawn-k8s creates what these return, and `render` prints the
// same objects.
#pragma once

#include <map>
#include <string>

#include "base/json.h"
#include "base/result.h"
#include "k8s/objects.h"
#include "k8s/objects_names.h"
#include "provider/contract.h"

namespace fracta::provider {

struct SessionInput {
    std::string name;              // the raw session name
    StartRequest request;          // already parsed (parse_start_request)
    k8s::ObjectSettings settings;  // before the request's own overrides
    std::string control_token;     // the supervisor's control API token (required)
    k8s::GitCheckout git;          // url empty: the workspace starts empty
};

struct SessionObjects {
    k8s::ObjectNames names;
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
Json with_owner(Json object, const k8s::Owner& owner);

// What `render` prints: a v1 List of the workload, ConfigMap and Secret, in
// creation order, without ownerReferences (no uid exists before a create).
Result<Json> render(const SessionInput& input);

// The labels on every object of the session (for selectors and tests).
std::map<std::string, std::string> session_labels(const k8s::ObjectNames& names, const std::string& mode);

}  // namespace fracta::provider
