#include "objectives/proposals.h"

#include "base/time.h"
#include "events/log.h"

namespace fracta::objectives {
namespace {

constexpr const char* kColumns =
    "id, objective_id, proposed_by, task, contract, dedupe_key, rationale, evidence, priority, status, rule,"
    " review_note, created_at, reviewed_at";

Proposal from_row(const store::Row& r) {
    Proposal p;
    p.id = r.integer(0);
    size_t i = 1;
    for (std::string* s : {&p.objective_id, &p.proposed_by, &p.task, &p.contract, &p.dedupe_key, &p.rationale,
                           &p.evidence})
        *s = r.text(i++);
    p.priority = r.integer(i++);
    for (std::string* s : {&p.status, &p.rule, &p.review_note, &p.created_at, &p.reviewed_at}) *s = r.text(i++);
    return p;
}

Status event(store::Store& store, const Proposal& p, const std::string& type, const std::string& actor,
             const std::string& message) {
    events::Event e;
    e.type = type;
    e.ts = format_rfc3339(now());
    e.actor = actor;
    e.subject = p.objective_id;
    e.message = message;
    e.payload = to_line({{"category", "objective"}, {"objective_id", p.objective_id}, {"proposal_id", p.id},
                         {"task", p.task}, {"status", p.status}, {"rule", p.rule}});
    FRACTA_TRY(events::EventLog(store).append_in_tx(e));
    return {};
}

}  // namespace

Json Proposal::to_json() const {
    return {{"id", id},          {"objective_id", objective_id}, {"proposed_by", proposed_by}, {"task", task},
            {"contract", contract}, {"dedupe_key", dedupe_key},  {"rationale", rationale},     {"evidence", evidence},
            {"priority", priority}, {"status", status},          {"rule", rule},               {"review_note", review_note},
            {"created_at", created_at}, {"reviewed_at", reviewed_at}};
}

Result<int64_t> Proposals::insert_in_tx(const Proposal& in) {
    Proposal p = in;
    if (p.created_at.empty()) p.created_at = format_rfc3339(now());
    if (p.status != "pending" && p.reviewed_at.empty()) p.reviewed_at = p.created_at;
    FRACTA_TRY_ASSIGN(rows, store_.query(
        "INSERT INTO proposals (objective_id, proposed_by, task, contract, dedupe_key, rationale, evidence, priority,"
        " status, rule, review_note, created_at, reviewed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " RETURNING id",
        {p.objective_id, p.proposed_by, p.task, p.contract, p.dedupe_key, p.rationale, p.evidence, p.priority,
         p.status, p.rule, p.review_note, p.created_at, p.reviewed_at}));
    p.id = rows.at(0).integer(0);
    FRACTA_TRY(event(store_, p, "objective.proposed", p.proposed_by, p.rationale));
    return p.id;
}

Result<std::optional<Proposal>> Proposals::get(int64_t id) {
    FRACTA_TRY_ASSIGN(rows, store_.query(std::string("SELECT ") + kColumns + " FROM proposals WHERE id = ?", {id}));
    if (rows.empty()) return std::optional<Proposal>();
    return std::optional<Proposal>(from_row(rows[0]));
}

Result<std::vector<Proposal>> Proposals::list(const std::string& objective_id, const std::string& status_filter) {
    std::string sql = std::string("SELECT ") + kColumns + " FROM proposals WHERE 1 = 1";
    store::Params params;
    if (!objective_id.empty()) sql += " AND objective_id = ?", params.push_back(objective_id);
    if (!status_filter.empty()) sql += " AND status = ?", params.push_back(status_filter);
    FRACTA_TRY_ASSIGN(rows, store_.query(sql + " ORDER BY id", params));
    std::vector<Proposal> out;
    for (const auto& r : rows) out.push_back(from_row(r));
    return out;
}

Result<bool> Proposals::review_in_tx(int64_t id, const std::string& to, const std::string& rule,
                                     const std::string& note) {
    FRACTA_TRY_ASSIGN(rows, store_.query("UPDATE proposals SET status = ?, rule = ?, review_note = ?, reviewed_at = ?"
                                         " WHERE id = ? AND status = 'pending' RETURNING id",
                                         {to, rule, note, format_rfc3339(now()), id}));
    if (rows.empty()) return false;
    FRACTA_TRY_ASSIGN(p, get(id));
    if (p) FRACTA_TRY(event(store_, *p, "objective.proposal_" + to, "cp", note.empty() ? rule : note));
    return true;
}

}  // namespace fracta::objectives
