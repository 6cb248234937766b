// k8s.h — fracta-spawn-k8s: the session contract (contract.h) for sessions
// that are Kubernetes objects (spec: kubernetes.md).
//
// Every op is a few REST calls through one k8s::Client: start creates the
// workload, then its ConfigMap and Secret, and waits for the pod with a
// watch; reads come from one LIST of pods (they carry every label and the
// raw name); input to a session goes to its supervisor's control API
// through the API server's pod proxy.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/cli.h"
#include "k8s/config.h"
#include "provider/contract.h"

namespace fracta::provider {

struct K8sContext {
    k8s::ResolveOptions resolve;     // --kubeconfig, --context, --namespace
    std::string config_file;         // --config: fracta.yaml (runtime.kubernetes)
    long long start_timeout_s = 55;  // start gives up (and cleans up) after this
};

// The sessions in the cluster and namespace ctx resolves to.
std::unique_ptr<SessionBackend> k8s_backend(K8sContext ctx);

// fracta-spawn-k8s's command line (base/tool.h).
const Tool& k8s_tool();
// The context of the global options (--kubeconfig, --context, --namespace,
// --config, --start-timeout).
Result<K8sContext> k8s_context(const cli::Args& args);

}  // namespace fracta::provider
