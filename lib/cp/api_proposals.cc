// api_proposals.cc — missions agents propose under their objective
// (fracta_propose_mission), and a person's review of them when
// objectives.approval is manual. An admitted proposal is a spawn: a child of
// the proposer, with its runtime and model, recorded by record_spawn with
// the objective's admission in the same transaction.
#include "base/cli.h"
#include "cp/admit.h"
#include "cp/api.h"
#include "objectives/proposals.h"

namespace fracta::cp::routes_impl {

using http::Request;
using http::Response;
using objectives::Proposal;
using objectives::Proposals;
namespace {

Result<Proposal> proposal_from(const Json& body, const agents::Agent& proposer) {
    Proposal p;
    p.objective_id = proposer.objective_id;
    p.proposed_by = proposer.name;
    auto text = [&](const char* key, std::string& into, bool required) -> Status {
        if (!body.contains(key) || body[key].is_null()) {
            if (required) return usage_error(std::string(key) + ": required");
            return {};
        }
        if (!body[key].is_string()) return usage_error(std::string(key) + ": must be a string");
        into = body[key].get<std::string>();
        return {};
    };
    FRACTA_TRY(text("task", p.task, true));
    FRACTA_TRY(check_task_name(p.task));
    for (auto [key, into] : {std::pair{"contract", &p.contract}, {"dedupe_key", &p.dedupe_key},
                             {"rationale", &p.rationale}, {"evidence", &p.evidence}})
        FRACTA_TRY(text(key, *into, false));
    if (body.contains("priority") && !body["priority"].is_null()) {
        if (!body["priority"].is_number_integer()) return usage_error("priority: must be an integer");
        p.priority = body["priority"].get<int64_t>();
    }
    return p;
}

// The spawn a proposal becomes: a child of its proposer.
Result<SpawnPlan> plan_for(Context& ctx, const Proposal& p, const std::optional<agents::Agent>& proposer) {
    Json body = {{"task", p.task}, {"contract", p.contract}, {"objective_id", p.objective_id},
                 {"dedupe_key", p.dedupe_key}, {"priority", p.priority}};
    if (proposer) {
        body["parent"] = proposer->name;
        body["runtime"] = proposer->runtime;
        if (!proposer->model.empty()) body["model"] = proposer->model;
    }
    return plan_spawn(body, ctx.settings);
}

Response proposal_answer(const Proposal& p, Json extra = Json::object()) {
    Json out = {{"proposal_id", p.id}, {"objective_id", p.objective_id}, {"status", p.status}, {"proposal", p.to_json()}};
    for (auto& [k, v] : extra.items()) out[k] = v;
    return Response::json(p.status == "refused" ? 409 : p.status == "pending" ? 202 : 201, out);
}

// Write down a refused proposal (its own transaction: the spawn's rolled back).
Response refused(Context& ctx, Proposal p, const objectives::Refusal& r) {
    p.status = "refused";
    p.rule = r.rule;
    p.review_note = r.message;
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    Status saved = (*store)->transaction([&]() -> Status {
        FRACTA_TRY_ASSIGN(id, Proposals(**store).insert_in_tx(p));
        p.id = id;
        return {};
    });
    if (!saved.ok()) return error_response(saved.error());
    return proposal_answer(p, {{"error", r.message}, {"rule", r.rule}});
}

// objectives.approval manual: checked now (so a doomed proposal is refused
// at once), counted when approved.
Response propose_pending(Context& ctx, Proposal p, const std::string& parent) {
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    std::optional<objectives::Refusal> no;
    const objectives::Candidate c{p.objective_id, p.task, parent, p.dedupe_key};
    Status saved = (*store)->transaction([&]() -> Status {
        FRACTA_TRY_ASSIGN(r, objectives::Objectives(**store).admit_in_tx(c, false));
        no = r;
        if (no) return {};
        FRACTA_TRY_ASSIGN(id, Proposals(**store).insert_in_tx(p));
        p.id = id;
        return {};
    });
    if (!saved.ok()) return error_response(saved.error());
    if (no) {
        (void)objectives::Objectives(**store).record_refusal(c, *no);
        return refused(ctx, p, *no);
    }
    return proposal_answer(p, {{"message", "waiting for approval: fracta proposals approve " + std::to_string(p.id)}});
}

// Spawn the proposal's agent; `pending_id` (manual approval) is the
// proposal row to mark admitted, else a new admitted row is written.
Response admit(Context& ctx, Proposal p, const std::optional<agents::Agent>& proposer, int64_t pending_id) {
    auto plan = plan_for(ctx, p, proposer);
    if (!plan.ok()) return error_response(plan.error());
    Admitted a = record_spawn(ctx, *plan, [&](store::Store& store) -> Status {
        if (pending_id) {
            FRACTA_TRY_ASSIGN(ok, Proposals(store).review_in_tx(pending_id, "admitted", "", "approved"));
            if (!ok) return failure("proposal " + std::to_string(pending_id) + " is no longer pending");
            return {};
        }
        p.status = "admitted";
        FRACTA_TRY_ASSIGN(id, Proposals(store).insert_in_tx(p));
        p.id = id;
        return {};
    });
    if (a.refused) {
        if (!pending_id) return refused(ctx, p, *a.refused);
        auto store = ctx.pool.acquire();
        if (store.ok())
            (void)(*store)->transaction([&]() -> Status {
                FRACTA_TRY(Proposals(**store).review_in_tx(pending_id, "refused", a.refused->rule, a.refused->message));
                return {};
            });
        return refusal_response(*a.refused, p.objective_id);
    }
    if (a.response.status != 201) return a.response;
    p.status = "admitted";
    return proposal_answer(p, {{"agent", p.task}, {"mission_id", a.mission_id}});
}

Result<int64_t> proposal_id(const Request& req) {
    auto id = cli::parse_int("id", req.params.at("id"));
    if (!id.ok() || *id <= 0) return usage_error("proposal id: must be a positive integer");
    return static_cast<int64_t>(*id);
}

}  // namespace

Response propose(Context& ctx, const Request& req) {
    auto body = json_body(req);
    if (!body.ok()) return error_response(body.error());
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    auto me = agents::Agents(**store).get(req.params.at("task"));
    if (!me.ok()) return error_response(me.error());
    if (!*me) return Response::error(404, "agent \"" + req.params.at("task") + "\" not found");
    if ((*me)->objective_id.empty())
        return Response::error(409, "agent \"" + (*me)->name + "\" works on no objective");
    auto p = proposal_from(*body, **me);
    if (!p.ok()) return error_response(p.error());
    if (ctx.settings.config.objectives_approval == "manual") return propose_pending(ctx, *p, (*me)->name);
    return admit(ctx, *p, *me, 0);
}

Response list_proposals(Context& ctx, const Request& req) {
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    return list_response("proposals", Proposals(**store).list(req.query_param("objective"), req.query_param("status")));
}

Response approve_proposal(Context& ctx, const Request& req) {
    auto id = proposal_id(req);
    if (!id.ok()) return error_response(id.error());
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    auto p = Proposals(**store).get(*id);
    if (!p.ok()) return error_response(p.error());
    if (!*p) return Response::error(404, "proposal " + std::to_string(*id) + " not found");
    if ((*p)->status != "pending")
        return Response::error(409, "proposal " + std::to_string(*id) + " is " + (*p)->status + ", not pending");
    auto proposer = agents::Agents(**store).get((*p)->proposed_by);
    if (!proposer.ok()) return error_response(proposer.error());
    return admit(ctx, **p, *proposer, *id);
}

Response reject_proposal(Context& ctx, const Request& req) {
    auto id = proposal_id(req);
    if (!id.ok()) return error_response(id.error());
    auto body = json_body(req, false);
    if (!body.ok()) return error_response(body.error());
    std::string note = body->contains("note") && (*body)["note"].is_string() ? (*body)["note"].get<std::string>() : "";
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    bool moved = false;
    Status done = (*store)->transaction([&]() -> Status {
        FRACTA_TRY_ASSIGN(ok, Proposals(**store).review_in_tx(*id, "rejected", "", note));
        moved = ok;
        return {};
    });
    if (!done.ok()) return error_response(done.error());
    auto p = Proposals(**store).get(*id);
    if (!p.ok()) return error_response(p.error());
    if (!*p) return Response::error(404, "proposal " + std::to_string(*id) + " not found");
    if (!moved) return Response::error(409, "proposal " + std::to_string(*id) + " is " + (*p)->status + ", not pending");
    return Response::json(200, {{"proposal", (*p)->to_json()}});
}

}  // namespace fracta::cp::routes_impl
