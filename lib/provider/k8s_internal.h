// k8s_internal.h — what the parts of fracta-spawn-k8s share (k8s.cc: the
// op table, reads and render; k8s_lifecycle.cc: start, stop, wait;
// k8s_control.cc: the supervisor's control API through the pod proxy).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "k8s/client.h"
#include "k8s/objects.h"
#include "provider/k8s.h"

namespace fracta::provider::k8s_op {

// The session's pod as the API server has it, if any: the newest pod
// carrying its fracta-agent-id label (one LIST).
Result<std::optional<Json>> find_pod(k8s::Client& client, const k8s::ObjectNames& names);

// The status object of the session contract for a pod (null: none exists).
Json pod_status(const std::string& raw_name, const std::optional<Json>& pod);

bool pod_live(const Json& pod);  // Pending or Running, not being deleted

// The object settings for a session: fracta.yaml's runtime.kubernetes (when
// --config names one) with the namespace the client works in.
Result<k8s::ObjectSettings> load_settings(const K8sContext& ctx, const std::string& ns);

// The namespace when no client exists (render): flag, env, fracta.yaml, "fracta".
std::string fallback_namespace(const K8sContext& ctx);

Status start(k8s::Client& client, const std::string& name, const K8sContext& ctx, K8sIo& io);
Status stop(k8s::Client& client, const k8s::ObjectNames& names);
Result<Json> wait(k8s::Client& client, const k8s::ObjectNames& names, long long timeout_s);

// Ops that talk to the supervisor (nudge, send-keys, interrupt, meta, …).
bool is_control_operation(const std::string& op);
Result<int> run_control(k8s::Client& client, const std::string& op, const std::vector<std::string>& args,
                        const k8s::ObjectNames& names, K8sIo& io);
// One control API call on a running pod, with the session's token.
Result<http::ClientResponse> control_call(k8s::Client& client, const std::string& pod, const std::string& token,
                                          const std::string& method, const std::string& path,
                                          const std::string& body = "");

}  // namespace fracta::provider::k8s_op
