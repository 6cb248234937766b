// k8s.h — fracta-spawn-k8s: the session contract (spec: exec-provider.md)
// for sessions that are Kubernetes objects (spec: kubernetes.md). One
// library entry for the thin main.
//
// Every op is a few REST calls through one k8s::Client: start creates the
// workload, then its ConfigMap and Secret, and waits for the pod with a
// watch; reads come from one LIST of pods (they carry every label and the
// raw name); input to a session goes to its supervisor's control API
// through the API server's pod proxy.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/cli.h"
#include "base/result.h"
#include "k8s/config.h"

namespace fracta::provider {

struct K8sIo {
    std::function<Result<std::string>(size_t max_bytes)> read_input;
    std::function<Status(std::string_view)> write;
    std::function<void(const std::string&)> warn;  // a stderr line that is not an error
};

struct K8sContext {
    k8s::ResolveOptions resolve;     // --kubeconfig, --context, --namespace
    std::string config_file;         // --config: fracta.yaml (runtime.kubernetes)
    long long start_timeout_s = 55;  // start gives up (and cleans up) after this
};

const cli::Command& k8s_command();
bool is_k8s_operation(const std::string& op);

// Run one operation; the result is the process exit status.
Result<int> run_k8s(const std::string& op, const std::vector<std::string>& args, const K8sContext& ctx, K8sIo& io);

}  // namespace fracta::provider
