// common.h — what the runtime implementations share (internal to lib/runtime):
// the instructions document, prompts, output line scanning and the plain-text
// result that shell and stream sessions use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "runtime/runtime.h"

namespace fracta::runtime::detail {

const Runtime& claude();
const Runtime& codex();
const Runtime& opencode();
const Runtime& shell();

// CLAUDE.md / AGENTS.md: the contract, then how to work as a fracta agent.
std::string instructions(const SessionInfo& session);

// The one instance of a runtime class, for its accessor above.
template <class R>
const Runtime& instance_of() {
    static const R instance;
    return instance;
}

// A CLI that reads its instructions from AGENTS.md in the worktree and can
// resume a conversation (codex, opencode).
class AgentsMdRuntime : public Runtime {
public:
    bool supports_resume() const override { return true; }
    Files workspace_files(const SessionInfo& session, const RuntimeSpec&) const override {
        return {{"AGENTS.md", instructions(session)}};
    }
};

// The prompt of a run: the session's override; a follow-up line when
// resuming; the task name for an empty contract; else "read `doc`". With
// `name_task` the default prompt also names the agent.
std::string prompt(const SessionInfo& session, std::string_view doc, bool name_task);

// A positional argument a CLI must not mistake for an option.
std::string positional(std::string text);

std::string program(const RuntimeSpec& spec, std::string_view fallback);

// The tools an agent gets when project.allowed_tools is empty: read, edit and
// write files, and run commands (its contract, git) — Claude-style names.
const std::vector<std::string>& default_allowed_tools();

// `argv` run through a small sh launcher (the session's command is a shell
// line, run in the workspace). `setup` is sh code run first, with $s set to
// a directory of the session's own for this runtime's state —
// $FRACTA_SESSION_DIR/<runtime>, or $HOME/.fracta/agents/$FRACTA_TASK/<runtime>
// where the provider names no session directory — which exists by then.
// The launcher then runs "$@", the CLI's argv.
Argv with_launcher(std::string_view runtime, std::string_view setup, Argv argv);

// Every line of `output` that parses as a JSON object, in order; other lines
// (noise, banners, stderr) are skipped.
std::vector<Json> json_lines(std::string_view output);

// The first line of `text`, at most `max` bytes: for RunResult::error.
std::string one_line(std::string_view text, size_t max = 512);

// "<runtime> exited with status N".
std::string exit_reason(std::string_view runtime, int exit_code);

// The end of a batch parse: `error` (the first thing wrong the parser
// found, "" for none), else a non-zero exit status, fails the run; else it
// succeeded. A failed run without text gets the output's tail.
// Returns r, settled.
RunResult settle(RunResult r, std::string_view runtime, int exit_code, std::string_view output, std::string error);

// Success is exit 0; text is the output's tail with terminal escapes removed.
RunResult plain_result(std::string_view runtime, int exit_code, std::string_view output);

// Compact JSON plus a newline: the form of every JSON workspace file.
std::string json_file(const Json& value);

// A string member of `object`, or "" when absent or not a string.
std::string str(const Json& object, const char* key);

// A number member of `object`, or nothing when absent or not a number
// (integer() also refuses fractions and negatives: counts are whole).
std::optional<int64_t> integer(const Json& object, const char* key);
std::optional<double> number(const Json& object, const char* key);

// `a + b`, where a missing side counts as 0 unless both are missing.
std::optional<int64_t> add(std::optional<int64_t> a, std::optional<int64_t> b);
std::optional<double> add(std::optional<double> a, std::optional<double> b);

}  // namespace fracta::runtime::detail
