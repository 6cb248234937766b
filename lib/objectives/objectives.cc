// objectives.cc — the objectives table: the model, its JSON, create, read,
// status changes and their events. Admission and the accounting of ended
// agents: admission.cc.
#include "objectives/objectives.h"

#include "base/agent.h"
#include "base/sha256.h"
#include "base/time.h"
#include "base/units.h"
#include "events/log.h"

namespace fracta::objectives {
namespace {

constexpr const char* kColumns =
    "id, description, status, created_at, created_by, updated_at, deadline_at, outcome, max_missions, max_depth,"
    " max_branching, max_concurrent, max_runtime_ms, max_tokens, max_cost_micro_usd, breaker, mission_count,"
    " refused_count, finding_count, failed_count, completed_count, failure_streak, tokens_used, cost_micro_usd";

Objective from_row(const store::Row& r) {
    Objective o;
    size_t i = 0;
    for (std::string* s : {&o.id, &o.description, &o.status, &o.created_at, &o.created_by, &o.updated_at,
                           &o.deadline_at, &o.outcome})
        *s = r.text(i++);
    Budgets& b = o.budgets;
    for (int64_t* n : {&b.max_missions, &b.max_depth, &b.max_branching, &b.max_concurrent, &b.max_runtime_ms,
                       &b.max_tokens, &b.max_cost_micro_usd, &b.breaker, &o.mission_count, &o.refused_count,
                       &o.finding_count, &o.failed_count, &o.completed_count, &o.failure_streak, &o.tokens_used,
                       &o.cost_micro_usd})
        *n = r.integer(i++);
    return o;
}

double usd(int64_t micro) { return static_cast<double>(micro) / 1e6; }

// A budget from the body: a non-negative integer, or the default.
Status budget(const Json& body, const char* key, int64_t& into) {
    if (!body.contains(key) || body[key].is_null()) return {};
    if (!body[key].is_number_integer() || body[key].get<long long>() < 0)
        return usage_error(std::string(key) + ": must be a non-negative integer (0: no limit)");
    into = body[key].get<int64_t>();
    return {};
}

Result<std::string> text_field(const Json& body, const char* key) {
    if (!body.contains(key) || body[key].is_null()) return std::string();
    if (!body[key].is_string()) return usage_error(std::string(key) + ": must be a string");
    return body[key].get<std::string>();
}

Status budgets_from(const Json& body, Budgets& b) {
    for (auto [key, into] : {std::pair{"max_missions", &b.max_missions}, {"max_depth", &b.max_depth},
                             {"max_branching", &b.max_branching}, {"max_concurrent", &b.max_concurrent},
                             {"max_tokens", &b.max_tokens}, {"breaker", &b.breaker}})
        FRACTA_TRY(budget(body, key, *into));
    if (body.contains("max_cost_usd") && !body["max_cost_usd"].is_null()) {
        if (!body["max_cost_usd"].is_number() || body["max_cost_usd"].get<double>() < 0)
            return usage_error("max_cost_usd: must be a non-negative number (0: no limit)");
        b.max_cost_micro_usd = static_cast<int64_t>(body["max_cost_usd"].get<double>() * 1e6 + 0.5);
    }
    FRACTA_TRY_ASSIGN(runtime, text_field(body, "max_runtime"));
    if (runtime == "0") b.max_runtime_ms = 0;
    else if (!runtime.empty()) {
        auto d = parse_duration(runtime);
        if (!d.ok() || d->count() <= 0)
            return usage_error("max_runtime: must be a duration such as 30m or 4h, or 0 (got \"" + runtime + "\")");
        b.max_runtime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
    }
    return {};
}

}  // namespace

bool is_status(const std::string& s) {
    for (const char* known : {status::Open, status::Answered, status::Disproven, status::Exhausted,
                              status::BudgetExhausted, status::TimedOut, status::Frozen})
        if (s == known) return true;
    return false;
}

Json Objective::to_json() const {
    const Budgets& b = budgets;
    return {{"id", id},
            {"description", description},
            {"status", status},
            {"created_at", created_at},
            {"created_by", created_by},
            {"updated_at", updated_at},
            {"deadline_at", deadline_at},
            {"outcome", outcome},
            {"max_missions", b.max_missions},
            {"max_depth", b.max_depth},
            {"max_branching", b.max_branching},
            {"max_concurrent", b.max_concurrent},
            {"max_runtime", b.max_runtime_ms ? format_duration(std::chrono::milliseconds(b.max_runtime_ms)) : "0"},
            {"max_tokens", b.max_tokens},
            {"max_cost_usd", usd(b.max_cost_micro_usd)},
            {"breaker", b.breaker},
            {"mission_count", mission_count},
            {"refused_count", refused_count},
            {"finding_count", finding_count},
            {"completed_count", completed_count},
            {"failed_count", failed_count},
            {"failure_streak", failure_streak},
            {"tokens_used", tokens_used},
            {"cost_usd", usd(cost_micro_usd)}};
}

Result<Objective> from_request(const Json& body, int64_t breaker) {
    if (!body.is_object()) return usage_error("the body must be a JSON object");
    Objective o;
    o.budgets.breaker = breaker;
    FRACTA_TRY_ASSIGN(id, text_field(body, "id"));
    FRACTA_TRY_ASSIGN(description, text_field(body, "description"));
    FRACTA_TRY_ASSIGN(created_by, text_field(body, "created_by"));
    if (description.empty()) return usage_error("description: required (a non-empty string)");
    if (id.empty()) {
        FRACTA_TRY_ASSIGN(hex, random_token_hex(4));
        id = "obj-" + hex;
    }
    if (Status ok = check_task_name(id); !ok.ok()) return usage_error("id: " + ok.error().message);
    FRACTA_TRY(budgets_from(body, o.budgets));
    o.id = id;
    o.description = description;
    o.created_by = created_by.empty() ? "user" : created_by;
    const Timestamp t = now();
    o.created_at = o.updated_at = format_rfc3339(t);
    if (o.budgets.max_runtime_ms > 0) {
        Timestamp end = t;
        end.seconds += o.budgets.max_runtime_ms / 1000;
        end.nanos += static_cast<int32_t>((o.budgets.max_runtime_ms % 1000) * 1000000);
        if (end.nanos >= 1000000000) end.seconds += 1, end.nanos -= 1000000000;
        o.deadline_at = format_rfc3339(end);
    }
    return o;
}

Status Objectives::create(const Objective& o) {
    const Budgets& b = o.budgets;
    return store_.transaction([&]() -> Status {
        FRACTA_TRY_ASSIGN(existing, store_.query("SELECT 1 FROM objectives WHERE id = ?", {o.id}));
        if (!existing.empty()) return failure("objective \"" + o.id + "\" already exists");
        FRACTA_TRY(store_.exec(
            "INSERT INTO objectives (id, description, status, created_at, created_by, updated_at, deadline_at,"
            " max_missions, max_depth, max_branching, max_concurrent, max_runtime_ms, max_tokens, max_cost_micro_usd,"
            " breaker) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {o.id, o.description, o.status, o.created_at, o.created_by, o.updated_at, o.deadline_at, b.max_missions,
             b.max_depth, b.max_branching, b.max_concurrent, b.max_runtime_ms, b.max_tokens, b.max_cost_micro_usd,
             b.breaker}));
        return event_in_tx(o.id, "objective.created", o.created_by, o.description, o.to_json());
    });
}

Result<std::optional<Objective>> Objectives::get(const std::string& id) {
    FRACTA_TRY_ASSIGN(rows, store_.query(std::string("SELECT ") + kColumns + " FROM objectives WHERE id = ?", {id}));
    if (rows.empty()) return std::optional<Objective>();
    return std::optional<Objective>(from_row(rows[0]));
}

Result<std::optional<Objective>> Objectives::lock_in_tx(const std::string& id) {
    std::string sql = std::string("SELECT ") + kColumns + " FROM objectives WHERE id = ?";
    if (store_.dialect() == store::Dialect::Postgres) sql += " FOR UPDATE";
    FRACTA_TRY_ASSIGN(rows, store_.query(sql, {id}));
    if (rows.empty()) return std::optional<Objective>();
    return std::optional<Objective>(from_row(rows[0]));
}

Result<std::vector<Objective>> Objectives::list(const std::string& status_filter) {
    std::string sql = std::string("SELECT ") + kColumns + " FROM objectives";
    store::Params params;
    if (!status_filter.empty()) {
        sql += " WHERE status = ?";
        params.push_back(status_filter);
    }
    FRACTA_TRY_ASSIGN(rows, store_.query(sql + " ORDER BY created_at, id", params));
    std::vector<Objective> out;
    for (const auto& r : rows) out.push_back(from_row(r));
    return out;
}

Result<bool> Objectives::set_status_in_tx(const std::string& id, const std::vector<std::string>& from,
                                          const std::string& to, const std::string& event, const std::string& outcome,
                                          const std::string& actor) {
    std::string sql = "UPDATE objectives SET status = ?, updated_at = ?";
    store::Params params = {to, format_rfc3339(now())};
    if (!outcome.empty()) sql += ", outcome = ?", params.push_back(outcome);
    if (to == status::Open) sql += ", failure_streak = 0";  // unfrozen: the breaker counts afresh
    sql += " WHERE id = ? AND status IN (";
    params.push_back(id);
    for (size_t i = 0; i < from.size(); ++i) sql += i ? ", ?" : "?", params.push_back(from[i]);
    FRACTA_TRY_ASSIGN(rows, store_.query(sql + ") RETURNING id", params));
    if (rows.empty()) return false;
    FRACTA_TRY(event_in_tx(id, "objective." + event, actor, outcome, {{"status", to}}));
    return true;
}

Status Objectives::event_in_tx(const std::string& id, const std::string& type, const std::string& actor,
                               const std::string& message, const Json& payload) {
    events::Event e;
    e.type = type;
    e.ts = format_rfc3339(now());
    e.actor = actor.empty() ? "cp" : actor;
    e.subject = id;
    e.message = message;
    Json p = payload.is_object() ? payload : Json::object();
    p["category"] = "objective";
    p["objective_id"] = id;
    e.payload = to_line(p);
    FRACTA_TRY(events::EventLog(store_).append_in_tx(e));
    return {};
}

Status Objectives::tell_live_agents_in_tx(const std::string& id, const std::string& message) {
    return store_.exec("INSERT INTO messages (from_task, to_task, content, created_at) SELECT 'cp', name, ?, ? FROM"
                       " agents WHERE objective_id = ? AND status NOT IN ('Completed', 'Failed', 'Stopped')",
                       {message, format_rfc3339(now()), id});
}

Status Objectives::add_finding(const std::string& id, const std::string& agent, const std::string& summary) {
    return store_.transaction([&]() -> Status {
        FRACTA_TRY(store_.exec("UPDATE objectives SET finding_count = finding_count + 1, updated_at = ? WHERE id = ?",
                               {format_rfc3339(now()), id}));
        return event_in_tx(id, "objective.finding", agent, summary, {{"agent", agent}});
    });
}

}  // namespace fracta::objectives
