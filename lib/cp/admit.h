// admit.h — recording a planned spawn: the agent row, its mission and its
// lifecycle.queued event in one transaction, after the checks that must see
// the same snapshot as the insert: the parent's limits (agents.max_depth,
// agents.max_children) and, for an agent of an objective, the objective's
// admission (objectives/objectives.h). Used by POST /api/v1/agents and by
// proposals (admitted at once, or on approval).
#pragma once

#include <functional>
#include <optional>

#include "cp/context.h"
#include "cp/spawn.h"
#include "http/server.h"
#include "objectives/objectives.h"

namespace fracta::cp {

struct Admitted {
    http::Response response;  // 201 SpawnResponse, or the error to answer
    std::optional<objectives::Refusal> refused;  // the objective's refusal (a 409), recorded as an event
    int64_t mission_id = 0;
};

// `also` runs in the same transaction after the insert (a proposal marks
// itself admitted), and rolls everything back if it fails.
Admitted record_spawn(Context& ctx, SpawnPlan& plan, const std::function<Status(store::Store&)>& also = nullptr);

// A refusal as the API answers it: 409 {"error", "rule", "objective_id"}.
http::Response refusal_response(const objectives::Refusal& refusal, const std::string& objective_id);

}  // namespace fracta::cp
