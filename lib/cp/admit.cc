// admit.cc — a planned spawn recorded with the checks that must share its
// transaction (admit.h).
#include "cp/admit.h"

#include "base/time.h"
#include "cp/api.h"
#include "events/log.h"
#include "queue/queue.h"

namespace fracta::cp {

using agents::Agents;
using http::Response;
namespace {

// A sub-agent (the fractal part): its parent must be a live agent, within
// agents.max_depth (the chain of parents above the new agent) and
// agents.max_children (the parent's live children). Runs in the spawn's
// transaction, and the count and the insert after it must not interleave
// with another spawn under the same parent: sqlite's write transactions are
// serial already (BEGIN IMMEDIATE); on Postgres the parent's row is locked
// first, so concurrent child spawns of one parent take turns, and each count
// (a fresh snapshot per statement) sees the children committed before it.
Status check_parent(store::Store& store, const config::Config& config, const std::string& parent) {
    if (!config.allow_subagents) return usage_error("sub-agents are disabled (agents.allow_subagents: false)");
    if (store.dialect() == store::Dialect::Postgres)
        FRACTA_TRY(store.query("SELECT name FROM agents WHERE name = ? FOR UPDATE", {parent}));
    Agents agents(store);
    int depth = 1;
    std::string up = parent;
    for (; !up.empty(); ++depth) {
        FRACTA_TRY_ASSIGN(a, agents.get(up));
        if (!a) return usage_error("parent: agent \"" + up + "\" not found");
        if (up == parent && is_terminal(a->status))
            return usage_error("parent: agent \"" + parent + "\" has ended (" + a->status + ")");
        if (depth > config.max_depth)
            return usage_error("parent: too deep: agents.max_depth is " + std::to_string(config.max_depth));
        up = a->parent;
    }
    FRACTA_TRY_ASSIGN(rows, store.query("SELECT COUNT(*) FROM agents WHERE parent = ? AND status NOT IN "
                                        "('Completed', 'Failed', 'Stopped')",
                                        {parent}));
    if (!rows.empty() && rows[0].integer(0) >= config.max_children)
        return usage_error("parent: agent \"" + parent + "\" already has " + std::to_string(rows[0].integer(0)) +
                           " live children (agents.max_children)");
    return {};
}

// The objective of a new agent: the one it names, else its parent's (a
// sub-agent spawned with fracta_spawn stays inside its parent's budgets).
// Naming another objective than the parent's is refused: a tree has one.
Status resolve_objective(store::Store& store, agents::Agent& a) {
    if (a.parent.empty()) return {};
    FRACTA_TRY_ASSIGN(parent, Agents(store).get(a.parent));
    if (!parent || parent->objective_id.empty()) return {};
    if (a.objective_id.empty()) a.objective_id = parent->objective_id;
    if (a.objective_id != parent->objective_id)
        return usage_error("objective_id: the parent \"" + a.parent + "\" works on objective \"" +
                           parent->objective_id + "\"");
    return {};
}

events::Event queued_event(const std::string& task, int64_t mission_id) {
    events::Event queued;
    queued.type = "lifecycle.queued";
    queued.ts = format_rfc3339(now());
    queued.actor = "cp";
    queued.subject = task;
    queued.message = "mission " + std::to_string(mission_id);
    queued.payload = R"({"category":"lifecycle","outcome":"queued","severity":"info"})";
    return queued;
}

}  // namespace

Response refusal_response(const objectives::Refusal& r, const std::string& objective_id) {
    return Response::json(409, {{"error", r.message}, {"rule", r.rule}, {"objective_id", objective_id}});
}

Admitted record_spawn(Context& ctx, SpawnPlan& plan, const std::function<Status(store::Store&)>& also) {
    auto store = ctx.pool.acquire();
    if (!store.ok()) return {error_response(store.error()), std::nullopt, 0};
    agents::Agent& a = plan.agent;
    Admitted out;
    bool exists = false;
    Status saved = (*store)->transaction([&]() -> Status {
        exists = false;
        out.refused.reset();
        if (!a.parent.empty()) FRACTA_TRY(check_parent(**store, ctx.settings.config, a.parent));
        FRACTA_TRY(resolve_objective(**store, a));
        if (!a.objective_id.empty()) {
            FRACTA_TRY_ASSIGN(refused, objectives::Objectives(**store).admit_in_tx(
                                           {a.objective_id, a.name, a.parent, a.dedupe_key}, true));
            out.refused = refused;
            if (refused) return failure(refused->message);  // rolls back; answered below
        }
        Status inserted = Agents(**store).insert(a);
        if (!inserted.ok() && inserted.error().message.find("already exists") != std::string::npos) exists = true;
        FRACTA_TRY(inserted);
        plan.payload["objective_id"] = a.objective_id;
        FRACTA_TRY_ASSIGN(id, queue::Queue(**store).enqueue_in_tx(a.name, plan.payload, plan.priority,
                                                                   ctx.settings.config.queue.max_attempts));
        out.mission_id = id;
        FRACTA_TRY(events::EventLog(**store).append_in_tx(queued_event(a.name, id)));
        if (also) FRACTA_TRY(also(**store));
        return {};
    });
    if (out.refused) {
        (void)objectives::Objectives(**store).record_refusal({a.objective_id, a.name, a.parent, a.dedupe_key},
                                                             *out.refused);
        out.response = refusal_response(*out.refused, a.objective_id);
    } else if (exists) {
        out.response = Response::error(409, "agent \"" + a.name + "\" already exists");
    } else if (!saved.ok()) {
        out.response = error_response(saved.error());
    } else {
        out.response = Response::json(201, spawn_response(a, out.mission_id));
    }
    return out;
}

}  // namespace fracta::cp
