// admission.cc — whether an objective takes one more agent, and what an
// ended agent does to its objective (counters, the circuit breaker, the
// token and cost budgets). Both run inside the caller's transaction, after
// the objective's row is locked, so concurrent spawns take turns.
#include "base/time.h"
#include "objectives/objectives.h"

namespace fracta::objectives {
namespace {

constexpr const char* kLive = "('Pending', 'Queued', 'Running', 'Idle')";

std::string n(int64_t v) { return std::to_string(v); }

Result<int64_t> count(store::Store& store, const std::string& sql, const store::Params& params) {
    FRACTA_TRY_ASSIGN(rows, store.query(sql, params));
    return rows.empty() ? 0 : rows[0].integer(0);
}

// How deep `parent`'s child sits: 1 for a root, 2 for a child of a root, …
Result<int64_t> depth_under(store::Store& store, const std::string& parent) {
    int64_t depth = 1;
    for (std::string up = parent; !up.empty() && depth < 1000; ++depth) {
        FRACTA_TRY_ASSIGN(rows, store.query("SELECT parent FROM agents WHERE name = ?", {up}));
        if (rows.empty()) break;
        up = rows[0].text(0);
    }
    return depth;
}

std::optional<Refusal> refuse(const Objective& o, const std::string& rule, const std::string& why) {
    return Refusal{rule, "objective \"" + o.id + "\": " + why};
}

// The budgets that count what exists: missions admitted, dedupe, depth,
// branching and concurrency.
Result<std::optional<Refusal>> check_budgets(store::Store& store, const Objective& o, const Candidate& c) {
    const Budgets& b = o.budgets;
    if (b.max_missions > 0 && o.mission_count >= b.max_missions)
        return refuse(o, "max_missions", n(o.mission_count) + " of max_missions " + n(b.max_missions) + " admitted");
    if (!c.dedupe_key.empty()) {
        FRACTA_TRY_ASSIGN(agents, count(store, std::string("SELECT COUNT(*) FROM agents WHERE objective_id = ? AND "
                                                           "dedupe_key = ? AND status IN ") + kLive,
                                        {o.id, c.dedupe_key}));
        // a pending proposal being approved does not collide with itself
        FRACTA_TRY_ASSIGN(pending, count(store, "SELECT COUNT(*) FROM proposals WHERE objective_id = ? AND "
                                                "dedupe_key = ? AND status = 'pending' AND task <> ?",
                                         {o.id, c.dedupe_key, c.agent}));
        if (agents + pending > 0)
            return refuse(o, "dedupe", "a pending or running mission already has dedupe_key \"" + c.dedupe_key + "\"");
    }
    FRACTA_TRY_ASSIGN(depth, depth_under(store, c.parent));
    if (b.max_depth > 0 && depth > b.max_depth)
        return refuse(o, "max_depth", "depth " + n(depth) + " is beyond max_depth " + n(b.max_depth));
    FRACTA_TRY_ASSIGN(siblings, count(store, std::string("SELECT COUNT(*) FROM agents WHERE objective_id = ? AND "
                                                         "parent = ? AND status IN ") + kLive,
                                      {o.id, c.parent}));
    if (b.max_branching > 0 && siblings >= b.max_branching)
        return refuse(o, "max_branching", (c.parent.empty() ? std::string("the objective") : "\"" + c.parent + "\"") +
                                              " already has " + n(siblings) + " live children (max_branching " +
                                              n(b.max_branching) + ")");
    if (b.max_concurrent > 0) {
        FRACTA_TRY_ASSIGN(live, count(store, std::string("SELECT COUNT(*) FROM agents WHERE objective_id = ? AND "
                                                         "status IN ") + kLive,
                                      {o.id}));
        if (live >= b.max_concurrent)
            return refuse(o, "max_concurrent", n(live) + " live agents (max_concurrent " + n(b.max_concurrent) + ")");
    }
    return std::optional<Refusal>();
}

}  // namespace

Result<std::optional<Refusal>> Objectives::admit_in_tx(const Candidate& c, bool count_it) {
    FRACTA_TRY_ASSIGN(found, lock_in_tx(c.objective_id));
    if (!found) return usage_error("objective_id: objective \"" + c.objective_id + "\" not found");
    const Objective& o = *found;
    if (o.status == status::Frozen) return refuse(o, "frozen", "objective frozen (fracta objectives unfreeze " + o.id + ")");
    if (o.status != status::Open) return refuse(o, "status", "the objective is " + o.status);
    if (!o.deadline_at.empty() && format_rfc3339(now()) > o.deadline_at)
        return refuse(o, "max_runtime", "its max_runtime ran out at " + o.deadline_at);
    FRACTA_TRY_ASSIGN(refused, check_budgets(store_, o, c));
    if (refused || !count_it) return refused;
    FRACTA_TRY(store_.exec("UPDATE objectives SET mission_count = mission_count + 1, updated_at = ? WHERE id = ?",
                           {format_rfc3339(now()), o.id}));
    FRACTA_TRY(event_in_tx(o.id, "objective.admitted", c.parent.empty() ? "cp" : c.parent, c.agent,
                           {{"agent", c.agent}, {"parent", c.parent}, {"mission_count", o.mission_count + 1}}));
    return std::optional<Refusal>();
}

Status Objectives::record_refusal(const Candidate& c, const Refusal& r) {
    return store_.transaction([&]() -> Status {
        FRACTA_TRY(store_.exec("UPDATE objectives SET refused_count = refused_count + 1, updated_at = ? WHERE id = ?",
                               {format_rfc3339(now()), c.objective_id}));
        FRACTA_TRY(event_in_tx(c.objective_id, "objective.refused", c.parent.empty() ? "cp" : c.parent, r.message,
                               {{"rule", r.rule}, {"agent", c.agent}, {"parent", c.parent}, {"severity", "warning"}}));
        if (r.rule == "max_runtime")
            FRACTA_TRY(set_status_in_tx(c.objective_id, {status::Open}, status::TimedOut, "timed_out",
                                        "max_runtime ran out", "cp"));
        return {};
    });
}

Status Objectives::agent_ended_in_tx(const std::string& id, const std::string& agent, const std::string& agent_status,
                                     int64_t tokens, int64_t cost) {
    const bool failed = agent_status == "Failed", completed = agent_status == "Completed";
    FRACTA_TRY(store_.exec(
        "UPDATE objectives SET tokens_used = tokens_used + ?, cost_micro_usd = cost_micro_usd + ?,"
        " failed_count = failed_count + ?, completed_count = completed_count + ?,"
        " failure_streak = CASE WHEN ? = 1 THEN failure_streak + 1 WHEN ? = 1 THEN 0 ELSE failure_streak END,"
        " updated_at = ? WHERE id = ?",
        {tokens, cost, int64_t{failed}, int64_t{completed}, int64_t{failed}, int64_t{completed},
         format_rfc3339(now()), id}));
    FRACTA_TRY_ASSIGN(found, lock_in_tx(id));
    if (!found) return {};
    const Objective& o = *found;
    FRACTA_TRY(event_in_tx(id, "objective.mission_ended", "cp", agent,
                           {{"agent", agent}, {"status", agent_status}, {"tokens", tokens}, {"failure_streak", o.failure_streak},
                            {"tokens_used", o.tokens_used}, {"cost_usd", static_cast<double>(o.cost_micro_usd) / 1e6}}));
    if (o.status != status::Open) return {};
    const Budgets& b = o.budgets;
    if (b.breaker > 0 && o.failure_streak >= b.breaker) {
        FRACTA_TRY(set_status_in_tx(id, {status::Open}, status::Frozen, "frozen",
                                    n(o.failure_streak) + " consecutive failed missions (breaker " + n(b.breaker) + ")",
                                    "cp"));
        return {};
    }
    std::string spent;
    if (b.max_tokens > 0 && o.tokens_used >= b.max_tokens)
        spent = n(o.tokens_used) + " tokens used (max_tokens " + n(b.max_tokens) + ")";
    else if (b.max_cost_micro_usd > 0 && o.cost_micro_usd >= b.max_cost_micro_usd)
        spent = "cost reached max_cost_usd";
    if (spent.empty()) return {};
    FRACTA_TRY(set_status_in_tx(id, {status::Open}, status::BudgetExhausted, "budget_exhausted", spent, "cp"));
    return tell_live_agents_in_tx(id, "objective \"" + id + "\" is out of budget: " + spent +
                                          "; no new missions will be admitted: wrap up and report.");
}

}  // namespace fracta::objectives
