// api_objectives.cc — the objective routes: create, list, read, unfreeze,
// close; and what an agent of an objective may do to it (propose a mission,
// report a finding, resolve it), always its own objective, named by its row.
#include "base/time.h"
#include "cp/admit.h"
#include "cp/api.h"
#include "objectives/proposals.h"
#include "queue/queue.h"

namespace fracta::cp::routes_impl {

using http::Request;
using http::Response;
using objectives::Objective;
using objectives::Objectives;
namespace {

Response objective_not_found(const std::string& id) {
    return Response::error(404, "objective \"" + id + "\" not found");
}

// The objective as the answer of a route, or a 404.
Response objective_answer(store::Store& store, const std::string& id, int code = 200) {
    auto got = Objectives(store).get(id);
    if (!got.ok()) return error_response(got.error());
    if (!*got) return objective_not_found(id);
    return Response::json(code, {{"objective", (*got)->to_json()}});
}

// Set the status from one of `from`; 409 when it was in none of them.
Response change_status(Context& ctx, const std::string& id, const std::vector<std::string>& from,
                       const std::string& to, const std::string& event, const std::string& outcome,
                       const std::string& actor) {
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    bool moved = false;
    Status done = (*store)->transaction([&]() -> Status {
        FRACTA_TRY_ASSIGN(ok, Objectives(**store).set_status_in_tx(id, from, to, event, outcome, actor));
        moved = ok;
        // unfrozen: missions held back while frozen are claimable again
        if (moved && to == objectives::status::Open) FRACTA_TRY((*store)->notify(queue::kChannel));
        return {};
    });
    if (!done.ok()) return error_response(done.error());
    if (!moved) {
        auto got = Objectives(**store).get(id);
        if (got.ok() && !*got) return objective_not_found(id);
        return Response::error(409, "objective \"" + id + "\" is " + (got.ok() && *got ? (*got)->status : "?") +
                                        ": cannot become " + to);
    }
    return objective_answer(**store, id);
}

Result<std::string> string_field(const Json& body, const char* key, bool required) {
    if (!body.contains(key) || body[key].is_null() || (body[key].is_string() && body[key].get<std::string>().empty())) {
        if (required) return usage_error(std::string(key) + ": required (a non-empty string)");
        return std::string();
    }
    if (!body[key].is_string()) return usage_error(std::string(key) + ": must be a string");
    return body[key].get<std::string>();
}

// The status an objective ends in and its outcome, from a request's body
// (closing it: both optional; resolving it: both required).
struct Ending {
    std::string status, outcome;
};
Result<Ending> ending_of(const Request& req, bool required) {
    FRACTA_TRY_ASSIGN(body, json_body(req, required));
    FRACTA_TRY_ASSIGN(status, string_field(body, "status", required));
    FRACTA_TRY_ASSIGN(outcome, string_field(body, "outcome", required));
    return Ending{std::move(status), std::move(outcome)};
}

// The agent of the route and its objective, or the response to give.
struct Member {
    std::optional<agents::Agent> agent;
    Response response;
};
Member member(Context& ctx, const Request& req) {
    const std::string& task = req.params.at("task");
    auto store = ctx.pool.acquire();
    if (!store.ok()) return {std::nullopt, error_response(store.error())};
    auto got = agents::Agents(**store).get(task);
    if (!got.ok()) return {std::nullopt, error_response(got.error())};
    if (!*got) return {std::nullopt, Response::error(404, "agent \"" + task + "\" not found")};
    if ((*got)->objective_id.empty())
        return {std::nullopt, Response::error(409, "agent \"" + task + "\" works on no objective")};
    return {std::move(*got), {}};
}

}  // namespace

Response create_objective(Context& ctx, const Request& req) {
    auto body = json_body(req);
    if (!body.ok()) return error_response(body.error());
    auto o = objectives::from_request(*body, ctx.settings.config.objectives_breaker);
    if (!o.ok()) return error_response(o.error());
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    Status made = Objectives(**store).create(*o);
    if (!made.ok() && made.error().message.find("already exists") != std::string::npos)
        return Response::error(409, made.error().message);
    if (!made.ok()) return error_response(made.error());
    return objective_answer(**store, o->id, 201);
}

Response list_objectives(Context& ctx, const Request& req) {
    const std::string status = req.query_param("status");
    if (!status.empty() && !objectives::is_status(status))
        return Response::error(400, "unknown status \"" + status +
                                        "\" (open, answered, disproven, exhausted, budget_exhausted, timed_out, frozen)");
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    return list_response("objectives", Objectives(**store).list(status));
}

Response get_objective(Context& ctx, const Request& req) {
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    return objective_answer(**store, req.params.at("id"));
}

Response unfreeze_objective(Context& ctx, const Request& req) {
    using namespace objectives::status;
    return change_status(ctx, req.params.at("id"), {Frozen}, Open, "unfrozen", "", "user");
}

Response close_objective(Context& ctx, const Request& req) {
    auto end = ending_of(req, false);
    if (!end.ok()) return error_response(end.error());
    using namespace objectives::status;
    std::string status = end->status.empty() ? Exhausted : end->status;
    if (status != Answered && status != Disproven && status != Exhausted)
        return Response::error(400, "status: must be answered, disproven or exhausted");
    return change_status(ctx, req.params.at("id"), {Open, Frozen, BudgetExhausted, TimedOut}, status, "closed",
                         end->outcome, "user");
}

Response report_finding(Context& ctx, const Request& req) {
    auto body = json_body(req);
    if (!body.ok()) return error_response(body.error());
    auto summary = string_field(*body, "summary", true);
    if (!summary.ok()) return error_response(summary.error());
    Member m = member(ctx, req);
    if (!m.agent) return m.response;
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    if (Status added = Objectives(**store).add_finding(m.agent->objective_id, m.agent->name, *summary); !added.ok())
        return error_response(added.error());
    return objective_answer(**store, m.agent->objective_id);
}

Response resolve_objective(Context& ctx, const Request& req) {
    auto end = ending_of(req, true);
    if (!end.ok()) return error_response(end.error());
    using namespace objectives::status;
    if (end->status != Answered && end->status != Disproven)
        return Response::error(400, "status: must be answered or disproven");
    Member m = member(ctx, req);
    if (!m.agent) return m.response;
    return change_status(ctx, m.agent->objective_id, {Open}, end->status, "resolved", end->outcome, m.agent->name);
}

}  // namespace fracta::cp::routes_impl
