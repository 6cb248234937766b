// The runtimes' output parsers (lib/runtime): realistic claude JSON, codex
// JSONL and opencode NDJSON output — successes, the CLIs' own error shapes,
// noise and garbage — plus shell and stream transcripts and the 4 KiB tail.
#include <catch2/catch.hpp>

#include "runtime/runtime.h"
#include "support.h"

using namespace fracta::runtime;

namespace {
const Runtime& rt(std::string_view name) {
    return *fracta::test::ok(find_runtime(name));
}

// A run that succeeded with this text and resume token, and no error.
void check_success(const RunResult& r, const std::string& text, const std::string& resume_token) {
    CHECK(r.success);
    CHECK(r.text == text);
    CHECK(r.resume_token == resume_token);
    CHECK(r.error.empty());
}

// The usage's turns, input tokens and output tokens.
void check_counts(const Usage& u, int64_t turns, int64_t input_tokens, int64_t output_tokens) {
    CHECK(u.turns == turns);
    CHECK(u.input_tokens == input_tokens);
    CHECK(u.output_tokens == output_tokens);
}
}  // namespace

// --- output parsing: claude --------------------------------------------------------------

TEST_CASE("claude: the result object gives the text and the session id", "[runtime]") {
    std::string out =
        "Warning: something on stdout first\n"
        R"({"type":"result","subtype":"success","is_error":false,"duration_ms":2200,"num_turns":3,)"
        R"("result":"Fixed parse() and committed.","session_id":"8b2e-4c1f","total_cost_usd":0.01})"
        "\n";
    check_success(rt("claude").parse(0, out), "Fixed parse() and committed.", "8b2e-4c1f");
}

TEST_CASE("claude: is_error true fails with the result as the reason", "[runtime]") {
    std::string out =
        R"({"type":"result","subtype":"success","is_error":true,"result":"API Error: 529 overloaded\nretry later",)"
        R"("session_id":"s-1"})";
    RunResult r = rt("claude").parse(1, out);
    CHECK_FALSE(r.success);
    CHECK(r.error == "claude reported an error: API Error: 529 overloaded");
    CHECK(r.resume_token == "s-1");
    CHECK(r.text == "API Error: 529 overloaded\nretry later");

    r = rt("claude").parse(1, R"({"type":"result","subtype":"error_max_turns","is_error":true,"session_id":"s"})");
    CHECK(r.error == "claude reported an error: error_max_turns");
}

TEST_CASE("claude: a clean result with a non-zero exit still fails", "[runtime]") {
    RunResult r = rt("claude").parse(137, R"({"type":"result","is_error":false,"result":"half","session_id":"s"})");
    CHECK_FALSE(r.success);
    CHECK(r.error == "claude exited with status 137");
    CHECK(r.text == "half");
}

TEST_CASE("claude: the last result wins; pretty-printed and stream-json output work", "[runtime]") {
    std::string stream_json =
        R"({"type":"system","subtype":"init","session_id":"s-2","tools":[]})"
        "\n"
        R"({"type":"assistant","message":{"content":[{"type":"text","text":"working"}]},"session_id":"s-2"})"
        "\n"
        R"({"type":"result","is_error":false,"result":"done","session_id":"s-2"})"
        "\n";
    RunResult r = rt("claude").parse(0, stream_json);
    CHECK(r.success);
    CHECK(r.text == "done");
    CHECK(r.resume_token == "s-2");

    std::string pretty = "noise {\n{\n  \"type\": \"result\",\n  \"is_error\": false,\n  \"result\": \"ok\",\n"
                         "  \"session_id\": \"s-3\"\n}\n";
    r = rt("claude").parse(0, pretty);
    CHECK(r.success);
    CHECK(r.resume_token == "s-3");
}

TEST_CASE("claude: garbage is a failure that keeps the output's tail", "[runtime]") {
    RunResult r = rt("claude").parse(0, "command not found: claude\n{not json\n");
    CHECK_FALSE(r.success);
    CHECK(r.error == "claude output has no result object");
    CHECK(r.text == "command not found: claude\n{not json\n");
    CHECK(r.resume_token.empty());

    r = rt("claude").parse(127, "");
    CHECK(r.error == "claude exited with status 127 without a result object");
}

// --- output parsing: codex -----------------------------------------------------------------

namespace {
const std::string kCodexOk =
    "Reading prompt from stdin...\n"
    R"({"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"})"
    "\n"
    R"({"type":"turn.started"})"
    "\n"
    R"({"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"**Looking at parse()**"}})"
    "\n"
    R"({"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"First look done."}})"
    "\n"
    R"({"type":"item.completed","item":{"id":"item_2","type":"command_execution","command":"bash -lc ls",)"
    R"("aggregated_output":"src\n","exit_code":0,"status":"completed"}})"
    "\n"
    R"({"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"Fixed and committed."}})"
    "\n"
    R"({"type":"turn.completed","usage":{"input_tokens":24763,"cached_input_tokens":24448,"output_tokens":122}})"
    "\n";
}  // namespace

TEST_CASE("codex: thread id, last agent message, turn.completed", "[runtime]") {
    check_success(rt("codex").parse(0, kCodexOk), "Fixed and committed.", "0199a213-81c0-7800-8aa1-bbab2a035a53");
}

TEST_CASE("codex: without turn.completed the run failed", "[runtime]") {
    std::string out = kCodexOk.substr(0, kCodexOk.rfind(R"({"type":"turn.completed")"));
    RunResult r = rt("codex").parse(0, out);
    CHECK_FALSE(r.success);
    CHECK(r.error == "codex output has no turn.completed event");
    CHECK(r.text == "Fixed and committed.");
    CHECK(r.resume_token == "0199a213-81c0-7800-8aa1-bbab2a035a53");
}

TEST_CASE("codex: error and turn.failed events give the reason", "[runtime]") {
    std::string out = R"({"type":"thread.started","thread_id":"t-9"})"
                      "\n"
                      R"({"type":"turn.started"})"
                      "\n"
                      R"({"type":"error","message":"stream disconnected before completion"})"
                      "\n";
    RunResult r = rt("codex").parse(1, out);
    CHECK_FALSE(r.success);
    CHECK(r.error == "stream disconnected before completion");
    CHECK(r.resume_token == "t-9");
    CHECK(r.text == out);  // no answer: the raw tail

    out += R"({"type":"turn.failed","error":{"message":"You exceeded your current quota"}})"
           "\n";
    r = rt("codex").parse(1, out);
    CHECK(r.error == "You exceeded your current quota");
}

TEST_CASE("codex: an error followed by turn.completed was a retry, not a failure", "[runtime]") {
    std::string out = R"({"type":"thread.started","thread_id":"t-1"})"
                      "\n"
                      R"({"type":"error","message":"Reconnecting... 1/5"})"
                      "\n"
                      R"({"type":"item.completed","item":{"id":"i","type":"agent_message","text":"ok"}})"
                      "\n"
                      R"({"type":"turn.completed","usage":{}})";
    RunResult r = rt("codex").parse(0, out);
    CHECK(r.success);
    CHECK(r.error.empty());
}

TEST_CASE("codex: no thread id, garbage, or a bad exit status each fail with a reason", "[runtime]") {
    RunResult r = rt("codex").parse(0, R"({"type":"turn.completed","usage":{}})");
    CHECK_FALSE(r.success);
    CHECK(r.error == "codex output has no thread.started event with a thread_id");

    r = rt("codex").parse(0, "Not logged in. Run codex login.\n");
    CHECK_FALSE(r.success);
    CHECK(r.error == "codex output has no JSON events");
    CHECK(r.text == "Not logged in. Run codex login.\n");

    r = rt("codex").parse(2, kCodexOk);
    CHECK_FALSE(r.success);
    CHECK(r.error == "codex exited with status 2");
}

// --- output parsing: opencode -----------------------------------------------------------------

namespace {
std::string oc_text(const std::string& message, const std::string& text) {
    return R"({"type":"text","timestamp":1767036060000,"sessionID":"ses_4947","part":{"id":"prt_)" + message +
           R"(","sessionID":"ses_4947","messageID":")" + message + R"(","type":"text","text":")" + text +
           R"(","time":{"start":1,"end":2}}})"
           "\n";
}
const std::string kStepStart =
    R"({"type":"step_start","timestamp":1767036059338,"sessionID":"ses_4947","part":{"id":"prt_0",)"
    R"("sessionID":"ses_4947","messageID":"msg_1","type":"step-start"}})"
    "\n";
const std::string kStepFinish =
    R"({"type":"step_finish","timestamp":1767036061000,"sessionID":"ses_4947","part":{"id":"prt_9",)"
    R"("sessionID":"ses_4947","messageID":"msg_2","type":"step-finish","reason":"stop"}})"
    "\n";
}  // namespace

TEST_CASE("opencode: session id and the last message's text", "[runtime]") {
    std::string out = kStepStart + oc_text("msg_1", "Looking around.") + oc_text("msg_2", "Fixed it.") +
                      oc_text("msg_2", "Committed on the branch.") + kStepFinish;
    RunResult r = rt("opencode").parse(0, out);
    CHECK(r.success);
    CHECK(r.resume_token == "ses_4947");
    CHECK(r.text == "Fixed it.\nCommitted on the branch.");
}

TEST_CASE("opencode: an error event fails the run even with exit status 0", "[runtime]") {
    std::string out =
        kStepStart +
        R"({"type":"error","timestamp":1,"sessionID":"ses_4947","error":{"name":"ProviderAuthError",)"
        R"("data":{"providerID":"anthropic","message":"API key is invalid"}}})"
        "\n";
    RunResult r = rt("opencode").parse(0, out);
    CHECK_FALSE(r.success);
    CHECK(r.error == "API key is invalid");
    CHECK(r.resume_token == "ses_4947");

    r = rt("opencode").parse(1, R"({"type":"error","sessionID":"s","error":{"name":"UnknownError"}})");
    CHECK(r.error == "UnknownError");

    // An API error, after opencode's own retries (1.18): the status is named.
    r = rt("opencode").parse(0, R"({"type":"error","sessionID":"s","error":{"name":"APIError","data":)"
                                R"({"message":"Overloaded","statusCode":529,"isRetryable":true}}})");
    CHECK(r.error == "Overloaded (HTTP 529)");
}

TEST_CASE("opencode: no session id, garbage, or a bad exit status each fail with a reason", "[runtime]") {
    RunResult r = rt("opencode").parse(0, R"({"type":"text","part":{"type":"text","text":"hi"}})");
    CHECK_FALSE(r.success);
    CHECK(r.error == "opencode output names no sessionID");

    r = rt("opencode").parse(0, "Error: Unknown argument: frob\n");
    CHECK(r.error == "opencode output has no JSON events");
    CHECK(r.text == "Error: Unknown argument: frob\n");

    r = rt("opencode").parse(1, kStepStart + oc_text("msg_1", "partial"));
    CHECK(r.error == "opencode exited with status 1");
    CHECK(r.text == "partial");
}

// --- output parsing: shell, stream mode, truncation ----------------------------------------------

TEST_CASE("shell: success is exit 0, the text is the output", "[runtime]") {
    RunResult r = rt("shell").parse(0, "built\n\x1b[32mok\x1b[0m\n");
    CHECK(r.success);
    CHECK(r.text == "built\n\x1b[32mok\x1b[0m\n");  // batch output is kept as written
    CHECK(r.resume_token.empty());

    r = rt("shell").parse(3, "make: *** [test] Error 1\n");
    CHECK_FALSE(r.success);
    CHECK(r.error == "shell exited with status 3");
    CHECK(r.text == "make: *** [test] Error 1\n");
}

TEST_CASE("stream transcripts are plain text without terminal escapes", "[runtime]") {
    std::string transcript = "\x1b]0;claude\x07\x1b[2J\x1b[1;1H> hello\r\n\x1b[1m● hi there\x1b[0m\r\n";
    for (const char* name : {"claude", "codex", "opencode", "shell"}) {
        RunResult r = rt(name).parse(0, transcript, Mode::Stream);
        CHECK(r.success);
        CHECK(r.text == "> hello\n● hi there\n");
        CHECK(r.resume_token.empty());
    }
    RunResult r = rt("claude").parse(130, "bye", Mode::Stream);
    CHECK_FALSE(r.success);
    CHECK(r.error == "claude exited with status 130");
}

TEST_CASE("every runtime's text is cut to a 4 KiB tail", "[runtime]") {
    std::string big = std::string(6000, 'a') + "END";
    auto check = [&](const RunResult& r) {
        CHECK(r.success);
        CHECK(r.text.size() == kMaxOutputTail);
        CHECK(r.text.rfind("...(truncated)...\n", 0) == 0);
        CHECK(r.text.substr(r.text.size() - 3) == "END");
    };
    check(rt("claude").parse(0, R"({"type":"result","is_error":false,"result":")" + big + R"(","session_id":"s"})"));
    check(rt("codex").parse(0, R"({"type":"thread.started","thread_id":"t"})"
                               "\n"
                               R"({"type":"item.completed","item":{"type":"agent_message","text":")" +
                                   big + R"("}})"
                                         "\n"
                                         R"({"type":"turn.completed"})"));
    check(rt("opencode").parse(0, oc_text("m", big)));
    check(rt("shell").parse(0, big));
    check(rt("shell").parse(0, big, Mode::Stream));

    // A long error reason stays one short line.
    RunResult r = rt("codex").parse(1, R"({"type":"error","message":")" + big + R"("})");
    CHECK(r.error.size() <= 515);
}

// --- usage and refused tools ----------------------------------------------------------------

TEST_CASE("claude: usage, cost, turns and permission denials from the result object", "[runtime]") {
    // The shape Claude Code 2.1 prints with --output-format json (trimmed).
    std::string out =
        R"({"type":"result","subtype":"success","is_error":false,"num_turns":3,"result":"All done.",)"
        R"("session_id":"939f4ffa","total_cost_usd":0.0018000000000000002,)"
        R"("usage":{"input_tokens":300,"cache_creation_input_tokens":40,"cache_read_input_tokens":2,)"
        R"("output_tokens":60,"server_tool_use":{"web_search_requests":0}},)"
        R"("permission_denials":[{"tool_name":"Bash","tool_use_id":"toolu_1",)"
        R"("tool_input":{"command":"echo hi > out.txt","description":"x"}},)"
        R"({"tool_name":"Write","tool_use_id":"toolu_2","tool_input":{"file_path":"/tmp/o","content":"x"}}]})";
    RunResult r = rt("claude").parse(0, out);
    CHECK(r.success);
    check_counts(r.usage, 3, 342, 60);
    REQUIRE(r.usage.cost_usd);
    CHECK(*r.usage.cost_usd == Approx(0.0018));
    REQUIRE(r.denied.size() == 2);
    CHECK(r.denied[0].tool == "Bash");
    CHECK(r.denied[0].id == "toolu_1");
    CHECK(r.denied[0].input == R"({"command":"echo hi > out.txt","description":"x"})");
    CHECK(r.denied[1].tool == "Write");

    // An API error still reports what it cost; no usage at all is no usage.
    r = rt("claude").parse(1, R"({"type":"result","is_error":true,"api_error_status":500,"num_turns":1,)"
                              R"("result":"API Error: 500 Internal server error.","session_id":"s","total_cost_usd":0,)"
                              R"("usage":{"input_tokens":0,"output_tokens":0},"permission_denials":[]})");
    CHECK(r.error == "claude reported an error: API Error: 500 Internal server error.");
    CHECK(r.usage.turns == 1);
    CHECK(r.usage.input_tokens == 0);
    CHECK(r.usage.cost_usd == 0.0);
    CHECK(r.denied.empty());
    r = rt("claude").parse(0, R"({"type":"result","is_error":false,"result":"x","session_id":"s"})");
    CHECK_FALSE(r.usage.turns);
    CHECK_FALSE(r.usage.input_tokens);
    CHECK_FALSE(r.usage.cost_usd);
}

TEST_CASE("codex: usage adds up over turn.completed events; no cost", "[runtime]") {
    // What codex 0.171 `exec --json` prints (its non-fatal error item included).
    std::string out =
        R"({"type":"thread.started","thread_id":"01a24d17"})" "\n"
        R"({"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for `gpt-5` not found."}})" "\n"
        R"({"type":"turn.started"})" "\n"
        R"({"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"All done."}})" "\n"
        R"({"type":"turn.completed","usage":{"input_tokens":200,"cached_input_tokens":20,"cache_write_input_tokens":0,)"
        R"("output_tokens":40,"reasoning_output_tokens":0}})" "\n";
    RunResult r = rt("codex").parse(0, out);
    CHECK(r.success);
    CHECK(r.text == "All done.");
    check_counts(r.usage, 1, 200, 40);
    CHECK_FALSE(r.usage.cost_usd);
    CHECK(r.denied.empty());

    r = rt("codex").parse(0, out + R"({"type":"turn.completed","usage":{"input_tokens":5,"output_tokens":1}})" "\n");
    check_counts(r.usage, 2, 205, 41);
}

TEST_CASE("opencode: usage adds up over step_finish parts; refused tool parts are denials", "[runtime]") {
    // What opencode 1.18 `run --format json` prints when its permission rules refuse a write.
    std::string out =
        R"({"type":"step_start","sessionID":"ses_1","part":{"type":"step-start","sessionID":"ses_1","messageID":"m1"}})" "\n"
        R"({"type":"tool_use","sessionID":"ses_1","part":{"type":"tool","tool":"write","callID":"toolu_2",)"
        R"("state":{"status":"error","input":{"filePath":"/tmp/outside.txt","content":"x"},)"
        R"("error":"The user has specified a rule which prevents you from using this specific tool call. Here are some of the relevant rules []"},)"
        R"("sessionID":"ses_1","messageID":"m1"}})" "\n"
        R"({"type":"tool_use","sessionID":"ses_1","part":{"type":"tool","tool":"bash","callID":"toolu_3",)"
        R"("state":{"status":"error","input":{"command":"false"},"error":"exit 1"},"sessionID":"ses_1","messageID":"m1"}})" "\n"
        R"({"type":"step_finish","sessionID":"ses_1","part":{"type":"step-finish","reason":"tool-calls","messageID":"m1",)"
        R"("tokens":{"total":120,"input":100,"output":20,"reasoning":0,"cache":{"write":3,"read":7}},"cost":0.0006}})" "\n"
        R"({"type":"text","sessionID":"ses_1","part":{"type":"text","text":"All done.","messageID":"m2"}})" "\n"
        R"({"type":"step_finish","sessionID":"ses_1","part":{"type":"step-finish","reason":"stop","messageID":"m2",)"
        R"("tokens":{"total":120,"input":100,"output":20,"reasoning":0,"cache":{"write":0,"read":0}},"cost":0.0006}})" "\n";
    RunResult r = rt("opencode").parse(0, out);
    CHECK(r.success);
    CHECK(r.text == "All done.");
    check_counts(r.usage, 2, 210, 40);
    REQUIRE(r.usage.cost_usd);
    CHECK(*r.usage.cost_usd == Approx(0.0012));
    REQUIRE(r.denied.size() == 1);  // the failed `false` was run, not refused
    CHECK(r.denied[0].tool == "write");
    CHECK(r.denied[0].id == "toolu_2");
    CHECK(r.denied[0].input == R"({"filePath":"/tmp/outside.txt","content":"x"})");

    std::string asked = R"({"type":"tool_use","sessionID":"s","part":{"type":"tool","tool":"bash","callID":"c",)"
                        R"("state":{"status":"error","input":{},"error":"The user rejected permission to use this specific tool call."}}})";
    CHECK(rt("opencode").parse(0, asked).denied.size() == 1);
}

TEST_CASE("shell and stream runs report no usage", "[runtime]") {
    RunResult r = rt("shell").parse(0, "ok\n");
    CHECK_FALSE(r.usage.turns);
    CHECK_FALSE(r.usage.input_tokens);
    CHECK(r.denied.empty());
    r = rt("claude").parse(0, "screen text", Mode::Stream);
    CHECK_FALSE(r.usage.input_tokens);
}
