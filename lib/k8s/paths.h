// paths.h — Kubernetes REST paths: which API group a resource lives in
// (core "/api/v1" or "/apis/<group>/<version>"), namespaced collections and
// items, subresources (log, proxy, status) and the query parameters fracta
// uses. Pure string building, no I/O.
#pragma once

#include <optional>
#include <string>

namespace fracta::k8s {

struct Resource {
    std::string group_version;  // "v1" (core) or "batch/v1"
    std::string plural;         // "pods"
    bool namespaced = true;

    // "jobs" for the core group, else "jobs.batch" (RBAC's spelling).
    std::string qualified() const;
};

inline const Resource kPods{"v1", "pods"};
inline const Resource kConfigMaps{"v1", "configmaps"};
inline const Resource kSecrets{"v1", "secrets"};
inline const Resource kEvents{"v1", "events"};
inline const Resource kJobs{"batch/v1", "jobs"};
inline const Resource kNamespaces{"v1", "namespaces", false};

struct Query {
    std::string label_selector, field_selector;
    std::string resource_version;
    bool watch = false;
    bool allow_watch_bookmarks = false;
    std::optional<long> timeout_seconds;
    std::optional<long> limit;
    std::string continue_token;
    // pods/log
    std::string container;
    std::optional<long> tail_lines;
    bool follow = false;
    // DELETE (also sent as a DeleteOptions body by Client::del)
    std::string propagation_policy;

    std::string encode() const;  // "" or "?a=b&c=d", percent-encoded
};

// /api/v1/namespaces/<ns>/pods[/<name>[/<subresource>]][?query]. `name` may
// carry a port for proxy ("pod:7070"); `ns` is ignored for cluster-scoped
// resources.
std::string path(const Resource& r, const std::string& ns, const std::string& name = "",
                 const std::string& subresource = "", const Query& q = {});

// …/pods/<pod>:<port>/proxy<sub_path> (sub_path starts with '/' and may
// carry its own query).
std::string proxy_path(const std::string& ns, const std::string& pod, int port, const std::string& sub_path);

}  // namespace fracta::k8s
