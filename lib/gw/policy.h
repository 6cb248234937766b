// policy.h — which tools an agent may see and call (gateway.md "Policy"):
// `tool_policy: {allow_only: [patterns], deny: [patterns]}` globally and per
// runtime. A pattern is an exact name, `*`, or `prefix*`. Deny wins; an
// allow_only list, when given, admits only what it matches. The same answer
// is used for tools/list and tools/call, so a hidden tool cannot be called.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace fracta::gw {

struct ToolPolicy {
    std::vector<std::string> allow_only;  // empty: everything not denied
    std::vector<std::string> deny;

    bool empty() const { return allow_only.empty() && deny.empty(); }
};

bool pattern_matches(const std::string& pattern, const std::string& name);

// Both policies must admit the tool: the global one and the runtime's.
bool allowed(const std::string& tool, const ToolPolicy& global, const ToolPolicy& runtime);

// {allow_only, deny} from a config value; `where` names it in errors
// ("tool_policy", "agents.agent_runtimes.claude.tool_policy").
Result<ToolPolicy> parse_policy(const Json& value, const std::string& where);

}  // namespace fracta::gw
