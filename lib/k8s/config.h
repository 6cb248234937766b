// config.h — where fracta-spawn-k8s finds its Kubernetes API server, how it
// proves who it is, and which namespace it works in (spec/kubernetes.md,
// "Client configuration, in order"):
//
//   1. a kubeconfig: --kubeconfig FILE, else fracta.yaml's
//      runtime.kubernetes.kubeconfig, else the first file of $KUBECONFIG,
//      else ~/.kube/config (when it exists); the context from --context,
//      $FRACTA_K8S_CONTEXT, runtime.kubernetes.context or current-context;
//   2. in cluster: $KUBERNETES_SERVICE_HOST/_PORT and the service account's
//      token, ca.crt and namespace under
//      /var/run/secrets/kubernetes.io/serviceaccount ($FRACTA_K8S_SA_DIR
//      overrides the directory, for tests and unusual mounts).
//
// The namespace is --namespace, $FRACTA_K8S_NAMESPACE, fracta.yaml's, the context's, the
// service account's namespace file, or "fracta". Relative paths in a
// kubeconfig (certificates, tokenFile, an exec command holding a '/') are
// relative to the kubeconfig's directory, as kubectl reads them. Files named
// by the kubeconfig are read here, once; the token file and exec plugins are
// read or run later, when requests need them (see credentials.h).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "config/yaml.h"

namespace fracta::k8s {

// users[].user.exec: a credential plugin (client.authentication.k8s.io).
struct ExecPlugin {
    std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
    std::string command;
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> env;
    std::string install_hint;         // shown when the command is missing
    bool provide_cluster_info = false;
    std::string interactive_mode;     // Never | IfAvailable | Always ("" as IfAvailable)
    Json cluster;                     // ExecCredential spec.cluster, when provide_cluster_info
};

struct ResolveOptions {
    std::string kubeconfig;  // --kubeconfig
    std::string context;     // --context
    std::string ns;          // --namespace
    yaml::EnvLookup env;     // unset: the process environment
    // fracta.yaml's runtime.kubernetes.kubeconfig, .context and .namespace
    // (see from_fracta_config): the file is read instead of $KUBECONFIG's;
    // the context and namespace count after $FRACTA_K8S_CONTEXT and
    // $FRACTA_K8S_NAMESPACE, before the kubeconfig context's own namespace.
    std::string config_kubeconfig, config_context, config_ns;
};

// Fill o.config_kubeconfig, o.config_context and o.config_ns from a parsed fracta.yaml
// (its root object). A relative kubeconfig path is relative to `root_dir`
// (the file's directory); "~/" is $HOME's. Wrong types are usage errors
// naming the key.
Status from_fracta_config(const Json& root, const std::string& root_dir, ResolveOptions& o);

struct Config {
    std::string server;  // "https://10.0.0.1:443", no trailing '/'
    std::string origin;  // for messages: `kubeconfig /x/config, context "prod"` or "in-cluster"
    std::string context;
    std::string ns;

    std::string ca_pem;  // empty: the system's trust store
    bool insecure_skip_tls_verify = false;
    std::string client_cert_pem, client_key_pem;

    std::string token;       // a fixed bearer token
    std::string token_file;  // a bearer token re-read whenever the file changes
    std::optional<ExecPlugin> exec;

    static Result<Config> resolve(const ResolveOptions& o = {});
};

// The pieces of resolve(), for tests and for `render`-style tools that have
// a kubeconfig text in hand. `file` is the path used in messages and as the
// base for relative paths.
Result<Config> from_kubeconfig(const std::string& text, const std::string& file, const std::string& context,
                               const yaml::EnvLookup& env);
Result<Config> in_cluster(const yaml::EnvLookup& env);

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

}  // namespace fracta::k8s
