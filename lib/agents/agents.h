// agents.h — the agents table: one row per task, its lifecycle as
// compare-and-set transitions, each with its `lifecycle.<status>` event in
// the same transaction (spec: control-plane.md).
//
// Statuses have one spelling everywhere. A transition names the statuses it
// may start from, so a late exit can never overwrite Stopped: the update
// simply matches no row, and the caller learns that it lost the race.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/agent.h"
#include "base/json.h"
#include "events/event.h"
#include "store/store.h"

namespace fracta::agents {

// The statuses, the terminal rule and the name rule: base/agent.h.

struct Agent {
    std::string name, status, mode = "batch", runtime, model, branch, base_branch, workspace, provider, ref;
    std::string contract, current_intent, last_output, reason, resume_token, parent;
    std::string objective_id;  // the objective whose budgets admitted it; empty: none
    std::string dedupe_key;    // no two live agents of one objective share one (empty: no key)
    std::optional<int> exit_code;
    int attempt = 0;
    Json labels = Json::object(), env = Json::object();
    std::string token_hash;
    std::string check_command;  // run in the worktree when the agent ends; empty: none
    int64_t timeout_ms = 0;     // the agent fails with reason "timeout" after this long running (0: never)
    bool cancel_requested = false;
    // What the run cost, as the runtime's CLI reported it (unset: not reported).
    std::optional<int64_t> turns, input_tokens, output_tokens, cost_micro_usd;
    std::string created_at, started_at, ended_at, heartbeat_at, updated_at;
    int64_t unread_messages = 0;  // computed from the mailbox on read

    // The API's Agent object (never the token hash).
    Json to_json() const;
};

// Fields a transition sets along with the status; unset ones are kept.
struct Changes {
    std::optional<std::string> ref, workspace, branch, last_output, reason, resume_token, provider;
    std::optional<int> exit_code;
    std::optional<int> attempt;
    std::optional<std::string> token_hash;
    // A run's usage; set ones also go into the lifecycle event's payload,
    // with last_output as its `result` and resume_token as its `session_id`.
    std::optional<int64_t> turns, input_tokens, output_tokens, cost_micro_usd;
    // Recorded, when the transition happens, just before its lifecycle event
    // (agent.tool_denied), so a watcher sees them before the end.
    std::vector<events::Event> events;
    bool set_started = false, set_ended = false;
    bool clear_ended = false;  // a follow-up run: the agent is live again
};

class Agents {
public:
    explicit Agents(store::Store& store) : store_(store) {}

    // Insert a new agent; an existing name is a Failed error "agent \"x\"
    // already exists" (the API's 409). Runs in the caller's transaction.
    Status insert(const Agent& agent);
    Result<std::optional<Agent>> get(const std::string& name);
    Result<std::vector<Agent>> list(const std::string& status_filter = "");
    Result<int64_t> count_with_status(const std::vector<std::string>& statuses);

    // Compare-and-set: from one of `from` to `to`, with `changes`, and a
    // lifecycle.<to> event (actor "cp", subject the task, `message`), all in
    // one transaction. Returns false when the agent was not in `from`.
    Result<bool> transition(const std::string& name, const std::vector<std::string>& from, const std::string& to,
                            const Changes& changes, const std::string& message = "");
    // The same, inside a transaction the caller already holds.
    Result<bool> transition_in_tx(const std::string& name, const std::vector<std::string>& from, const std::string& to,
                                  const Changes& changes, const std::string& message = "");

    // Record, before a provider `start`, that one was asked for (`provider`
    // names the backend) and the hash of the token the session will hold.
    Status mark_starting(const std::string& name, const std::string& provider, const std::string& token_hash);
    Status set_ref(const std::string& name, const std::string& ref);
    Status request_cancel(const std::string& name);
    Status set_intent(const std::string& name, const std::string& intent);
    // Stamp heartbeat_at on every agent named, in one statement a few
    // hundred at a time: the follower's beat over all it follows. Returns
    // what it found of each (a name missing from the answer has no row).
    struct Beat {
        std::string name, status;
        bool cancel_requested = false;
    };
    Result<std::vector<Beat>> heartbeat(const std::vector<std::string>& names);
    Status remove(const std::string& name);

private:
    store::Store& store_;
};

}  // namespace fracta::agents
