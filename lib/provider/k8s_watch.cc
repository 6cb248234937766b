// k8s_watch.cc — `watch PREFIX` of fracta-spawn-k8s: one pod watch for the
// whole namespace (label app.kubernetes.io/managed-by=fracta), so that a
// control plane follows all its sessions over one connection instead of a
// `wait` per session. The LIST comes first (its statuses, then
// {"synced":true}); the watch resumes from the last resourceVersion,
// bookmarks included, and lists again after 410 Gone (k8s/watch.h). A
// session is its newest pod, as `list` says.

#include <map>

#include "provider/k8s_internal.h"

namespace fracta::provider {
namespace k8s_op {
namespace {

class PodSessions {
public:
    PodSessions(std::string prefix, Io& io) : prefix_(std::move(prefix)), io_(io) {}

    // A pod as it is now (deleted: gone); its session's status when that changed.
    Status seen(const Json& pod, bool deleted) {
        std::string raw = str_at(pod, "/metadata/annotations/fracta~1session-name"_json_pointer);
        if (raw.empty() || raw.compare(0, prefix_.size(), prefix_) != 0) return {};
        std::string pod_name = str_at(pod, "/metadata/name"_json_pointer);
        std::string created = str_at(pod, "/metadata/creationTimestamp"_json_pointer);
        Session& s = sessions_[raw];
        if (!s.pod.empty() && s.pod != pod_name && created < s.created) return {};  // an older pod of it
        std::optional<Json> now;
        if (!deleted) now = pod;
        s.pod = deleted ? "" : pod_name;
        s.created = deleted ? "" : created;
        Json j = pod_status(raw, now);
        std::string key = j.value("state", "") + "/" + (j.contains("exit_code") ? j["exit_code"].dump() : "");
        if (key == s.told) return {};
        s.told = key;
        return io_.write(to_line(j) + "\n");
    }

private:
    struct Session {
        std::string pod, created, told;  // its newest pod; "state/exit code" last printed
    };
    std::string prefix_;
    Io& io_;
    std::map<std::string, Session> sessions_;
};

}  // namespace

Status watch_sessions(k8s::Client& client, const std::string& prefix, Io& io) {
    PodSessions sessions(prefix, io);
    k8s::Query q;
    q.label_selector = "app.kubernetes.io/managed-by=fracta";
    FRACTA_TRY_ASSIGN(pods, client.list(k8s::kPods, q));
    for (const Json& pod : pods.value("items", Json::array())) FRACTA_TRY(sessions.seen(pod, false));
    FRACTA_TRY(io.write("{\"synced\":true}\n"));
    k8s::WatchOptions w;
    w.label_selector = q.label_selector;
    w.resource_version = str_at(pods, "/metadata/resourceVersion"_json_pointer);
    w.cancelled = [&] { return reader_gone(io); };
    Status written;
    auto watched = client.watch(k8s::kPods, w, [&](const k8s::WatchEvent& e) {
        if (e.type == "ADDED" || e.type == "MODIFIED" || e.type == "DELETED")
            written = sessions.seen(e.object, e.type == "DELETED");
        return written.ok();
    });
    if (!written.ok()) return written;
    if (!watched.ok()) return std::move(watched).take_error().context("watch pods");
    return {};
}

}  // namespace k8s_op

Status K8sBackend::watch(const std::string& prefix, Io& io) {
    FRACTA_TRY_ASSIGN(c, client());
    return k8s_op::watch_sessions(*c, prefix, io);
}

}  // namespace fracta::provider
