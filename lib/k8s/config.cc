#include "k8s/config.h"

#include <sys/stat.h>

#include <algorithm>

#include "base/base64.h"
#include "base/io.h"

namespace fracta::k8s {
namespace {

std::optional<std::string> lookup(const yaml::EnvLookup& env, const std::string& name) {
    auto v = env(name);
    if (!v || v->empty()) return std::nullopt;
    return v;
}

bool exists(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

// Files a kubeconfig names are small; the cap keeps a path like /dev/zero
// from reading forever.
Result<std::string> read_file(const std::string& path, const std::string& what) {
    auto text = io::read_file(path, size_t{16} << 20);
    if (!text.ok()) return usage_error("cannot read " + what + " " + path + ": " + text.error().message);
    return text;
}

// RFC 1123 label, as namespaces are: a-z, 0-9 and '-', alphanumeric at both ends.
bool is_dns_label(const std::string& s) {
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (s.empty() || s.size() > 63 || !alnum(s.front()) || !alnum(s.back())) return false;
    return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-'; });
}

std::string dir_of(const std::string& file) {
    auto slash = file.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : file.substr(0, slash);
}

std::string resolve_path(const std::string& base_dir, const std::string& path) {
    if (path.empty() || path[0] == '/') return path;
    return base_dir + "/" + path;
}

// kubeconfig scalars arrive typed (YAML core schema): a token of digits is a
// number, `insecure-skip-tls-verify: true` a boolean.
std::string text(const Json& object, const std::string& key) {
    if (!object.is_object()) return "";
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return "";
    if (it->is_string()) return it->get<std::string>();
    return it->dump();
}

bool flag(const Json& object, const std::string& key) {
    if (!object.is_object()) return false;
    auto it = object.find(key);
    if (it == object.end()) return false;
    if (it->is_boolean()) return it->get<bool>();
    return it->is_string() && it->get<std::string>() == "true";
}

// The entry of a named list (clusters, users, contexts) called `name`.
const Json* named(const Json& root, const std::string& list, const std::string& name, const std::string& field) {
    auto it = root.find(list);
    if (it == root.end() || !it->is_array()) return nullptr;
    for (const auto& entry : *it) {
        if (entry.is_object() && text(entry, "name") == name) {
            auto inner = entry.find(field);
            static const Json empty = Json::object();
            return inner != entry.end() && inner->is_object() ? &*inner : &empty;
        }
    }
    return nullptr;
}

// PEM from `<key>-data` (base64) or `<key>` (a file).
Result<std::string> pem(const Json& object, const std::string& key, const std::string& base_dir,
                        const std::string& where) {
    std::string data = text(object, key + "-data");
    if (!data.empty()) {
        auto decoded = base64_decode(data);
        if (!decoded.ok()) return usage_error(where + ": " + key + "-data: " + decoded.error().message);
        return std::move(decoded).value();
    }
    std::string file = text(object, key);
    if (file.empty()) return std::string();
    return read_file(resolve_path(base_dir, file), key);
}

// The YAML loader expands ${VAR}; a kubeconfig means its '$' literally, so
// each one is doubled going in (values come back exact) and keys, which the
// loader keeps raw, are undoubled afterwards.
std::string protect_dollars(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        out += c;
        if (c == '$') out += '$';
    }
    return out;
}

Json unprotect_keys(const Json& v) {
    if (v.is_array()) {
        Json out = Json::array();
        for (const auto& item : v) out.push_back(unprotect_keys(item));
        return out;
    }
    if (!v.is_object()) return v;
    Json out = Json::object();
    for (const auto& [key, item] : v.items()) {
        std::string k;
        for (size_t i = 0; i < key.size(); ++i) {
            k += key[i];
            if (key[i] == '$' && i + 1 < key.size() && key[i + 1] == '$') ++i;
        }
        out[k] = unprotect_keys(item);
    }
    return out;
}

Result<ExecPlugin> exec_plugin(const Json& exec, const Json& cluster_entry, const std::string& base_dir,
                               const std::string& where) {
    ExecPlugin p;
    p.api_version = text(exec, "apiVersion");
    if (p.api_version != "client.authentication.k8s.io/v1" && p.api_version != "client.authentication.k8s.io/v1beta1")
        return usage_error(where + ": exec plugin apiVersion \"" + p.api_version +
                           "\" is not supported (client.authentication.k8s.io/v1 or v1beta1)");
    p.command = text(exec, "command");
    if (p.command.empty()) return usage_error(where + ": exec plugin has no command");
    // A bare name is looked up in PATH; a path with a '/' is the kubeconfig's.
    if (p.command.find('/') != std::string::npos) p.command = resolve_path(base_dir, p.command);
    if (auto it = exec.find("args"); it != exec.end() && it->is_array())
        for (const auto& a : *it) p.args.push_back(a.is_string() ? a.get<std::string>() : a.dump());
    if (auto it = exec.find("env"); it != exec.end() && it->is_array())
        for (const auto& e : *it) p.env.emplace_back(text(e, "name"), text(e, "value"));
    p.install_hint = text(exec, "installHint");
    p.provide_cluster_info = flag(exec, "provideClusterInfo");
    p.interactive_mode = text(exec, "interactiveMode");
    if (p.provide_cluster_info) {
        // spec.cluster as client-go fills it: the cluster entry's fields in
        // their camelCase names, plus the per-cluster exec config extension.
        Json c = Json::object();
        c["server"] = text(cluster_entry, "server");
        if (auto v = text(cluster_entry, "tls-server-name"); !v.empty()) c["tls-server-name"] = v;
        if (flag(cluster_entry, "insecure-skip-tls-verify")) c["insecure-skip-tls-verify"] = true;
        auto ca = pem(cluster_entry, "certificate-authority", base_dir, where);
        if (!ca.ok()) return std::move(ca).take_error();
        if (!ca->empty()) c["certificate-authority-data"] = base64_encode(*ca);
        if (auto v = text(cluster_entry, "proxy-url"); !v.empty()) c["proxy-url"] = v;
        if (auto ext = cluster_entry.find("extensions"); ext != cluster_entry.end() && ext->is_array())
            for (const auto& e : *ext)
                if (text(e, "name") == "client.authentication.k8s.io/exec" && e.contains("extension"))
                    c["config"] = e["extension"];
        p.cluster = std::move(c);
    }
    return p;
}

}  // namespace

Result<Config> from_kubeconfig(const std::string& text_in, const std::string& file, const std::string& context_in,
                               const yaml::EnvLookup& env) {
    FRACTA_TRY_ASSIGN(doc, yaml::parse(protect_dollars(text_in), file, env));
    Json root = unprotect_keys(doc.root);
    if (!root.is_object()) return usage_error(file + ": not a kubeconfig (expected a mapping)");
    std::string base_dir = dir_of(file);

    Config c;
    c.context = context_in.empty() ? text(root, "current-context") : context_in;
    if (c.context.empty()) return usage_error(file + ": no current-context; pass --context or set FRACTA_K8S_CONTEXT");
    c.origin = "kubeconfig " + file + ", context \"" + c.context + "\"";
    const Json* ctx = named(root, "contexts", c.context, "context");
    if (!ctx) return usage_error(file + ": no context named \"" + c.context + "\"");
    std::string cluster_name = text(*ctx, "cluster"), user_name = text(*ctx, "user");
    c.ns = text(*ctx, "namespace");

    const Json* cluster = named(root, "clusters", cluster_name, "cluster");
    if (!cluster)
        return usage_error(file + ": context \"" + c.context + "\" names cluster \"" + cluster_name +
                           "\", which is not defined");
    std::string where = file + ": cluster \"" + cluster_name + "\"";
    c.server = text(*cluster, "server");
    while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
    if (c.server.empty()) return usage_error(where + ": no server");
    c.insecure_skip_tls_verify = flag(*cluster, "insecure-skip-tls-verify");
    FRACTA_TRY_ASSIGN(ca, pem(*cluster, "certificate-authority", base_dir, where));
    c.ca_pem = std::move(ca);

    if (user_name.empty()) return c;  // anonymous
    const Json* user = named(root, "users", user_name, "user");
    if (!user)
        return usage_error(file + ": context \"" + c.context + "\" names user \"" + user_name +
                           "\", which is not defined");
    where = file + ": user \"" + user_name + "\"";
    FRACTA_TRY_ASSIGN(cert, pem(*user, "client-certificate", base_dir, where));
    FRACTA_TRY_ASSIGN(key, pem(*user, "client-key", base_dir, where));
    if (cert.empty() != key.empty())
        return usage_error(where + ": client-certificate and client-key go together");
    c.client_cert_pem = std::move(cert);
    c.client_key_pem = std::move(key);
    c.token = text(*user, "token");
    if (auto f = text(*user, "tokenFile"); !f.empty()) c.token_file = resolve_path(base_dir, f);
    if (user->contains("auth-provider"))
        return usage_error(where + ": auth-provider \"" + text((*user)["auth-provider"], "name") +
                           "\" is not supported; use an exec credential plugin");
    if (!text(*user, "username").empty() || !text(*user, "password").empty())
        return usage_error(where + ": basic authentication (username/password) is not supported");
    if (auto e = user->find("exec"); e != user->end() && e->is_object()) {
        if (!c.token.empty() || !c.token_file.empty())
            return usage_error(where + ": a token and an exec plugin cannot both be set");
        FRACTA_TRY_ASSIGN(plugin, exec_plugin(*e, *cluster, base_dir, where));
        c.exec = std::move(plugin);
    }
    return c;
}

Result<Config> in_cluster(const yaml::EnvLookup& env) {
    auto host = lookup(env, "KUBERNETES_SERVICE_HOST"), port = lookup(env, "KUBERNETES_SERVICE_PORT");
    if (!host || !port) return usage_error("not in a cluster: KUBERNETES_SERVICE_HOST and _PORT are not set");
    std::string dir = lookup(env, "FRACTA_K8S_SA_DIR").value_or(kServiceAccountDir);
    Config c;
    c.origin = "in-cluster (service account in " + dir + ")";
    std::string h = host->find(':') != std::string::npos ? "[" + *host + "]" : *host;  // IPv6
    c.server = "https://" + h + ":" + *port;
    c.token_file = dir + "/token";
    if (!exists(c.token_file)) return usage_error("in cluster, but no service account token at " + c.token_file);
    FRACTA_TRY_ASSIGN(ca, read_file(dir + "/ca.crt", "service account CA"));
    c.ca_pem = std::move(ca);
    return c;
}

Status from_fracta_config(const Json& root, const std::string& root_dir, ResolveOptions& o) {
    auto k = "/runtime/kubernetes"_json_pointer;
    if (!root.is_object() || !root.contains(k) || !root.at(k).is_object()) return {};
    const Json& section = root.at(k);
    for (auto [key, out] : {std::pair{"kubeconfig", &o.config_kubeconfig}, std::pair{"context", &o.config_context},
                            std::pair{"namespace", &o.config_ns}}) {
        auto it = section.find(key);
        if (it == section.end() || it->is_null()) continue;
        if (!it->is_string()) return usage_error(std::string("runtime.kubernetes.") + key + ": must be a string");
        *out = it->get<std::string>();
    }
    std::string& file = o.config_kubeconfig;
    if (file.rfind("~/", 0) == 0) {
        auto home = lookup(o.env ? o.env : yaml::process_env(), "HOME");
        if (!home) return usage_error("runtime.kubernetes.kubeconfig: \"~/\" but HOME is not set");
        file = *home + file.substr(1);
    } else if (!file.empty() && file[0] != '/' && !root_dir.empty()) {
        file = root_dir + "/" + file;
    }
    return {};
}

Result<Config> Config::resolve(const ResolveOptions& o) {
    yaml::EnvLookup env = o.env ? o.env : yaml::process_env();
    std::string context = o.context.empty() ? lookup(env, "FRACTA_K8S_CONTEXT").value_or(o.config_context) : o.context;

    std::string file = o.kubeconfig.empty() ? o.config_kubeconfig : o.kubeconfig;
    if (file.empty()) {
        if (auto list = lookup(env, "KUBECONFIG")) {
            std::string first = list->substr(0, list->find(':'));
            if (!first.empty()) file = first;
        }
    }
    bool explicit_file = !file.empty();
    if (!explicit_file) {
        if (auto home = lookup(env, "HOME"); home && exists(*home + "/.kube/config")) file = *home + "/.kube/config";
    }

    Result<Config> resolved = usage_error("unset");
    if (!file.empty()) {
        FRACTA_TRY_ASSIGN(text_in, read_file(file, "kubeconfig"));
        resolved = from_kubeconfig(text_in, file, context, env);
    } else if (lookup(env, "KUBERNETES_SERVICE_HOST")) {
        resolved = in_cluster(env);
    } else {
        return usage_error(
            "no Kubernetes configuration: no --kubeconfig, KUBECONFIG or ~/.kube/config, and not in a cluster");
    }
    if (!resolved.ok()) return resolved;
    Config c = std::move(resolved).value();

    std::string sa_ns_file = lookup(env, "FRACTA_K8S_SA_DIR").value_or(kServiceAccountDir) + "/namespace";
    if (!o.ns.empty()) {
        c.ns = o.ns;
    } else if (auto ns = lookup(env, "FRACTA_K8S_NAMESPACE")) {
        c.ns = *ns;
    } else if (!o.config_ns.empty()) {
        c.ns = o.config_ns;
    } else if (c.ns.empty() && exists(sa_ns_file)) {
        auto ns = read_file(sa_ns_file, "service account namespace");
        if (ns.ok()) {
            std::string v = *ns;
            while (!v.empty() && (v.back() == '\n' || v.back() == ' ' || v.back() == '\r')) v.pop_back();
            c.ns = v;
        }
    }
    if (c.ns.empty()) c.ns = "fracta";
    // Checked here, so that a typo is a usage error rather than an API 404.
    if (!is_dns_label(c.ns))
        return usage_error("namespace \"" + c.ns + "\" is not a valid namespace (a DNS label: a-z, 0-9, -)");
    return c;
}

}  // namespace fracta::k8s
