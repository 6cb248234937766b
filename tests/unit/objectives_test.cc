// The objectives library on both stores: budgets refuse with their rule,
// counting happens only on admission, the breaker freezes after N failed
// missions in a row (a success resets it), and tokens exhaust the budget.
#include <catch2/catch.hpp>

#include "agents/agents.h"
#include "objectives/objectives.h"
#include "objectives/proposals.h"
#include "support.h"

using namespace fracta;
using namespace fracta::objectives;
using test::ok;

namespace {

Objective make(const std::string& id, Json budgets) {
    budgets["id"] = id;
    budgets["description"] = "find out";
    return ok(from_request(budgets, 3));
}

// Admit `agent` under `parent` (a whole transaction, with its agent row as
// a spawn writes it); the refusal's rule, or "" when admitted.
std::string admit(store::Store& s, const std::string& objective, const std::string& agent,
                  const std::string& parent = "", const std::string& dedupe = "") {
    std::optional<Refusal> refused;
    Status done = s.transaction([&]() -> Status {
        FRACTA_TRY_ASSIGN(r, Objectives(s).admit_in_tx({objective, agent, parent, dedupe}, true));
        refused = r;
        if (r) return failure(r->message);
        agents::Agent a;
        a.name = agent;
        a.status = "Queued";
        a.parent = parent;
        a.objective_id = objective;
        a.dedupe_key = dedupe;
        return agents::Agents(s).insert(a);
    });
    if (refused) return refused->rule;
    ok(std::move(done));
    return "";
}

void end(store::Store& s, const std::string& agent, const std::string& status, int64_t tokens = 0) {
    agents::Changes c;
    c.input_tokens = tokens;
    c.set_ended = true;
    CHECK(ok(agents::Agents(s).transition(agent, {"Queued", "Running"}, status, c)));
}

}  // namespace

TEST_CASE("objectives: budgets refuse with their rule, and only admissions count", "[objectives][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Objectives objectives(*s.store);
        ok(objectives.create(make("o1", {{"max_missions", 4}, {"max_depth", 2}, {"max_branching", 2}})));
        CHECK(admit(*s.store, "o1", "root") == "");
        CHECK(admit(*s.store, "o1", "a", "root", "k") == "");
        CHECK(admit(*s.store, "o1", "b", "root", "k") == "dedupe");
        CHECK(admit(*s.store, "o1", "b", "a") == "max_depth");  // depth 3 of 2
        CHECK(admit(*s.store, "o1", "b", "root") == "");
        CHECK(admit(*s.store, "o1", "c", "root") == "max_branching");
        CHECK(admit(*s.store, "o1", "root2") == "");
        CHECK(admit(*s.store, "o1", "root3") == "max_missions");
        auto o = ok(objectives.get("o1"));
        REQUIRE(o);
        CHECK(o->mission_count == 4);
        CHECK(ok(objectives.get("nope")) == std::nullopt);
        CHECK_FALSE(objectives.create(make("o1", Json::object())).ok());
    }
}

TEST_CASE("objectives: the breaker freezes after N failures in a row; unfreeze resumes", "[objectives][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Objectives objectives(*s.store);
        ok(objectives.create(make("o2", {{"breaker", 2}, {"max_tokens", 100}})));
        for (const char* a : {"f1", "ok1", "f2", "f3", "late"}) CHECK(admit(*s.store, "o2", a) == "");
        end(*s.store, "f1", "Failed");
        end(*s.store, "ok1", "Completed");  // resets the streak
        end(*s.store, "f2", "Failed");
        CHECK(ok(objectives.get("o2"))->status == "open");
        end(*s.store, "f3", "Failed");
        CHECK(ok(objectives.get("o2"))->status == "frozen");
        CHECK(admit(*s.store, "o2", "new") == "frozen");
        bool moved = false;
        ok(s.store->transaction([&]() -> Status {
            FRACTA_TRY_ASSIGN(m, objectives.set_status_in_tx("o2", {"frozen"}, "open", "unfrozen", "", "user"));
            moved = m;
            return {};
        }));
        CHECK(moved);
        CHECK(ok(objectives.get("o2"))->failure_streak == 0);
        CHECK(admit(*s.store, "o2", "new") == "");
        end(*s.store, "late", "Completed", 120);  // crosses max_tokens
        auto o = ok(objectives.get("o2"));
        CHECK(o->status == "budget_exhausted");
        CHECK(o->tokens_used == 120);
        CHECK(o->failed_count == 3);
        CHECK(o->completed_count == 2);
        CHECK(admit(*s.store, "o2", "more") == "status");
        // the live agent was told
        auto told = ok(s.store->query("SELECT COUNT(*) FROM messages WHERE to_task = 'new'"));
        CHECK(told[0].integer(0) == 1);
    }
}

TEST_CASE("objectives: proposals are recorded and reviewed once", "[objectives][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        ok(Objectives(*s.store).create(make("o3", Json::object())));
        Proposals proposals(*s.store);
        Proposal p;
        p.objective_id = "o3";
        p.task = "t";
        p.dedupe_key = "k";
        int64_t id = 0;
        ok(s.store->transaction([&]() -> Status {
            FRACTA_TRY_ASSIGN(got, proposals.insert_in_tx(p));
            id = got;
            return {};
        }));
        CHECK(admit(*s.store, "o3", "other", "", "k") == "dedupe");  // a pending proposal holds the key
        bool first = false, second = true;
        ok(s.store->transaction([&]() -> Status {
            FRACTA_TRY_ASSIGN(a, proposals.review_in_tx(id, "rejected", "", "no"));
            FRACTA_TRY_ASSIGN(b, proposals.review_in_tx(id, "admitted", "", ""));
            first = a, second = b;
            return {};
        }));
        CHECK(first);
        CHECK_FALSE(second);
        CHECK(ok(proposals.list("o3", "rejected")).size() == 1);
    }
}
