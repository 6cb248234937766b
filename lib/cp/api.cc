// api.cc — the route table, health and readiness, metrics, and the error
// conventions every handler shares.
#include "cp/api.h"

#include <cstdio>

#include "queue/queue.h"

namespace fracta::cp {
namespace {

using http::Request;
using http::Response;

Response healthz(Context&, const Request&) { return Response::json(200, {{"status", "ok"}}); }

Response readyz(Context& ctx, const Request&) {
    if (ctx.draining) return Response::json(503, {{"status", "draining"}});
    auto store = ctx.pool.acquire();
    if (!store.ok()) return Response::json(503, {{"status", "unavailable"}, {"error", store.error().message}});
    Status alive = (*store)->exec("SELECT 1");
    if (!alive.ok()) return Response::json(503, {{"status", "unavailable"}, {"error", alive.error().message}});
    return Response::json(200, {{"status", "ready"}});
}

Response metrics(Context& ctx, const Request&) {
    return Response::text(200, render_metrics(ctx), "text/plain; version=0.0.4; charset=utf-8");
}

Response openapi(Context&, const Request&) { return Response::json(200, openapi_document()); }

}  // namespace

const std::vector<Route>& routes() {
    using namespace routes_impl;
    static const std::vector<Route> table = {
        {"GET", "/healthz", healthz, true},
        {"GET", "/readyz", readyz, true},
        {"GET", "/metrics", metrics, true},
        {"GET", "/openapi.json", openapi, true},
        {"POST", "/api/v1/agents", spawn},
        {"GET", "/api/v1/agents", list, true},
        {"GET", "/api/v1/agents/{task}", get, true},
        {"DELETE", "/api/v1/agents/{task}", kill},
        {"POST", "/api/v1/agents/{task}/say", say},
        {"GET", "/api/v1/agents/{task}/peek", peek, true},
        {"GET", "/api/v1/agents/{task}/logs", logs, true},
        {"POST", "/api/v1/agents/{task}/merge", merge},
        {"GET", "/api/v1/agents/{task}/events", events_get, true},
        {"POST", "/api/v1/agents/{task}/events", events_post},
        {"GET", "/api/v1/agents/{task}/watch", watch, true},
        {"GET", "/api/v1/agents/{task}/wait", wait, true},
        {"GET", "/api/v1/agents/{task}/inbox", inbox},  // consumes the messages
        {"POST", "/api/v1/agents/{task}/intent", intent},
        {"POST", "/api/v1/messages", send_message},
        {"POST", "/api/v1/auth/verify", verify},
        {"POST", "/api/v1/objectives", create_objective},
        {"GET", "/api/v1/objectives", list_objectives, true},
        {"GET", "/api/v1/objectives/{id}", get_objective, true},
        {"POST", "/api/v1/objectives/{id}/unfreeze", unfreeze_objective},
        {"POST", "/api/v1/objectives/{id}/close", close_objective},
        {"GET", "/api/v1/proposals", list_proposals, true},
        {"POST", "/api/v1/proposals/{id}/approve", approve_proposal},
        {"POST", "/api/v1/proposals/{id}/reject", reject_proposal},
        {"POST", "/api/v1/agents/{task}/proposals", propose},
        {"POST", "/api/v1/agents/{task}/findings", report_finding},
        {"POST", "/api/v1/agents/{task}/resolve", resolve_objective},
    };
    return table;
}

http::Handler make_handler(Context& ctx) {
    http::Router router;
    for (const Route& r : routes()) {
        auto handle = r.handle;
        const bool read = r.read;
        router.add(r.method, r.pattern, [&ctx, handle, read](const Request& req) {
            if (req.read_only && !read) return Response::error(403, "this token is read-only");
            return handle(ctx, req);
        });
    }
    http::Handler inner = router.handler();
    return [&ctx, inner](const Request& req) {
        Response res = inner(req);
        ctx.counters.request(res.status);
        return res;
    };
}

Response error_response(const Error& e) {
    switch (e.kind) {
        case ErrorKind::Usage: return Response::error(400, e.message);
        case ErrorKind::Temporary: return Response::error(503, e.message);
        default: return Response::error(500, e.message);
    }
}

Result<Json> json_body(const Request& req, bool required) {
    if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
        if (required) return usage_error("a JSON body is required");
        return Json::object();
    }
    auto j = parse_json(req.body);
    if (!j.ok()) return usage_error("malformed JSON: " + j.error().message);
    if (!j->is_object()) return usage_error("the body must be a JSON object");
    return *j;
}

std::string render_metrics(Context& ctx) {
    std::string out;
    auto gauge = [&](const std::string& name, const std::string& help, const std::string& type) {
        out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    };
    gauge("fracta_up", "Whether the control plane's store answers (1) or not (0).", "gauge");
    auto store = ctx.pool.acquire();
    std::map<std::string, int64_t> agents, missions;
    bool up = store.ok();
    if (up) {
        for (const char* s : {"Pending", "Queued", "Running", "Idle", "Completed", "Failed", "Stopped"}) agents[s] = 0;
        auto rows = (*store)->query("SELECT status, COUNT(*) FROM agents GROUP BY status");
        if (rows.ok())
            for (const auto& r : *rows) agents[r.text(0)] = r.integer(1);
        auto counts = queue::Queue(**store).counts();
        if (counts.ok()) missions = *counts;
        up = rows.ok() && counts.ok();
    }
    out += "fracta_up " + std::string(up ? "1" : "0") + "\n";
    gauge("fracta_agents", "Agents by status.", "gauge");
    for (const auto& [s, n] : agents) out += "fracta_agents{status=\"" + s + "\"} " + std::to_string(n) + "\n";
    gauge("fracta_missions", "Queue missions by status.", "gauge");
    for (const auto& [s, n] : missions) out += "fracta_missions{status=\"" + s + "\"} " + std::to_string(n) + "\n";
    gauge("fracta_workers", "Worker threads in this process.", "gauge");
    out += "fracta_workers " + std::to_string(ctx.workers.load()) + "\n";
    gauge("fracta_workers_busy", "Workers seeing a mission through.", "gauge");
    out += "fracta_workers_busy " + std::to_string(ctx.busy_workers.load()) + "\n";
    gauge("fracta_draining", "1 while draining after SIGTERM.", "gauge");
    out += "fracta_draining " + std::string(ctx.draining ? "1" : "0") + "\n";
    gauge("fracta_missions_started_total", "Sessions started by this process's workers.", "counter");
    out += "fracta_missions_started_total " + std::to_string(ctx.counters.missions_started.load()) + "\n";
    gauge("fracta_admissions_refused_total",
          "Claims of a pending mission held back by reaper.max_concurrent or a runtime's max_concurrent.",
          "counter");
    out += "fracta_admissions_refused_total " + std::to_string(ctx.counters.admissions_refused.load()) + "\n";
    gauge("fracta_missions_finished_total", "Missions this process finished, by result.", "counter");
    const std::pair<const char*, uint64_t> finished[] = {
        {"completed", ctx.counters.finished_completed.load()},
        {"failed", ctx.counters.finished_failed.load()},
        {"stopped", ctx.counters.finished_stopped.load()},
        {"handed_back", ctx.counters.finished_released.load()}};
    for (const auto& [result, n] : finished)
        out += "fracta_missions_finished_total{result=\"" + std::string(result) + "\"} " + std::to_string(n) + "\n";
    const auto usage = ctx.counters.usage();
    gauge("fracta_agent_tokens_total", "Model tokens the agents' runs reported (by this process), by runtime and direction.",
          "counter");
    for (const auto& [runtime, u] : usage) {
        out += "fracta_agent_tokens_total{runtime=\"" + runtime + "\",direction=\"input\"} " +
               std::to_string(u.input_tokens) + "\n";
        out += "fracta_agent_tokens_total{runtime=\"" + runtime + "\",direction=\"output\"} " +
               std::to_string(u.output_tokens) + "\n";
    }
    gauge("fracta_agent_cost_usd_total", "Cost in US dollars the agents' runs reported (by this process), by runtime.",
          "counter");
    for (const auto& [runtime, u] : usage) {
        char cost[64];
        std::snprintf(cost, sizeof cost, "%.6f", static_cast<double>(u.cost_micro_usd) / 1e6);
        out += "fracta_agent_cost_usd_total{runtime=\"" + runtime + "\"} " + cost + "\n";
    }
    gauge("fracta_http_requests_total", "HTTP responses sent, by status code.", "counter");
    for (const auto& [code, n] : ctx.counters.requests())
        out += "fracta_http_requests_total{code=\"" + std::to_string(code) + "\"} " + std::to_string(n) + "\n";
    return out;
}

}  // namespace fracta::cp
