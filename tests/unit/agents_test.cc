// The agents table: insert, read, and lifecycle transitions as
// compare-and-set with their events — on sqlite and Postgres.
#include <catch2/catch.hpp>

#include "agents/agents.h"
#include "cp/mailbox.h"
#include "events/log.h"
#include "support.h"

using namespace fracta;
using namespace fracta::agents;
using fracta::cp::Mailbox;

namespace {
Agent queued(const std::string& name) {
    Agent a;
    a.name = name;
    a.status = status::Queued;
    a.runtime = "shell";
    a.contract = "true";
    a.branch = "feature/" + name;
    a.labels = {{"team", "a"}};
    return a;
}

std::vector<std::string> event_types(store::Store& s, const std::string& subject) {
    events::Filter f;
    f.subject = subject;
    auto listed = events::EventLog(s).list(f);
    REQUIRE(listed.ok());
    std::vector<std::string> types;
    for (const auto& e : *listed) types.push_back(e.type);
    return types;
}
}  // namespace

TEST_CASE("task names are checked", "[cp][agents]") {
    CHECK(check_task_name("fix-bug_2").ok());
    for (const char* bad : {"", "-x", "a/b", "a.b", "a b"}) {
        INFO(bad);
        CHECK(check_task_name(bad).error().kind == ErrorKind::Usage);
    }
    CHECK_FALSE(check_task_name(std::string(65, 'a')).ok());
}

TEST_CASE("agents are inserted once and read back", "[cp][agents][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Agents agents(*s.store);
        REQUIRE(agents.insert(queued("a1")).ok());
        auto dup = agents.insert(queued("a1"));
        REQUIRE_FALSE(dup.ok());
        CHECK(dup.error().message == "agent \"a1\" already exists");

        auto got = agents.get("a1");
        REQUIRE(got.ok());
        REQUIRE(got->has_value());
        const Agent& a = **got;
        CHECK(a.status == "Queued");
        CHECK(a.labels["team"] == "a");
        CHECK_FALSE(a.created_at.empty());
        Json j = a.to_json();
        CHECK(j["exit_code"].is_null());
        CHECK_FALSE(j.contains("token_hash"));
        CHECK_FALSE(agents.get("nobody")->has_value());
        REQUIRE(agents.insert(queued("a2")).ok());
        CHECK(agents.list()->size() == 2);
        CHECK(agents.list("Running")->empty());
    }
}

TEST_CASE("transitions are compare-and-set and leave lifecycle events", "[cp][agents][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Agents agents(*s.store);
        REQUIRE(agents.insert(queued("t1")).ok());
        Changes started;
        started.ref = "4242";
        started.set_started = true;
        CHECK(*agents.transition("t1", {status::Queued}, status::Running, started));
        auto running = **agents.get("t1");
        CHECK(running.status == "Running");
        CHECK(running.ref == "4242");
        CHECK_FALSE(running.started_at.empty());

        CHECK(*agents.transition("t1", {status::Running, status::Idle}, status::Stopped, {}, "killed"));
        Changes late;
        late.exit_code = 0;
        late.last_output = "done";
        late.set_ended = true;
        CHECK_FALSE(*agents.transition("t1", {status::Running}, status::Completed, late));  // too late
        auto stopped = **agents.get("t1");
        CHECK(stopped.status == "Stopped");
        CHECK(stopped.last_output.empty());
        CHECK(event_types(*s.store, "t1") == std::vector<std::string>{"lifecycle.running", "lifecycle.stopped"});
    }
}

TEST_CASE("unread messages are counted past the reader's cursor", "[cp][agents][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Agents agents(*s.store);
        REQUIRE(agents.insert(queued("m1")).ok());
        for (int i = 0; i < 3; ++i)
            REQUIRE(s.store->exec("INSERT INTO messages (from_task, to_task, content, created_at) VALUES (?, ?, ?, ?)",
                                  {std::string("x"), std::string("m1"), std::string("hi"), std::string("t")}).ok());
        CHECK((*agents.get("m1"))->unread_messages == 3);
        auto ids = s.store->query("SELECT id FROM messages ORDER BY id");
        REQUIRE(s.store->exec("INSERT INTO cursors (task, last_id) VALUES (?, ?)", {std::string("m1"), (*ids)[1].integer(0)}).ok());
        CHECK((*agents.get("m1"))->unread_messages == 1);
        CHECK(*agents.count_with_status({status::Queued, status::Running}) == 1);
    }
}

TEST_CASE("the mailbox delivers each message once, in order", "[cp][mailbox][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Mailbox box(*s.store);
        REQUIRE(box.send("a", "b", "one").ok());
        REQUIRE(box.send("a", "b", "two").ok());
        REQUIRE(box.send("a", "c", "other").ok());
        auto first = box.consume("b");
        REQUIRE(first.ok());
        REQUIRE(first->size() == 2);
        CHECK((*first)[0].content == "one");
        CHECK((*first)[1].to_json()["message"] == "two");
        CHECK(box.consume("b")->empty());
        REQUIRE(box.send("c", "b", "three").ok());
        auto second = box.consume("b");
        REQUIRE(second->size() == 1);
        CHECK((*second)[0].from == "c");
    }
}

TEST_CASE("a mailbox holds at most max_unread unread messages; read ones are deleted", "[cp][mailbox][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Mailbox box(*s.store, 3);
        auto count = [&](const std::string& to) {
            auto rows = s.store->query("SELECT COUNT(*) FROM messages WHERE to_task = ?", {to});
            REQUIRE(rows.ok());
            return (*rows)[0].integer(0);
        };
        for (const char* m : {"one", "two", "three"}) {
            auto id = box.send("a", "b", m);
            REQUIRE(id.ok());
            CHECK(*id > 0);
        }
        auto refused = box.send("a", "b", "four");
        REQUIRE(refused.ok());
        CHECK(*refused == 0);  // full: refused, nothing stored
        CHECK(count("b") == 3);
        REQUIRE(box.send("a", "c", "another mailbox").ok());
        CHECK(count("c") == 1);

        auto read = box.consume("b");
        REQUIRE(read.ok());
        REQUIRE(read->size() == 3);
        CHECK(count("b") == 0);  // read once, then gone
        CHECK(*box.send("a", "b", "five") > 0);
        auto next = box.consume("b");
        REQUIRE(next->size() == 1);
        CHECK((*next)[0].content == "five");

        Mailbox unbounded(*s.store);
        for (int i = 0; i < 5; ++i) CHECK(*unbounded.send("a", "d", "m") > 0);
        CHECK(count("d") == 5);
    }
}
