// agent.h — what every module agrees on about an agent, spelled once: its
// name rule, its statuses (the control plane's domain, its API and its
// clients all speak them; spec: control-plane.md) and the fracta tools it
// is given.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace fracta {

namespace status {
inline constexpr const char* Pending = "Pending";
inline constexpr const char* Queued = "Queued";
inline constexpr const char* Running = "Running";
inline constexpr const char* Idle = "Idle";
inline constexpr const char* Completed = "Completed";
inline constexpr const char* Failed = "Failed";
inline constexpr const char* Stopped = "Stopped";
}  // namespace status

// Completed, Failed or Stopped: the agent has ended.
bool is_terminal(const std::string& status);
bool is_status(const std::string& status);

// A task (agent) name: ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$, the API's rule and
// every client's; the name becomes a branch, a path segment and a label.
// Otherwise a usage error `invalid task name "<task>" (…)`.
Status check_task_name(const std::string& task);

// The fracta tools every agent gets from its gateway endpoint, in the order
// they are listed: the gateway serves them (gw/api_tools.cc), the runtime's
// instructions name them (runtime/runtime.cc).
struct AgentTool {
    const char* name;
    const char* description;  // one sentence
};
const std::vector<AgentTool>& agent_tools();

}  // namespace fracta
