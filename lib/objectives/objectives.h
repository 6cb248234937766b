// objectives.h — objectives: a goal a tree of agents works on, with budgets
// the control plane enforces when it records each agent (spec:
// control-plane.md, "Objectives").
//
// Admission runs inside the transaction that inserts the agent, after the
// objective's row is locked (Postgres: SELECT … FOR UPDATE; sqlite: the
// write transaction is already exclusive), so the counts it reads cannot be
// overtaken by another spawn between the check and the insert — on one
// process or on several replicas sharing one database.
//
// Every state change is an `objective.<what>` event, written in the same
// transaction as the change. This library talks SQL only (no agents
// library), so the agents table can call back into it when an agent ends.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "store/store.h"

namespace fracta::objectives {

namespace status {
inline constexpr const char* Open = "open";
inline constexpr const char* Answered = "answered";
inline constexpr const char* Disproven = "disproven";
inline constexpr const char* Exhausted = "exhausted";
inline constexpr const char* BudgetExhausted = "budget_exhausted";
inline constexpr const char* TimedOut = "timed_out";
inline constexpr const char* Frozen = "frozen";
}  // namespace status

bool is_status(const std::string& s);

// Budgets: 0 is "no limit".
struct Budgets {
    int64_t max_missions = 100, max_depth = 5, max_branching = 5, max_concurrent = 0;
    int64_t max_runtime_ms = 4LL * 3600 * 1000;
    int64_t max_tokens = 0, max_cost_micro_usd = 0;
    int64_t breaker = 3;  // consecutive failed missions that freeze it (0: never)
};

struct Objective {
    std::string id, description, status = status::Open, created_at, created_by, updated_at, deadline_at, outcome;
    Budgets budgets;
    int64_t mission_count = 0, refused_count = 0, finding_count = 0, failed_count = 0, completed_count = 0;
    int64_t failure_streak = 0, tokens_used = 0, cost_micro_usd = 0;

    Json to_json() const;
};

// POST /api/v1/objectives' body → a new objective (id minted when absent);
// `breaker` is objectives.breaker, the default of the body's `breaker`.
Result<Objective> from_request(const Json& body, int64_t breaker);

// Why admission said no: the budget or rule, and a sentence naming it.
struct Refusal {
    std::string rule;  // max_missions max_depth max_branching max_concurrent max_runtime dedupe status
    std::string message;
};

// What is being admitted: a new agent of `objective_id` under `parent`
// (empty: a root of the tree).
struct Candidate {
    std::string objective_id, agent, parent, dedupe_key;
};

class Objectives {
public:
    explicit Objectives(store::Store& store) : store_(store) {}

    Status create(const Objective& objective);  // its own transaction; "already exists" is a Failed error
    Result<std::optional<Objective>> get(const std::string& id);
    Result<std::vector<Objective>> list(const std::string& status_filter = "");

    // Compare-and-set the status (from one of `from`), with an
    // objective.<event> event; false when it was not in `from`. `outcome`
    // is kept when empty. In the caller's transaction.
    Result<bool> set_status_in_tx(const std::string& id, const std::vector<std::string>& from, const std::string& to,
                                  const std::string& event, const std::string& outcome, const std::string& actor);

    // Admission, in the caller's transaction: nullopt when admitted. `count`
    // adds the mission to mission_count (a spawn; a manual proposal is only
    // checked until approved).
    Result<std::optional<Refusal>> admit_in_tx(const Candidate& candidate, bool count);
    // After a refusal's transaction rolled back: count it, record the
    // objective.refused event, and time the objective out if that was why.
    Status record_refusal(const Candidate& candidate, const Refusal& refusal);

    // An agent of `objective_id` ended as `agent_status`, with the usage its
    // run reported: the counters, the breaker and the token and cost budgets.
    // In the caller's transaction (the agent's own transition).
    Status agent_ended_in_tx(const std::string& objective_id, const std::string& agent, const std::string& agent_status,
                             int64_t tokens, int64_t cost_micro_usd);

    Status add_finding(const std::string& id, const std::string& agent, const std::string& summary);

private:
    Result<std::optional<Objective>> lock_in_tx(const std::string& id);
    Status event_in_tx(const std::string& id, const std::string& type, const std::string& actor,
                       const std::string& message, const Json& payload);
    Status tell_live_agents_in_tx(const std::string& id, const std::string& message);
    store::Store& store_;
};

}  // namespace fracta::objectives
