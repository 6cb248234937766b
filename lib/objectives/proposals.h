// proposals.h — missions an agent asks for under its objective
// (fracta_propose_mission). With objectives.approval auto a proposal is
// admitted or refused at once, in the transaction of the spawn it becomes;
// with manual it waits (pending) for a person to approve or reject it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "store/store.h"

namespace fracta::objectives {

struct Proposal {
    int64_t id = 0;
    std::string objective_id, proposed_by, task, contract, dedupe_key, rationale, evidence;
    int64_t priority = 0;
    std::string status = "pending";  // pending admitted refused rejected
    std::string rule, review_note, created_at, reviewed_at;

    Json to_json() const;
};

class Proposals {
public:
    explicit Proposals(store::Store& store) : store_(store) {}

    // Insert (created_at now unless set); returns the id. In the caller's
    // transaction; it writes an objective.proposed event.
    Result<int64_t> insert_in_tx(const Proposal& proposal);
    Result<std::optional<Proposal>> get(int64_t id);
    Result<std::vector<Proposal>> list(const std::string& objective_id, const std::string& status_filter);
    // Compare-and-set from pending, with the rule or note of the review and
    // an objective.proposal_<to> event. False when it was not pending.
    Result<bool> review_in_tx(int64_t id, const std::string& to, const std::string& rule, const std::string& note);

private:
    store::Store& store_;
};

}  // namespace fracta::objectives
