#include "reap/k8s_orphans.h"

#include <set>

namespace fracta::reap {
namespace {

constexpr const char* kAgentObjects = "app.kubernetes.io/managed-by=fracta,app.kubernetes.io/component=agent";

Result<Json> items_of(k8s::Client& client, const k8s::Resource& r) {
    k8s::Query q;
    q.label_selector = kAgentObjects;
    auto listed = client.list(r, q);
    if (!listed.ok()) return std::move(listed).take_error();
    const Json& items = (*listed)["items"];
    return items.is_array() ? items : Json::array();
}

std::string text_at(const Json& j, const Json::json_pointer& p) {
    return j.contains(p) && j[p].is_string() ? j[p].get<std::string>() : "";
}

}  // namespace

Result<std::vector<K8sOrphan>> find_k8s_orphans(k8s::Client& client, Duration grace, Timestamp now) {
    std::set<std::string> owners;  // uids of the workloads that exist
    for (const auto* r : {&k8s::kJobs, &k8s::kPods}) {
        FRACTA_TRY_ASSIGN(items, items_of(client, *r));
        for (const Json& o : items) owners.insert(text_at(o, "/metadata/uid"_json_pointer));
    }
    std::vector<K8sOrphan> out;
    for (const auto* r : {&k8s::kConfigMaps, &k8s::kSecrets}) {
        FRACTA_TRY_ASSIGN(items, items_of(client, *r));
        for (const Json& o : items) {
            K8sOrphan orphan{r->plural, text_at(o, "/metadata/name"_json_pointer),
                             text_at(o, "/metadata/annotations/fracta~1session-name"_json_pointer), ""};
            const Json refs = o.value("/metadata/ownerReferences"_json_pointer, Json::array());
            if (refs.is_array() && !refs.empty()) {
                bool alive = false;
                for (const Json& ref : refs) alive = alive || owners.count(ref.value("uid", ""));
                if (alive) continue;
                orphan.reason = r->plural + "/" + orphan.name + ": its owner " + refs[0].value("kind", "") + " " +
                                refs[0].value("name", "") + " is gone";
            } else {
                auto created = parse_rfc3339(text_at(o, "/metadata/creationTimestamp"_json_pointer));
                if (!created.ok() || std::chrono::seconds(now.seconds - created->seconds) <= grace) continue;
                orphan.reason = r->plural + "/" + orphan.name + ": no owner since " +
                                text_at(o, "/metadata/creationTimestamp"_json_pointer);
            }
            out.push_back(std::move(orphan));
        }
    }
    return out;
}

Status delete_k8s_orphan(k8s::Client& client, const K8sOrphan& orphan) {
    const k8s::Resource& r = orphan.resource == "secrets" ? k8s::kSecrets : k8s::kConfigMaps;
    auto gone = client.del(r, orphan.name);
    if (!gone.ok() && !gone.not_found()) return std::move(gone).take_error();
    return {};
}

}  // namespace fracta::reap
