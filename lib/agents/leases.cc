#include "agents/leases.h"

namespace fracta::agents {

Result<std::vector<queue::Mission>> expire_leases(queue::Queue& queue, Agents& agents) {
    FRACTA_TRY_ASSIGN(expired, queue.expire_leases());
    for (const auto& m : expired) {
        if (m.status != "failed") continue;
        Changes c;
        c.reason = "lease expired";
        c.set_ended = true;
        FRACTA_TRY(agents.transition(m.task, {status::Queued, status::Running, status::Idle}, status::Failed, c,
                                     "lease expired"));
    }
    return expired;
}

}  // namespace fracta::agents
