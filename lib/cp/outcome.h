// outcome.h — how an ended session becomes its agent's last transition: the
// runtime's reading of its output (final text, session id, usage, the tool
// calls the CLI refused) and then the agent's `check`, a command run in its
// worktree that must pass for the agent to be Completed.
//
// Why a check: a CLI that was refused every tool still exits 0 and says it
// is done; only a look at the worktree tells that nothing happened.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "agents/agents.h"
#include "base/result.h"
#include "runtime/runtime.h"

namespace fracta::cp {

// The row changes and events of a finished run: last_output, resume_token
// (the runtime's session id), turns, tokens, cost, and one agent.tool_denied
// event per refused call (actor the task, payload {runtime, tool, input, id}).
agents::Changes run_changes(const runtime::RunResult& result, const std::string& task, const std::string& runtime);

struct CheckOutcome {
    bool passed = false;
    std::string reason;  // when not passed: "check failed (exit N): <its output>"
};

// `sh -c COMMAND` in `workspace` with `env` added, stdout and stderr as one
// stream; killed past `timeout` (a failure, "check timed out after …"). An
// error only when it could not be started at all.
Result<CheckOutcome> run_check(const std::string& command, const std::string& workspace,
                               const std::map<std::string, std::string>& env, std::chrono::milliseconds timeout);

}  // namespace fracta::cp
