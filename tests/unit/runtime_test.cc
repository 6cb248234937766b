// The runtimes (lib/runtime): workspace files, command lines and environment
// for claude, codex, opencode and shell — pure functions, so every case here
// is a golden input and an exact expectation. Output parsing:
// runtime_parse_test.cc; the fixtures run for real: runtime_fixture_test.cc.
#include "runtime/runtime.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "base/json.h"
#include "support.h"

using namespace fracta;
using namespace fracta::runtime;

namespace {

const Runtime& rt(std::string_view name) {
    return *fracta::test::ok(find_runtime(name));
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

// The CLI's own argv behind the launcher codex and opencode run through
// (/bin/sh -c SCRIPT fracta-NAME CLI-ARGV...).
Argv cli_argv(std::string_view name, const SessionInfo& s, const RuntimeSpec& sp = spec()) {
    Argv argv = argv_of(name, s, sp);
    REQUIRE(argv.size() > 4);
    CHECK(argv[0] == "/bin/sh");
    CHECK(argv[1] == "-c");
    CHECK(argv[3] == "fracta-" + std::string(name));
    return Argv(argv.begin() + 4, argv.end());
}

// The -c overrides of a codex argv, in order.
std::vector<std::string> codex_overrides(const Argv& argv) {
    std::vector<std::string> out;
    for (size_t i = 0; i + 1 < argv.size(); ++i)
        if (argv[i] == "-c") out.push_back(argv[++i]);
    return out;
}

Json opencode_config(const SessionInfo& s, const RuntimeSpec& sp = spec()) {
    return json_of(rt("opencode").environment(s, sp).at("OPENCODE_CONFIG_CONTENT"));
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

TEST_CASE("the executable to find on PATH is the configured program, else the runtime's CLI", "[runtime]") {
    RuntimeSpec configured;
    configured.program = "/opt/bin/my-cli";
    for (const char* name : {"claude", "codex", "opencode"}) {
        CHECK(rt(name).executable(RuntimeSpec{}) == name);
        CHECK(rt(name).executable(configured) == "/opt/bin/my-cli");
    }
    // codex, opencode and a claude stream session start /bin/sh first; the
    // shell runtime's program is sh
    CHECK(argv_of("codex", session())[0] == "/bin/sh");
    CHECK(rt("shell").executable(RuntimeSpec{}) == "sh");
    CHECK(rt("shell").executable(configured) == "/opt/bin/my-cli");
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

TEST_CASE("claude gets CLAUDE.md, .mcp.json and fracta's settings file", "[runtime]") {
    auto files = rt("claude").workspace_files(session(), spec());
    REQUIRE(files.size() == 3);

    CHECK(files.at(".mcp.json") ==
          R"({"mcpServers":{"fracta":{"type":"http","url":"http://127.0.0.1:8080/agents/fix-bug/mcp",)"
          R"("headers":{"Authorization":"Bearer ${FRACTA_GATEWAY_TOKEN}"}}}})"
          "\n");

    // Not .claude/settings.json: Claude Code ignores a project file's allow
    // rules in an untrusted workspace; this one is passed with --settings.
    CHECK(files.count(".claude/settings.json") == 0);
    Json settings = json_of(files.at(".claude/fracta-settings.json"));
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
    CHECK(json_of(claude.at(".claude/fracta-settings.json"))["permissions"]["allow"] ==
          Json::parse(R"J(["Read","Edit","Bash(git *)"])J"));
    CHECK(claude.at("CLAUDE.md").find("fracta_inbox") == std::string::npos);

    auto codex = rt("codex").workspace_files(s, spec());
    CHECK(codex.size() == 1);
    CHECK(codex.count("AGENTS.md") == 1);
    for (const auto& o : codex_overrides(cli_argv("codex", s))) CHECK(o.rfind("mcp_servers", 0) != 0);

    Json opencode = opencode_config(s);
    CHECK_FALSE(opencode.contains("mcp"));
    CHECK_FALSE(opencode["permission"].contains("fracta_*"));
}

TEST_CASE("claude's allow list: each allowed tool once; Bash when none is configured", "[runtime]") {
    RuntimeSpec sp;
    sp.allowed_tools = {"Read", "Read", "mcp__fracta__*"};
    auto files = rt("claude").workspace_files(session(), sp);
    CHECK(json_of(files.at(".claude/fracta-settings.json"))["permissions"]["allow"] ==
          Json::parse(R"(["Read","mcp__fracta__*"])"));
    files = rt("claude").workspace_files(session(), RuntimeSpec{});
    CHECK(json_of(files.at(".claude/fracta-settings.json"))["permissions"]["allow"] ==
          Json::parse(R"(["Bash","mcp__fracta__*"])"));
}

TEST_CASE("claude stream: a second settings file naming the key helper", "[runtime]") {
    SessionInfo s = session();
    s.mode = Mode::Stream;
    auto files = rt("claude").workspace_files(s, spec());
    Json with_key = json_of(files.at(".claude/fracta-key-settings.json"));
    CHECK(with_key["apiKeyHelper"] == "printenv FRACTA_ANTHROPIC_API_KEY");
    with_key.erase("apiKeyHelper");
    CHECK(with_key == json_of(files.at(".claude/fracta-settings.json")));
    CHECK(rt("claude").workspace_files(session(), spec()).count(".claude/fracta-key-settings.json") == 0);
}

TEST_CASE("claude's environment: tool search off, no autoupdate, stream trusted; configured env wins", "[runtime]") {
    RuntimeSpec sp = spec();
    sp.env = {{"ENABLE_TOOL_SEARCH", "true"}, {"FRACTA_TASK", "x"}};
    Env env = rt("claude").environment(session(), sp);
    CHECK(env == Env{{"ENABLE_TOOL_SEARCH", "true"}, {"DISABLE_AUTOUPDATER", "1"}, {"FRACTA_TASK", "fix-bug"},
                     {"FRACTA_GATEWAY_URL", "http://127.0.0.1:8080/agents/fix-bug/mcp"}});
    SessionInfo s = session();
    s.mode = Mode::Stream;
    CHECK(rt("claude").environment(s, spec()).at("CLAUDE_CODE_SANDBOXED") == "1");
    CHECK(rt("claude").environment(session(), spec()).at("ENABLE_TOOL_SEARCH") == "false");
}

TEST_CASE("an empty contract: the instructions name the task instead", "[runtime]") {
    SessionInfo s = session();
    s.contract.clear();
    s.base_branch.clear();
    auto doc = rt("claude").workspace_files(s, spec()).at("CLAUDE.md");
    CHECK(doc.rfind("# Task: fix-bug\n", 0) == 0);
    CHECK(doc.find("made from") == std::string::npos);
}

TEST_CASE("codex gets AGENTS.md; the MCP server, sandbox and approvals are -c overrides", "[runtime]") {
    auto files = rt("codex").workspace_files(session(), spec());
    REQUIRE(files.size() == 1);
    CHECK(files.at("AGENTS.md") == rt("claude").workspace_files(session(), spec()).at("CLAUDE.md"));
    CHECK(codex_overrides(cli_argv("codex", session())) ==
          std::vector<std::string>{"sandbox_mode=\"workspace-write\"", "sandbox_workspace_write.network_access=true",
                                   "sandbox_workspace_write.exclude_slash_tmp=true",
                                   "sandbox_workspace_write.exclude_tmpdir_env_var=true", "approval_policy=\"never\"",
                                   "check_for_update_on_startup=false",
                                   "mcp_servers.fracta.url=\"http://127.0.0.1:8080/agents/fix-bug/mcp\"",
                                   "mcp_servers.fracta.bearer_token_env_var=\"FRACTA_GATEWAY_TOKEN\"",
                                   "mcp_servers.fracta.default_tools_approval_mode=\"approve\""});
    SessionInfo s = session();
    s.mode = Mode::Stream;
    auto stream = codex_overrides(cli_argv("codex", s));
    CHECK(std::find(stream.begin(), stream.end(), "approval_policy=\"on-request\"") != stream.end());
}

TEST_CASE("codex: base_url is a model provider of its own; no editing tool is the read-only sandbox", "[runtime]") {
    RuntimeSpec sp;
    sp.base_url = "http://127.0.0.1:4000/v1";
    sp.allowed_tools = {"Read", "WebFetch"};
    auto o = codex_overrides(cli_argv("codex", session(""), sp));
    CHECK(o.front() == "sandbox_mode=\"read-only\"");
    CHECK(o[o.size() - 2] ==
          "model_providers.fracta={name=\"fracta\",base_url=\"http://127.0.0.1:4000/v1\","
          "env_key=\"OPENAI_API_KEY\",wire_api=\"responses\"}");
    CHECK(o.back() == "model_provider=\"fracta\"");
    sp.allowed_tools = {"Bash(git *)"};
    CHECK(codex_overrides(cli_argv("codex", session(""), sp)).front() == "sandbox_mode=\"workspace-write\"");
}

TEST_CASE("codex -c strings are TOML-escaped", "[runtime]") {
    auto o = codex_overrides(cli_argv("codex", session("http://gw/a\"b\\c\td\x01")));
    CHECK(std::find(o.begin(), o.end(), "mcp_servers.fracta.url=\"http://gw/a\\\"b\\\\c\\td\\u0001/agents/fix-bug/mcp\"") !=
          o.end());
}

TEST_CASE("codex and opencode clear an inherited CODEX_HOME / XDG directories; configured ones stay", "[runtime]") {
    CHECK(rt("codex").environment(session(), spec()).at("CODEX_HOME").empty());
    RuntimeSpec sp = spec();
    sp.env = {{"CODEX_HOME", "/home/me/.codex"}, {"XDG_DATA_HOME", "/home/me/.local/share"}};
    CHECK(rt("codex").environment(session(), sp).at("CODEX_HOME") == "/home/me/.codex");
    Env env = rt("opencode").environment(session(), sp);
    CHECK(env.at("XDG_DATA_HOME") == "/home/me/.local/share");
    CHECK(env.at("XDG_CONFIG_HOME").empty());
    CHECK(env.at("XDG_STATE_HOME").empty());
    CHECK(env.at("OPENCODE_DISABLE_CLAUDE_CODE") == "1");
}

TEST_CASE("opencode gets AGENTS.md; its config, with the remote server and permissions, is in the environment",
          "[runtime]") {
    auto files = rt("opencode").workspace_files(session(), spec());
    REQUIRE(files.size() == 1);
    CHECK(files.count("AGENTS.md") == 1);
    Json config = opencode_config(session());
    CHECK(config["mcp"] == Json::parse(R"({"fracta":{"type":"remote",
        "url":"http://127.0.0.1:8080/agents/fix-bug/mcp",
        "headers":{"Authorization":"Bearer {env:FRACTA_GATEWAY_TOKEN}"}}})"));
    CHECK(config["permission"] == Json::parse(R"({"*":"deny","read":"allow","glob":"allow","grep":"allow",
        "list":"allow","edit":"allow","bash":{"*":"deny","git *":"allow"},"fracta_*":"allow","task":"deny",
        "external_directory":"deny"})"));
    CHECK(config["agent"]["title"]["disable"] == true);
    CHECK_FALSE(config.contains("provider"));
}

TEST_CASE("opencode permissions: the defaults, plain Bash allows all, stream asks instead of denying", "[runtime]") {
    RuntimeSpec sp;
    Json p = opencode_config(session(), sp)["permission"];
    CHECK(p == Json::parse(R"({"*":"deny","read":"allow","glob":"allow","grep":"allow","list":"allow",
        "edit":"allow","bash":"allow","fracta_*":"allow","task":"deny","external_directory":"deny"})"));

    sp.allowed_tools = {"Bash", "Bash(npm:*)", "WebFetch"};
    SessionInfo s = session();
    s.mode = Mode::Stream;
    p = opencode_config(s, sp)["permission"];
    CHECK(p == Json::parse(R"({"*":"ask","webfetch":"allow","bash":"allow","fracta_*":"allow","task":"deny",
        "external_directory":"ask"})"));

    sp.allowed_tools = {"Bash(npm:*)"};
    p = opencode_config(session(), sp)["permission"];
    CHECK(p["bash"] == Json::parse(R"({"*":"deny","npm *":"allow"})"));
}

TEST_CASE("opencode: base_url points the model's provider (anthropic by default) at it", "[runtime]") {
    RuntimeSpec sp;
    sp.base_url = "http://127.0.0.1:4000/v1";
    CHECK(opencode_config(session(), sp)["provider"] ==
          Json::parse(R"({"anthropic":{"options":{"baseURL":"http://127.0.0.1:4000/v1"}}})"));
    sp.model = "openai/gpt-test";
    CHECK(opencode_config(session(), sp)["provider"] ==
          Json::parse(R"({"openai":{"options":{"baseURL":"http://127.0.0.1:4000/v1"}}})"));
}

TEST_CASE("shell gets no files", "[runtime]") {
    CHECK(rt("shell").workspace_files(session(), spec()).empty());
}

// --- command lines -------------------------------------------------------------------

TEST_CASE("claude batch: -p, JSON output, fracta's settings, edits accepted, no prompts, no user config",
          "[runtime]") {
    const std::string prompt = "Read CLAUDE.md and carry out the task it describes, on your own, until it is done.";
    CHECK(argv_of("claude", session(), RuntimeSpec{}) ==
          Argv{"claude", "-p", prompt, "--output-format", "json", "--settings", ".claude/fracta-settings.json",
               "--permission-mode", "acceptEdits", "--permission-prompts", "none", "--setting-sources", "project",
               "--strict-mcp-config", "--mcp-config", ".mcp.json"});
    // With allowed_tools configured: exactly those, nothing on its own.
    CHECK(argv_of("claude", session())[8] == "dontAsk");

    SessionInfo s = session("");
    s.resume_token = "3f1c-uuid";
    s.model = "opus";
    CHECK(argv_of("claude", s) ==
          Argv{"claude", "-r", "3f1c-uuid", "-p", "Continue your task.", "--output-format", "json", "--settings",
               ".claude/fracta-settings.json", "--permission-mode", "dontAsk", "--permission-prompts", "none",
               "--setting-sources", "project", "--strict-mcp-config", "--model", "opus"});
}

TEST_CASE("claude stream: the interactive CLI, through the key wrapper, the prompt as its first message",
          "[runtime]") {
    SessionInfo s = session();
    s.mode = Mode::Stream;
    RuntimeSpec sp = spec();
    sp.model = "sonnet";
    sp.program = "/opt/bin/claude";
    Argv argv = argv_of("claude", s, sp);
    REQUIRE(argv.size() > 3);
    CHECK(argv[0] == "/bin/sh");
    CHECK(argv[1] == "-c");
    CHECK(argv[2].find("exec \"$0\" --settings \"$s\" \"$@\"") != std::string::npos);
    CHECK(Argv(argv.begin() + 3, argv.end()) ==
          Argv{"/opt/bin/claude", "Read CLAUDE.md and carry out the task it describes, on your own, until it is done.",
               "--permission-mode", "dontAsk", "--setting-sources", "project", "--strict-mcp-config",
               "--mcp-config", ".mcp.json", "--model", "sonnet"});
}

// The CLI's argv without its -c overrides.
static Argv without_overrides(Argv argv) {
    Argv out;
    for (size_t i = 0; i < argv.size(); ++i) {
        if (argv[i] == "-c") ++i;
        else out.push_back(argv[i]);
    }
    return out;
}

TEST_CASE("codex batch: exec [resume THREAD] --json --skip-git-repo-check [--model] PROMPT", "[runtime]") {
    const std::string prompt =
        "Read AGENTS.md and carry out the task it describes, on your own, until it is done. "
        "You are fracta agent \"fix-bug\".";
    Argv argv = cli_argv("codex", session());
    CHECK(argv[0] == "codex");
    CHECK(argv[1] == "-c");
    CHECK(without_overrides(argv) == Argv{"codex", "exec", "--json", "--skip-git-repo-check", prompt});

    SessionInfo s = session();
    s.resume_token = "thread-1";
    s.prompt = "Also update the docs.";
    s.model = "gpt-5-codex";
    CHECK(without_overrides(cli_argv("codex", s)) == Argv{"codex", "exec", "resume", "thread-1", "--json",
                                                          "--skip-git-repo-check", "--model", "gpt-5-codex",
                                                          "Also update the docs."});

    s.mode = Mode::Stream;
    CHECK(without_overrides(cli_argv("codex", s)) == Argv{"codex", "resume", "thread-1", "--no-alt-screen",
                                                          "--no-daemon", "--model", "gpt-5-codex",
                                                          "Also update the docs."});
}

TEST_CASE("opencode batch: run --format json [--model] [--session] PROMPT", "[runtime]") {
    SessionInfo s = session();
    s.contract.clear();  // an empty contract: the task name is the prompt
    CHECK(cli_argv("opencode", s) == Argv{"opencode", "run", "--format", "json", "fix-bug"});

    s.resume_token = "ses_abc";
    s.prompt = "-x is a flag, not an option";  // never mistaken for an option
    s.tier = "light";
    RuntimeSpec sp = spec();
    sp.model_tiers = {{"light", "anthropic/claude-haiku"}};
    CHECK(cli_argv("opencode", s, sp) == Argv{"opencode", "run", "--format", "json", "--model",
                                              "anthropic/claude-haiku", "--session", "ses_abc",
                                              " -x is a flag, not an option"});

    s.mode = Mode::Stream;
    CHECK(cli_argv("opencode", s, sp) == Argv{"opencode", "--model", "anthropic/claude-haiku", "--session",
                                              "ses_abc", "--prompt", " -x is a flag, not an option"});
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
    const Env common = {{"ANTHROPIC_BASE_URL", "http://proxy"},
                        {"FRACTA_GATEWAY_URL", "http://127.0.0.1:8080/agents/fix-bug/mcp"},
                        {"FRACTA_TASK", "fix-bug"}};
    for (const auto& name : runtime_names()) {
        Env env = rt(name).environment(session(), sp);
        if (name == "claude") {  // its own defaults: see the claude environment case
            CHECK(env.erase("ENABLE_TOOL_SEARCH") == 1);
            CHECK(env.erase("DISABLE_AUTOUPDATER") == 1);
        }
        if (name == "codex" || name == "opencode") {  // they add settings of their own (tested above)
            for (const auto& [k, v] : common) CHECK(env.at(k) == v);
            CHECK(env.count("FRACTA_GATEWAY_TOKEN") == 0);
        } else {
            CHECK(env == common);
        }
    }
    CHECK(rt("shell").environment(session(""), RuntimeSpec{}) == Env{{"FRACTA_TASK", "fix-bug"}});
}
