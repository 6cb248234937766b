// spawn.h — a SpawnRequest (POST /api/v1/agents) checked and turned into the
// agent row and mission payload the control plane stores, before anything
// is written: every usage error is found here.
#pragma once

#include <string>

#include "agents/agents.h"
#include "agents/settings.h"
#include "base/json.h"

namespace fracta::cp {

struct SpawnPlan {
    agents::Agent agent;    // status Queued, branch feature/<task>
    Json payload;   // the mission payload: the request, normalised
    int priority = 0;
};

// `dispatch: direct` jumps the queue: its mission outranks every queued one.
inline constexpr int kDirectPriority = 1 << 30;

Result<SpawnPlan> plan_spawn(const Json& request, const agents::Settings& settings);

// What POST /api/v1/agents answers.
Json spawn_response(const agents::Agent& agent, int64_t mission_id);

// Where the workspace of `task` lives for a project rooted at `root`: its git
// worktree, or a plain directory when the project is not in git.
std::string worktree_path(const std::string& root, const std::string& task, bool in_git);

}  // namespace fracta::cp
