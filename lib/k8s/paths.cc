#include "k8s/paths.h"

#include "http/server.h"  // percent_encode

namespace fracta::k8s {

std::string Resource::qualified() const {
    auto slash = group_version.find('/');
    if (slash == std::string::npos) return plural;
    return plural + "." + group_version.substr(0, slash);
}

std::string Query::encode() const {
    std::string out;
    auto add = [&](const char* key, const std::string& value) {
        out += out.empty() ? '?' : '&';
        out += key;
        out += '=';
        out += http::percent_encode(value);
    };
    if (!label_selector.empty()) add("labelSelector", label_selector);
    if (!field_selector.empty()) add("fieldSelector", field_selector);
    if (!resource_version.empty()) add("resourceVersion", resource_version);
    if (watch) add("watch", "true");
    if (allow_watch_bookmarks) add("allowWatchBookmarks", "true");
    if (timeout_seconds) add("timeoutSeconds", std::to_string(*timeout_seconds));
    if (limit) add("limit", std::to_string(*limit));
    if (!continue_token.empty()) add("continue", continue_token);
    if (!container.empty()) add("container", container);
    if (tail_lines) add("tailLines", std::to_string(*tail_lines));
    if (follow) add("follow", "true");
    if (!propagation_policy.empty()) add("propagationPolicy", propagation_policy);
    return out;
}

std::string path(const Resource& r, const std::string& ns, const std::string& name, const std::string& subresource,
                 const Query& q) {
    std::string p = r.group_version.find('/') == std::string::npos ? "/api/" + r.group_version
                                                                   : "/apis/" + r.group_version;
    if (r.namespaced) p += "/namespaces/" + http::percent_encode(ns);
    p += "/" + r.plural;
    if (!name.empty()) {
        // A proxy target "pod:7070" keeps its colon (percent_encode would escape it).
        auto colon = name.rfind(':');
        if (subresource == "proxy" && colon != std::string::npos)
            p += "/" + http::percent_encode(name.substr(0, colon)) + ":" + name.substr(colon + 1);
        else
            p += "/" + http::percent_encode(name);
        if (!subresource.empty()) p += "/" + subresource;
    }
    return p + q.encode();
}

std::string proxy_path(const std::string& ns, const std::string& pod, int port, const std::string& sub_path) {
    std::string sub = sub_path.empty() || sub_path[0] != '/' ? "/" + sub_path : sub_path;
    return path(kPods, ns, pod + ":" + std::to_string(port), "proxy") + sub;
}

}  // namespace fracta::k8s
