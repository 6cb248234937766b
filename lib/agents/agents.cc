#include "agents/agents.h"

#include <algorithm>

#include "base/text.h"
#include "base/time.h"
#include "base/units.h"
#include "events/log.h"
#include "objectives/objectives.h"

namespace fracta::agents {
namespace {

constexpr const char* kSelect =
    "SELECT name, status, mode, runtime, model, branch, base_branch, workspace, provider, ref, contract,"
    " current_intent, last_output, exit_code, reason, resume_token, attempt, parent, labels, env, token_hash,"
    " cancel_requested, check_command, timeout_ms, turns, input_tokens, output_tokens, cost_micro_usd,"
    " created_at, started_at, ended_at, heartbeat_at, updated_at, objective_id, dedupe_key,"
    " (SELECT COUNT(*) FROM messages m WHERE m.to_task = a.name"
    "   AND m.id > COALESCE((SELECT last_id FROM cursors c WHERE c.task = a.name), 0))"
    " FROM agents a";

Json json_or_empty(const std::string& text) {
    auto j = parse_json(text.empty() ? "{}" : text);
    return j.ok() && j->is_object() ? *j : Json::object();
}

Agent from_row(const store::Row& r) {
    Agent a;
    size_t i = 0;
    a.name = r.text(i++);
    a.status = r.text(i++);
    a.mode = r.text(i++);
    a.runtime = r.text(i++);
    a.model = r.text(i++);
    a.branch = r.text(i++);
    a.base_branch = r.text(i++);
    a.workspace = r.text(i++);
    a.provider = r.text(i++);
    a.ref = r.text(i++);
    a.contract = r.text(i++);
    a.current_intent = r.text(i++);
    a.last_output = r.text(i++);
    if (!r.is_null(i)) a.exit_code = static_cast<int>(r.integer(i));
    ++i;
    a.reason = r.text(i++);
    a.resume_token = r.text(i++);
    a.attempt = static_cast<int>(r.integer(i++));
    a.parent = r.text(i++);
    a.labels = json_or_empty(r.text(i++));
    a.env = json_or_empty(r.text(i++));
    a.token_hash = r.text(i++);
    a.cancel_requested = r.integer(i++) != 0;
    a.check_command = r.text(i++);
    a.timeout_ms = r.integer(i++);
    for (auto* field : {&a.turns, &a.input_tokens, &a.output_tokens, &a.cost_micro_usd}) {
        if (!r.is_null(i)) *field = r.integer(i);
        ++i;
    }
    a.created_at = r.text(i++);
    a.started_at = r.text(i++);
    a.ended_at = r.text(i++);
    a.heartbeat_at = r.text(i++);
    a.updated_at = r.text(i++);
    a.objective_id = r.text(i++);
    a.dedupe_key = r.text(i++);
    a.unread_messages = r.integer(i++);
    return a;
}

Json count_or_null(const std::optional<int64_t>& n) { return n ? Json(*n) : Json(); }

Json usd_or_null(const std::optional<int64_t>& micro) {
    return micro ? Json(static_cast<double>(*micro) / 1e6) : Json();
}

}  // namespace

Json Agent::to_json() const {
    Json j = {{"name", name},
              {"status", status},
              {"mode", mode},
              {"runtime", runtime},
              {"model", model},
              {"branch", branch},
              {"base_branch", base_branch},
              {"workspace", workspace},
              {"provider", provider},
              {"ref", ref},
              {"current_intent", current_intent},
              {"unread_messages", unread_messages},
              {"last_output", last_output},
              {"exit_code", exit_code ? Json(*exit_code) : Json()},
              {"reason", reason},
              {"resume_token", resume_token},
              {"attempt", attempt},
              {"parent", parent},
              {"objective_id", objective_id},
              {"labels", labels},
              {"check", check_command},
              {"timeout", timeout_ms > 0 ? format_duration(std::chrono::milliseconds(timeout_ms)) : ""},
              {"turns", count_or_null(turns)},
              {"input_tokens", count_or_null(input_tokens)},
              {"output_tokens", count_or_null(output_tokens)},
              {"cost_usd", usd_or_null(cost_micro_usd)},
              {"created_at", created_at},
              {"started_at", started_at},
              {"ended_at", ended_at},
              {"heartbeat_at", heartbeat_at}};
    return j;
}

Status Agents::insert(const Agent& a) {
    FRACTA_TRY(check_task_name(a.name));
    FRACTA_TRY_ASSIGN(existing, store_.query("SELECT 1 FROM agents WHERE name = ?", {a.name}));
    if (!existing.empty()) return failure("agent \"" + a.name + "\" already exists");
    const std::string now_text = format_rfc3339(now());
    return store_.exec(
        "INSERT INTO agents (name, status, mode, runtime, model, branch, base_branch, workspace, provider, contract,"
        " parent, labels, env, token_hash, check_command, timeout_ms, objective_id, dedupe_key, attempt,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {a.name, a.status, a.mode, a.runtime, a.model, a.branch, a.base_branch, a.workspace, a.provider, a.contract,
         a.parent, to_line(a.labels), to_line(a.env), a.token_hash, a.check_command, a.timeout_ms, a.objective_id,
         a.dedupe_key,
         int64_t{a.attempt},
         a.created_at.empty() ? now_text : a.created_at, now_text});
}

Result<std::optional<Agent>> Agents::get(const std::string& name) {
    FRACTA_TRY_ASSIGN(rows, store_.query(std::string(kSelect) + " WHERE name = ?", {name}));
    if (rows.empty()) return std::optional<Agent>();
    return std::optional<Agent>(from_row(rows[0]));
}

Result<std::vector<Agent>> Agents::list(const std::string& status_filter) {
    std::string sql = std::string(kSelect);
    store::Params params;
    if (!status_filter.empty()) {
        sql += " WHERE status = ?";
        params.push_back(status_filter);
    }
    sql += " ORDER BY created_at, name";
    FRACTA_TRY_ASSIGN(rows, store_.query(sql, params));
    std::vector<Agent> out;
    for (const auto& r : rows) out.push_back(from_row(r));
    return out;
}

Result<int64_t> Agents::count_with_status(const std::vector<std::string>& statuses) {
    std::string sql = "SELECT COUNT(*) FROM agents WHERE status IN (";
    store::Params params;
    for (size_t i = 0; i < statuses.size(); ++i) {
        sql += i ? ", ?" : "?";
        params.push_back(statuses[i]);
    }
    FRACTA_TRY_ASSIGN(rows, store_.query(sql + ")", params));
    return rows.empty() ? 0 : rows[0].integer(0);
}

Result<bool> Agents::transition_in_tx(const std::string& name, const std::vector<std::string>& from,
                                      const std::string& to, const Changes& c, const std::string& message) {
    const std::string now_text = format_rfc3339(now());
    std::string sql = "UPDATE agents SET status = ?, updated_at = ?";
    store::Params params = {to, now_text};
    auto set = [&](const char* column, store::Value v) {
        sql += std::string(", ") + column + " = ?";
        params.push_back(std::move(v));
    };
    if (c.ref) set("ref", *c.ref);
    if (c.workspace) set("workspace", *c.workspace);
    if (c.branch) set("branch", *c.branch);
    if (c.last_output) set("last_output", *c.last_output);
    if (c.reason) set("reason", *c.reason);
    if (c.resume_token) set("resume_token", *c.resume_token);
    if (c.provider) set("provider", *c.provider);
    if (c.exit_code) set("exit_code", int64_t{*c.exit_code});
    if (c.attempt) set("attempt", int64_t{*c.attempt});
    if (c.token_hash) set("token_hash", *c.token_hash);
    if (c.turns) set("turns", *c.turns);
    if (c.input_tokens) set("input_tokens", *c.input_tokens);
    if (c.output_tokens) set("output_tokens", *c.output_tokens);
    if (c.cost_micro_usd) set("cost_micro_usd", *c.cost_micro_usd);
    if (c.set_started) set("started_at", now_text);
    if (c.set_ended) set("ended_at", now_text);
    if (c.clear_ended) set("ended_at", std::string());
    sql += " WHERE name = ? AND status IN (";
    params.push_back(name);
    for (size_t i = 0; i < from.size(); ++i) {
        sql += i ? ", ?" : "?";
        params.push_back(from[i]);
    }
    sql += ") RETURNING name, objective_id";
    FRACTA_TRY_ASSIGN(rows, store_.query(sql, params));
    if (rows.empty()) return false;
    if (is_terminal(to) && !rows[0].text(1).empty())  // its objective's counters, breaker and budgets
        FRACTA_TRY(objectives::Objectives(store_).agent_ended_in_tx(
            rows[0].text(1), name, to, c.input_tokens.value_or(0) + c.output_tokens.value_or(0),
            c.cost_micro_usd.value_or(0)));
    events::EventLog log(store_);
    for (const events::Event& before : c.events) FRACTA_TRY(log.append_in_tx(before));
    events::Event e;
    e.type = "lifecycle." + lower(to);
    e.ts = now_text;
    e.actor = "cp";
    e.subject = name;
    e.message = message;
    Json payload = {{"category", "lifecycle"}, {"outcome", lower(to)}, {"severity", to == status::Failed ? "error" : "info"}};
    if (c.exit_code) payload["exit_code"] = *c.exit_code;
    if (c.reason && !c.reason->empty()) payload["reason"] = *c.reason;
    if (is_terminal(to)) {  // the run's results, for whoever follows the log
        if (c.resume_token && !c.resume_token->empty()) payload["session_id"] = *c.resume_token;
        if (c.last_output) payload["result"] = *c.last_output;
        if (c.turns) payload["turns"] = *c.turns;
        if (c.input_tokens) payload["input_tokens"] = *c.input_tokens;
        if (c.output_tokens) payload["output_tokens"] = *c.output_tokens;
        if (c.cost_micro_usd) payload["cost_usd"] = usd_or_null(c.cost_micro_usd);
    }
    e.payload = to_line(payload);
    FRACTA_TRY(log.append_in_tx(e));
    return true;
}

Result<bool> Agents::transition(const std::string& name, const std::vector<std::string>& from, const std::string& to,
                                const Changes& changes, const std::string& message) {
    bool moved = false;
    FRACTA_TRY(store_.transaction([&]() -> Status {
        FRACTA_TRY_ASSIGN(done, transition_in_tx(name, from, to, changes, message));
        moved = done;
        return {};
    }));
    return moved;
}

Status Agents::mark_starting(const std::string& name, const std::string& provider, const std::string& token_hash) {
    return store_.exec("UPDATE agents SET provider = ?, token_hash = ?, updated_at = ? WHERE name = ?",
                       {provider, token_hash, format_rfc3339(now()), name});
}

Status Agents::set_ref(const std::string& name, const std::string& ref) {
    return store_.exec("UPDATE agents SET ref = ? WHERE name = ?", {ref, name});
}

Status Agents::request_cancel(const std::string& name) {
    return store_.exec("UPDATE agents SET cancel_requested = 1, updated_at = ? WHERE name = ?",
                       {format_rfc3339(now()), name});
}

Status Agents::set_intent(const std::string& name, const std::string& intent) {
    return store_.exec("UPDATE agents SET current_intent = ?, updated_at = ? WHERE name = ?",
                       {intent, format_rfc3339(now()), name});
}

Result<std::vector<Agents::Beat>> Agents::heartbeat(const std::vector<std::string>& names) {
    constexpr size_t kChunk = 500;  // well under every store's parameter limit
    std::vector<Beat> beats;
    const std::string stamp = format_rfc3339(now());
    for (size_t from = 0; from < names.size(); from += kChunk) {
        const size_t n = std::min(kChunk, names.size() - from);
        std::string sql = "UPDATE agents SET heartbeat_at = ? WHERE name IN (?";
        for (size_t i = 1; i < n; ++i) sql += ", ?";
        sql += ") RETURNING name, status, cancel_requested";
        store::Params params = {stamp};
        for (size_t i = 0; i < n; ++i) params.emplace_back(names[from + i]);
        FRACTA_TRY_ASSIGN(rows, store_.query(sql, params));
        for (const auto& r : rows) beats.push_back({r.text(0), r.text(1), r.integer(2) != 0});
    }
    return beats;
}

Status Agents::remove(const std::string& name) {
    return store_.transaction([&]() -> Status {
        FRACTA_TRY(store_.exec("DELETE FROM messages WHERE to_task = ?", {name}));
        FRACTA_TRY(store_.exec("DELETE FROM cursors WHERE task = ?", {name}));
        return store_.exec("DELETE FROM agents WHERE name = ?", {name});
    });
}

}  // namespace fracta::agents
