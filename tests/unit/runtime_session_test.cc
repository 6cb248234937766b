// Each agent runtime, run for real through fracta-spawn-local: lib/runtime
// renders the workspace files, command line and environment; the provider
// starts the session (the fixture CLI from tests/fixtures); `wait` returns
// its output; lib/runtime parses it. What the control plane will do, end to
// end, minus the control plane.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "base/json.h"
#include "proc/run.h"
#include "runtime/runtime.h"
#include "support.h"

using namespace fracta;
namespace fs = std::filesystem;

namespace {

using test::source_root;

std::string provider() {
    return test::binary("fracta-spawn-local");
}

struct Session {
    std::string state, work_dir;
};

// start NAME, then wait NAME: the wait JSON.
Json run_session(const Session& s, const std::string& name, const Json& start) {
    proc::Command c;
    c.argv = {provider(), "start", name};
    c.env = {{"FRACTA_STATE_DIR", s.state}};
    c.input = to_line(start);
    auto started = proc::run(c);
    REQUIRE(started.ok());
    INFO("start: " << started->err);
    REQUIRE(started->exit_code == 0);
    c.argv = {provider(), "wait", name, "60"};
    c.input.clear();
    c.timeout = std::chrono::seconds(90);
    auto waited = proc::run(c);
    REQUIRE(waited.ok());
    INFO("wait: " << waited->err);
    REQUIRE(waited->exit_code == 0);
    return Json::parse(waited->out);
}

runtime::RunResult run_runtime(const std::string& name, const runtime::Env& extra_env = {}) {
    const runtime::Runtime* rt = *runtime::find_runtime(name);
    Session s{test::temp_dir() + "/state", test::temp_dir()};
    runtime::SessionInfo info;
    info.task = "rt-" + name;
    info.contract = name == "shell" ? "echo shell-did-it && test -f marker" : "Add a line to notes.txt.";
    info.base_branch = "main";
    info.gateway_url = "http://127.0.0.1:9";  // rendered into the MCP config; not called
    runtime::RuntimeSpec spec;
    if (name != "shell") spec.program = source_root() + "/tests/fixtures/" + name;

    runtime::Files files = rt->workspace_files(info, spec);
    files["marker"] = "x";
    auto argv = rt->command(info, spec);
    REQUIRE(argv.ok());
    runtime::Env env = rt->environment(info, spec);
    env["FRACTA_GATEWAY_TOKEN"] = "not-a-real-token";
    for (const auto& [k, v] : extra_env) env[k] = v;

    Json start = {{"work_dir", s.work_dir}, {"command", proc::shell_quote(*argv)}, {"mode", "batch"}};
    start["workspace_files"] = Json(files);
    start["env"] = Json(env);
    Json ended = run_session(s, info.task, start);
    INFO(ended.dump());
    CHECK(ended["state"] == "exited");
    for (const auto& [path, content] : files) CHECK(fs::exists(s.work_dir + "/" + path));
    return rt->parse(ended["exit_code"].get<int>(), ended["output_tail"].get<std::string>());
}

}  // namespace

TEST_CASE("every runtime's fixture, run through fracta-spawn-local, parses as a success", "[runtime][provider]") {
    for (const char* name : {"claude", "codex", "opencode"}) {
        INFO(name);
        runtime::RunResult r = run_runtime(name);
        INFO(r.error);
        CHECK(r.success);
        CHECK_FALSE(r.text.empty());
        CHECK_FALSE(r.resume_token.empty());
    }
    runtime::RunResult shell = run_runtime("shell");
    CHECK(shell.success);
    CHECK(shell.text.find("shell-did-it") != std::string::npos);
}

TEST_CASE("a failing runtime run through fracta-spawn-local parses as a failure", "[runtime][provider]") {
    for (const char* name : {"claude", "codex", "opencode"}) {
        INFO(name);
        runtime::RunResult r = run_runtime(name, {{"FIXTURE_FAIL", "1"}});
        CHECK_FALSE(r.success);
        CHECK_FALSE(r.error.empty());
    }
}
