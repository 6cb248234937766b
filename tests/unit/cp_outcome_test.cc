// The end of an agent's run (lib/cp/outcome, secrets): the runtime's result
// as row changes and agent.tool_denied events, the check command run for
// real in a directory, the secrets read from where the config says — and
// the results in the row and its lifecycle event, on sqlite and Postgres.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "agents/agents.h"
#include "cp/outcome.h"
#include "cp/secrets.h"
#include "events/log.h"
#include "support.h"

using namespace fracta;
using namespace fracta::cp;
using namespace fracta::agents;

TEST_CASE("a run's result becomes row changes and one tool_denied event per refusal", "[cp][outcome]") {
    runtime::RunResult r;
    r.success = true;
    r.text = "All done.";
    r.resume_token = "sess-1";
    r.usage.turns = 3;
    r.usage.input_tokens = 342;
    r.usage.output_tokens = 60;
    r.usage.cost_usd = 0.0018000000000000002;
    r.denied.push_back({"Bash", R"({"command":"make"})", "toolu_1"});
    r.denied.push_back({"Write", std::string(5000, 'x'), ""});
    Changes c = run_changes(r, "fix", "claude");
    CHECK(c.last_output == "All done.");
    CHECK(c.resume_token == "sess-1");
    CHECK(c.turns == 3);
    CHECK(c.input_tokens == 342);
    CHECK(c.output_tokens == 60);
    CHECK(c.cost_micro_usd == 1800);
    REQUIRE(c.events.size() == 2);
    CHECK(c.events[0].type == "agent.tool_denied");
    CHECK(c.events[0].subject == "fix");
    CHECK(c.events[0].message == "claude refused Bash");
    Json p = Json::parse(c.events[0].payload);
    CHECK(p["tool"] == "Bash");
    CHECK(p["input"] == R"({"command":"make"})");
    CHECK(p["id"] == "toolu_1");
    CHECK(p["runtime"] == "claude");
    Json big = Json::parse(c.events[1].payload);
    CHECK(big["input"].get<std::string>().size() < 2100);  // a whole file is not copied into the log
    CHECK_FALSE(big.contains("id"));

    runtime::RunResult bare;
    Changes none = run_changes(bare, "x", "shell");
    CHECK_FALSE(none.turns);
    CHECK_FALSE(none.cost_micro_usd);
    CHECK(none.events.empty());
}

TEST_CASE("the check passes on exit 0 and fails with its output otherwise", "[cp][outcome]") {
    std::string dir = test::temp_dir();
    std::ofstream(dir + "/done.txt") << "yes\n";
    auto pass = run_check("test -f done.txt && test \"$FRACTA_TASK\" = fix", dir, {{"FRACTA_TASK", "fix"}},
                          std::chrono::seconds(60));
    REQUIRE(pass.ok());
    CHECK(pass->passed);

    auto fail = run_check("echo checking; echo 'no commits on the branch' >&2; exit 3", dir, {},
                          std::chrono::seconds(60));
    REQUIRE(fail.ok());
    CHECK_FALSE(fail->passed);
    CHECK(fail->reason == "check failed (exit 3): checking\nno commits on the branch");

    auto missing = run_check("test -f nothing.txt", dir, {}, std::chrono::seconds(60));
    REQUIRE(missing.ok());
    CHECK(missing->reason == "check failed (exit 1)");

    auto slow = run_check("sleep 30", dir, {}, std::chrono::milliseconds(200));
    REQUIRE(slow.ok());
    CHECK_FALSE(slow->passed);
    CHECK(slow->reason == "check timed out after 200ms");

    auto nowhere = run_check("true", dir + "/absent", {}, std::chrono::seconds(60));
    CHECK_FALSE(nowhere.ok());
}

TEST_CASE("secrets come from the file, the environment, a file or a command", "[cp][secrets]") {
    std::string dir = test::temp_dir();
    std::ofstream(dir + "/key.txt") << "sk-from-file\n";
    ::setenv("FRACTA_TEST_SECRET_KEY", "sk-from-env", 1);
    config::SecretEnv secrets;
    secrets["A"].value = "sk-literal";
    secrets["B"].env = "FRACTA_TEST_SECRET_KEY";
    secrets["C"].file = "key.txt";
    secrets["D"].command = "printf 'sk-from-%s\\n' helper";
    auto got = read_secrets(secrets, dir);
    REQUIRE(got.ok());
    CHECK(got->values == std::map<std::string, std::string>{
                             {"A", "sk-literal"}, {"B", "sk-from-env"}, {"C", "sk-from-file"}, {"D", "sk-from-helper"}});
    CHECK(got->refs.empty());

    config::SecretEnv unset;
    unset["K"].env = "FRACTA_TEST_SECRET_UNSET";
    ::unsetenv("FRACTA_TEST_SECRET_UNSET");
    auto err = read_secrets(unset, dir);
    REQUIRE_FALSE(err.ok());
    CHECK(err.error().message == "secret K: FRACTA_TEST_SECRET_UNSET is not set in fracta-cp's environment");

    config::SecretEnv failing;
    failing["K"].command = "echo sk-half-a-key; echo 'vault sealed' >&2; exit 2";
    err = read_secrets(failing, dir);
    REQUIRE_FALSE(err.ok());
    CHECK(err.error().message == "secret K: command failed (exit 2): vault sealed");  // never its stdout

    config::SecretEnv absent;
    absent["K"].file = "nope.txt";
    err = read_secrets(absent, dir);
    REQUIRE_FALSE(err.ok());
    CHECK_THAT(err.error().message, Catch::StartsWith("secret K: missing: "));

    config::SecretEnv empty;
    empty["K"].value = "";
    CHECK(read_secrets(empty, dir).error().message == "secret K: empty");
}

TEST_CASE("a Kubernetes Secret's key is the pod's to read; elsewhere its env, file or command is", "[cp][secrets]") {
    std::string dir = test::temp_dir();
    ::setenv("FRACTA_TEST_SECRET_KEY", "sk-from-env", 1);
    config::SecretEnv secrets;
    secrets["A"].secret = "team-keys";
    secrets["A"].secret_key = "anthropic";
    secrets["A"].env = "FRACTA_TEST_SECRET_KEY";
    auto pod = read_secrets(secrets, dir, true);
    REQUIRE(pod.ok());
    CHECK(pod->values.empty());  // never read: the pod reads it
    REQUIRE(pod->refs.count("A"));
    CHECK(pod->refs.at("A").secret == "team-keys");
    CHECK(pod->refs.at("A").key == "anthropic");

    auto local = read_secrets(secrets, dir, false);
    REQUIRE(local.ok());
    CHECK(local->values == std::map<std::string, std::string>{{"A", "sk-from-env"}});
    CHECK(local->refs.empty());

    secrets["A"].env.clear();
    auto nowhere = read_secrets(secrets, dir, false);
    REQUIRE_FALSE(nowhere.ok());
    CHECK(nowhere.error().message ==
          "secret A: Secret team-keys is read by agents' pods on the kubernetes backend only; give env, file or command too");
}

TEST_CASE("usage lands in the row and the terminal event, refusals just before it", "[cp][outcome][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Agents agents(*s.store);
        Agent a;
        a.name = "u1";
        a.status = status::Running;
        a.runtime = "claude";
        a.check_command = "make test";
        a.timeout_ms = 90000;
        REQUIRE(agents.insert(a).ok());
        auto fresh = **agents.get("u1");
        CHECK(fresh.to_json()["turns"].is_null());
        CHECK(fresh.to_json()["cost_usd"].is_null());
        CHECK(fresh.to_json()["check"] == "make test");
        CHECK(fresh.to_json()["timeout"] == "90s");

        runtime::RunResult r;
        r.text = "done";
        r.resume_token = "sess-9";
        r.usage = {4, 1000, 200, 0.25};
        r.denied.push_back({"Bash", "{}", "t1"});
        Changes c = run_changes(r, "u1", "claude");
        c.set_ended = true;
        REQUIRE(*agents.transition("u1", {status::Running}, status::Completed, c));

        Json j = (**agents.get("u1")).to_json();
        CHECK(j["turns"] == 4);
        CHECK(j["input_tokens"] == 1000);
        CHECK(j["output_tokens"] == 200);
        CHECK(j["cost_usd"] == 0.25);
        CHECK(j["resume_token"] == "sess-9");

        events::Filter f;
        f.subject = "u1";
        auto logged = events::EventLog(*s.store).list(f);
        REQUIRE(logged.ok());
        REQUIRE(logged->size() == 2);
        CHECK((*logged)[0].type == "agent.tool_denied");
        CHECK((*logged)[1].type == "lifecycle.completed");
        Json p = Json::parse((*logged)[1].payload);
        CHECK(p["session_id"] == "sess-9");
        CHECK(p["result"] == "done");
        CHECK(p["turns"] == 4);
        CHECK(p["input_tokens"] == 1000);
        CHECK(p["output_tokens"] == 200);
        CHECK(p["cost_usd"] == 0.25);
    }
}
