// k8s_orphans.h — step 6 of a reap pass when runtime.backend is kubernetes:
// the ConfigMaps and Secrets of agent sessions whose owner is gone.
//
// fracta-spawn-k8s makes a session's ConfigMap and Secret owned by its Job
// (or stream Pod), so the garbage collector removes them with it. What it
// cannot reach: objects whose owner was deleted with propagation Orphan (by
// hand), and objects created just before a `start` was killed, before they
// got their owner. The first are found by owner uid; the second by having no
// owner for longer than the grace period (a start in progress adds the owner
// within seconds). Only agent objects are looked at (component=agent): the
// events store's ConfigMaps are fracta's too, and must never be touched.
#pragma once
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "base/units.h"
#include "k8s/client.h"

namespace fracta::reap {

struct K8sOrphan {
    std::string resource;  // configmaps | secrets
    std::string name;      // the object
    std::string session;   // the raw session name it belongs to (annotation fracta/session-name)
    std::string reason;
};

Result<std::vector<K8sOrphan>> find_k8s_orphans(k8s::Client& client, Duration grace, Timestamp now);
Status delete_k8s_orphan(k8s::Client& client, const K8sOrphan& orphan);

}  // namespace fracta::reap
