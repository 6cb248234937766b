// The runtimes (lib/runtime): workspace files, command lines and environment
// for claude, codex, opencode and shell — pure functions, so every case here
// is a golden input and an exact expectation. Output parsing:
// runtime_parse_test.cc; the fixtures run for real: runtime_fixture_test.cc.
#include <catch2/catch.hpp>

#include "base/json.h"
#include "runtime/runtime.h"

using namespace fracta;
using namespace fracta::runtime;

namespace {

const Runtime& rt(std::string_view name) {
    auto r = find_runtime(name);
    REQUIRE(r.ok());
    return **r;
}

SessionInfo session(std::string gateway = "http://127.0.0.1:8080") {
    SessionInfo s;
    s.task = "fix-bug";
    s.contract = "Fix the off-by-one in parse().";
    s.base_branch = "main";
    s.gateway_url = std::move(gateway);
    return s;
}

RuntimeSpec spec() {
    RuntimeSpec s;
    s.allowed_tools = {"Read", "Edit", "Bash(git *)"};
    return s;
}

Json json_of(const std::string& text) {
    auto j = parse_json(text);
    REQUIRE(j.ok());
    return *j;
}

Argv argv_of(std::string_view name, const SessionInfo& s, const RuntimeSpec& sp = spec()) {
    auto argv = rt(name).command(s, sp);
    REQUIRE(argv.ok());
    return *argv;
}

}  // namespace

// --- registry and shared helpers -------------------------------------------------

TEST_CASE("the four runtimes are found by name; others are a usage error naming them", "[runtime]") {
    CHECK(runtime_names() == std::vector<std::string>{"claude", "codex", "opencode", "shell"});
    for (const auto& name : runtime_names()) CHECK(rt(name).name() == name);
    auto unknown = find_runtime("gemini");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().kind == ErrorKind::Usage);
    CHECK(unknown.error().message == "unknown runtime \"gemini\" (known: claude, codex, opencode, shell)");
}

TEST_CASE("claude, codex and opencode resume; shell does not", "[runtime]") {
    CHECK(rt("claude").supports_resume());
    CHECK(rt("codex").supports_resume());
    CHECK(rt("opencode").supports_resume());
    CHECK_FALSE(rt("shell").supports_resume());
}

TEST_CASE("modes are batch and stream", "[runtime]") {
    CHECK(*parse_mode("batch") == Mode::Batch);
    CHECK(*parse_mode("stream") == Mode::Stream);
    CHECK(mode_name(Mode::Stream) == "stream");
    auto bad = parse_mode("Batch");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == "unknown mode \"Batch\" (known: batch, stream)");
}

TEST_CASE("the model is the session's, else its tier's, else the runtime's default", "[runtime]") {
    RuntimeSpec sp;
    sp.model = "sonnet";
    sp.model_tiers = {{"heavy", "opus"}, {"light", "haiku"}};
    SessionInfo s = session();
    CHECK(resolve_model(s, sp) == "sonnet");
    s.tier = "heavy";
    CHECK(resolve_model(s, sp) == "opus");
    s.tier = "medium";  // not mapped: the default
    CHECK(resolve_model(s, sp) == "sonnet");
    s.model = "claude-opus-4";
    CHECK(resolve_model(s, sp) == "claude-opus-4");
    CHECK(resolve_model(session(), RuntimeSpec{}).empty());
}

TEST_CASE("the agent's MCP URL hangs under the gateway base", "[runtime]") {
    CHECK(mcp_url("http://127.0.0.1:8080", "fix-bug") == "http://127.0.0.1:8080/agents/fix-bug/mcp");
    CHECK(mcp_url("https://gw.example/base//", "t") == "https://gw.example/base/agents/t/mcp");
    CHECK(mcp_url("", "t").empty());
}

TEST_CASE("tail_text keeps the end, marks the cut, and stays within the limit", "[runtime]") {
    CHECK(tail_text("short") == "short");
    CHECK(tail_text(std::string(4096, 'x')) == std::string(4096, 'x'));

    std::string long_text = "BEGIN" + std::string(10000, '.') + "THE END";
    std::string tail = tail_text(long_text);
    CHECK(tail.size() == 4096);
    CHECK(tail.rfind("...(truncated)...\n", 0) == 0);
    CHECK(tail.substr(tail.size() - 7) == "THE END");
    CHECK(tail.find("BEGIN") == std::string::npos);

    // Never starts inside a UTF-8 sequence: "é" is two bytes.
    std::string accents;
    for (int i = 0; i < 100; ++i) accents += "é";
    std::string cut = tail_text(accents, 18 + 5);  // marker + 5 bytes: 2.5 characters
    CHECK(cut == "...(truncated)...\néé");
    CHECK(tail_text("abcdef", 3) == "...");
}

// --- workspace files ---------------------------------------------------------------

TEST_CASE("claude gets CLAUDE.md, .mcp.json and .claude/settings.json", "[runtime]") {
    auto files = rt("claude").workspace_files(session(), spec());
    REQUIRE(files.size() == 3);

    CHECK(files.at(".mcp.json") ==
          R"({"mcpServers":{"fracta":{"type":"http","url":"http://127.0.0.1:8080/agents/fix-bug/mcp",)"
          R"("headers":{"Authorization":"Bearer ${FRACTA_GATEWAY_TOKEN}"}}}})"
          "\n");

    Json settings = json_of(files.at(".claude/settings.json"));
    CHECK(settings == Json::parse(R"J({"permissions":{"allow":["Read","Edit","Bash(git *)","mcp__fracta__*"]}})J"));

    const std::string& doc = files.at("CLAUDE.md");
    CHECK(doc.rfind("Fix the off-by-one in parse().\n", 0) == 0);  // the contract comes first
    CHECK(doc.find("fracta agent \"fix-bug\"") != std::string::npos);
    CHECK(doc.find("made from `main`") != std::string::npos);
    CHECK(doc.find("git commit") != std::string::npos);
    for (const char* tool : {"fracta_list", "fracta_peek", "fracta_send", "fracta_inbox", "fracta_set_intent",
                             "fracta_spawn", "fracta_report"})
        CHECK(doc.find(std::string("`") + tool + "`") != std::string::npos);
}

TEST_CASE("no gateway: no MCP config, no fracta tools granted or described", "[runtime]") {
    SessionInfo s = session("");
    auto claude = rt("claude").workspace_files(s, spec());
    CHECK(claude.count(".mcp.json") == 0);
    CHECK(json_of(claude.at(".claude/settings.json"))["permissions"]["allow"] ==
          Json::parse(R"J(["Read","Edit","Bash(git *)"])J"));
    CHECK(claude.at("CLAUDE.md").find("fracta_inbox") == std::string::npos);

    auto codex = rt("codex").workspace_files(s, spec());
    CHECK(codex.size() == 1);
    CHECK(codex.count("AGENTS.md") == 1);

    auto opencode = json_of(rt("opencode").workspace_files(s, spec()).at("opencode.json"));
    CHECK_FALSE(opencode.contains("mcp"));
    CHECK_FALSE(opencode["permission"].contains("fracta_*"));
}

TEST_CASE("settings.json lists each allowed tool once", "[runtime]") {
    RuntimeSpec sp;
    sp.allowed_tools = {"Read", "Read", "mcp__fracta__*"};
    auto files = rt("claude").workspace_files(session(), sp);
    CHECK(json_of(files.at(".claude/settings.json"))["permissions"]["allow"] ==
          Json::parse(R"(["Read","mcp__fracta__*"])"));
}

TEST_CASE("an empty contract: the instructions name the task instead", "[runtime]") {
    SessionInfo s = session();
    s.contract.clear();
    s.base_branch.clear();
    auto doc = rt("claude").workspace_files(s, spec()).at("CLAUDE.md");
    CHECK(doc.rfind("# Task: fix-bug\n", 0) == 0);
    CHECK(doc.find("made from") == std::string::npos);
}

TEST_CASE("codex gets AGENTS.md and .codex/config.toml naming the token's variable", "[runtime]") {
    auto files = rt("codex").workspace_files(session(), spec());
    REQUIRE(files.size() == 2);
    CHECK(files.at(".codex/config.toml") ==
          "[mcp_servers.fracta]\n"
          "url = \"http://127.0.0.1:8080/agents/fix-bug/mcp\"\n"
          "bearer_token_env_var = \"FRACTA_GATEWAY_TOKEN\"\n");
    CHECK(files.at("AGENTS.md") == rt("claude").workspace_files(session(), spec()).at("CLAUDE.md"));
}

TEST_CASE("config.toml strings are TOML-escaped", "[runtime]") {
    auto files = rt("codex").workspace_files(session("http://gw/a\"b\\c\td\x01"), spec());
    CHECK(files.at(".codex/config.toml").find("url = \"http://gw/a\\\"b\\\\c\\td\\u0001/agents/fix-bug/mcp\"\n") !=
          std::string::npos);
}

TEST_CASE("opencode gets AGENTS.md and opencode.json with the remote server and permissions", "[runtime]") {
    auto files = rt("opencode").workspace_files(session(), spec());
    REQUIRE(files.size() == 2);
    CHECK(files.count("AGENTS.md") == 1);
    Json config = json_of(files.at("opencode.json"));
    CHECK(config["mcp"] == Json::parse(R"({"fracta":{"type":"remote",
        "url":"http://127.0.0.1:8080/agents/fix-bug/mcp",
        "headers":{"Authorization":"Bearer {env:FRACTA_GATEWAY_TOKEN}"}}})"));
    CHECK(config["permission"] == Json::parse(R"({"*":"deny","read":"allow","glob":"allow","grep":"allow",
        "list":"allow","edit":"allow","bash":{"*":"deny","git *":"allow"},"fracta_*":"allow","task":"deny"})"));
}

TEST_CASE("opencode permissions: plain Bash allows all, stream asks instead of denying", "[runtime]") {
    RuntimeSpec sp;
    sp.allowed_tools = {"Bash", "Bash(npm:*)", "WebFetch"};
    SessionInfo s = session();
    s.mode = Mode::Stream;
    Json p = json_of(rt("opencode").workspace_files(s, sp).at("opencode.json"))["permission"];
    CHECK(p == Json::parse(R"({"*":"ask","webfetch":"allow","bash":"allow","fracta_*":"allow","task":"deny"})"));

    sp.allowed_tools = {"Bash(npm:*)"};
    p = json_of(rt("opencode").workspace_files(session(), sp).at("opencode.json"))["permission"];
    CHECK(p["bash"] == Json::parse(R"({"*":"deny","npm *":"allow"})"));
}

TEST_CASE("shell gets no files", "[runtime]") {
    CHECK(rt("shell").workspace_files(session(), spec()).empty());
}

// --- command lines -------------------------------------------------------------------

TEST_CASE("claude batch: -p with the prompt, JSON output, dontAsk; -r and --model when given", "[runtime]") {
    const std::string prompt = "Read CLAUDE.md and carry out the task it describes, on your own, until it is done.";
    CHECK(argv_of("claude", session()) ==
          Argv{"claude", "-p", prompt, "--output-format", "json", "--permission-mode", "dontAsk"});

    SessionInfo s = session();
    s.resume_token = "3f1c-uuid";
    s.model = "opus";
    CHECK(argv_of("claude", s) ==
          Argv{"claude", "-r", "3f1c-uuid", "-p",
               "You have new messages: read them with the fracta_inbox tool, then continue your task.",
               "--output-format", "json", "--permission-mode", "dontAsk", "--model", "opus"});
}

TEST_CASE("claude stream: the interactive CLI with the prompt as its first message", "[runtime]") {
    SessionInfo s = session();
    s.mode = Mode::Stream;
    RuntimeSpec sp = spec();
    sp.model = "sonnet";
    sp.program = "/opt/bin/claude";
    CHECK(argv_of("claude", s, sp) ==
          Argv{"/opt/bin/claude", "--model", "sonnet",
               "Read CLAUDE.md and carry out the task it describes, on your own, until it is done."});
}

TEST_CASE("codex batch: exec [resume THREAD] --json --full-auto --skip-git-repo-check [--model] PROMPT",
          "[runtime]") {
    const std::string prompt =
        "Read AGENTS.md and carry out the task it describes, on your own, until it is done. "
        "You are fracta agent \"fix-bug\".";
    CHECK(argv_of("codex", session()) ==
          Argv{"codex", "exec", "--json", "--full-auto", "--skip-git-repo-check", prompt});

    SessionInfo s = session();
    s.resume_token = "thread-1";
    s.prompt = "Also update the docs.";
    s.model = "gpt-5-codex";
    CHECK(argv_of("codex", s) == Argv{"codex", "exec", "resume", "thread-1", "--json", "--full-auto",
                                      "--skip-git-repo-check", "--model", "gpt-5-codex", "Also update the docs."});

    s.mode = Mode::Stream;
    CHECK(argv_of("codex", s) ==
          Argv{"codex", "resume", "thread-1", "--model", "gpt-5-codex", "Also update the docs."});
}

TEST_CASE("opencode batch: run --format json [--model] [--session] PROMPT", "[runtime]") {
    SessionInfo s = session();
    s.contract.clear();  // an empty contract: the task name is the prompt
    CHECK(argv_of("opencode", s) == Argv{"opencode", "run", "--format", "json", "fix-bug"});

    s.resume_token = "ses_abc";
    s.prompt = "-x is a flag, not an option";  // never mistaken for an option
    s.tier = "light";
    RuntimeSpec sp = spec();
    sp.model_tiers = {{"light", "anthropic/claude-haiku"}};
    CHECK(argv_of("opencode", s, sp) == Argv{"opencode", "run", "--format", "json", "--model",
                                             "anthropic/claude-haiku", "--session", "ses_abc",
                                             " -x is a flag, not an option"});

    s.mode = Mode::Stream;
    CHECK(argv_of("opencode", s, sp) == Argv{"opencode", "--model", "anthropic/claude-haiku", "--session", "ses_abc",
                                             "--prompt", " -x is a flag, not an option"});
}

TEST_CASE("shell runs the contract with sh -c; stream with no contract is a plain sh", "[runtime]") {
    SessionInfo s = session();
    s.contract = "make test && echo done";
    s.resume_token = "ignored";
    CHECK(argv_of("shell", s) == Argv{"sh", "-c", "make test && echo done"});
    s.mode = Mode::Stream;
    CHECK(argv_of("shell", s) == Argv{"sh", "-c", "make test && echo done"});
    s.contract = " \n";
    CHECK(argv_of("shell", s) == Argv{"sh"});

    s.mode = Mode::Batch;
    auto empty = rt("shell").command(s, spec());
    REQUIRE_FALSE(empty.ok());
    CHECK(empty.error().kind == ErrorKind::Usage);
    CHECK(empty.error().message == "runtime shell: task \"fix-bug\" has an empty contract (the command line to run)");
}

// --- environment ---------------------------------------------------------------------

TEST_CASE("the environment adds the task, the MCP URL and the configured env, never the token", "[runtime]") {
    RuntimeSpec sp;
    sp.env = {{"ANTHROPIC_BASE_URL", "http://proxy"},
              {"FRACTA_TASK", "spoofed"},
              {"FRACTA_GATEWAY_TOKEN", "leaked"}};
    for (const auto& name : runtime_names()) {
        Env env = rt(name).environment(session(), sp);
        CHECK(env == Env{{"ANTHROPIC_BASE_URL", "http://proxy"},
                         {"FRACTA_GATEWAY_URL", "http://127.0.0.1:8080/agents/fix-bug/mcp"},
                         {"FRACTA_TASK", "fix-bug"}});
    }
    CHECK(rt("shell").environment(session(""), RuntimeSpec{}) == Env{{"FRACTA_TASK", "fix-bug"}});
}
