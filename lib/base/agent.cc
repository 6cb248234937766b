#include "base/agent.h"

#include <algorithm>
#include <cctype>

namespace fracta {

bool is_terminal(const std::string& s) {
    return s == status::Completed || s == status::Failed || s == status::Stopped;
}

bool is_status(const std::string& s) {
    for (const char* known : {status::Pending, status::Queued, status::Running, status::Idle, status::Completed,
                              status::Failed, status::Stopped})
        if (s == known) return true;
    return false;
}

Status check_task_name(const std::string& task) {
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; };
    bool valid = !task.empty() && task.size() <= 64 && std::isalnum(static_cast<unsigned char>(task[0])) &&
                 std::all_of(task.begin(), task.end(), word);
    if (!valid)
        return usage_error("invalid task name \"" + task +
                           "\" (1 to 64 letters, digits, '_' or '-', starting with a letter or digit)");
    return {};
}

const std::vector<AgentTool>& agent_tools() {
    static const std::vector<AgentTool> tools = {
        {"fracta_list", "List the agents of this project: name, status, mode, branch, intent, unread mail."},
        {"fracta_peek", "Another agent's recent output."},
        {"fracta_send", "Mail another agent; it reads the message with fracta_inbox."},
        {"fracta_inbox", "Read my unread messages (reading consumes them)."},
        {"fracta_set_intent", "Say what I am doing now; it shows in agent lists."},
        {"fracta_spawn", "Start a sub-agent of mine on a task of its own (its own branch and worktree)."},
        {"fracta_report", "Record a result or finding of mine in the event log."},
        {"fracta_propose_mission",
         "Propose a sub-task under my objective: admitted (a child of mine starts on it) or refused with the budget "
         "rule that refused it."},
        {"fracta_report_finding", "Record a finding on my objective."},
        {"fracta_resolve_objective", "Resolve my objective as answered or disproven, with the outcome."},
    };
    return tools;
}

}  // namespace fracta
