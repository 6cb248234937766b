// start_json.h — what a worker asks the provider to start for an agent: the
// runtime's view of the session (SessionInfo) and the start JSON of the
// session contract (command, env, files, secrets, git or work_dir), from the
// agent's row, its mission's payload and fracta.yaml.
#pragma once

#include <string>

#include "agents/agents.h"
#include "agents/settings.h"
#include "base/json.h"
#include "base/result.h"
#include "runtime/runtime.h"

namespace fracta::cp {

runtime::SessionInfo session_info(const agents::Settings& settings, const agents::Agent& agent, const Json& payload);

// The secrets are read here (each start: a rotated key is picked up) and
// travel in secret_env, or in env for a provider that makes no worktrees.
Result<Json> start_json(const agents::Settings& settings, const agents::Agent& agent,
                        const agents::RuntimeChoice& choice, const Json& payload, const std::string& token);

}  // namespace fracta::cp
