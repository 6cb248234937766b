// api_tools.h — MCP tools that are calls to the control plane API: fracta's
// own tools an agent sees (the task is the agent's, from the URL path, never
// from arguments) and the host tools of `fracta-gw stdio`. Each tool turns
// its arguments into one typed call of cpapi::Client and its answer into a
// CallToolResult: the JSON as text content and as structuredContent, or an
// isError result carrying the control plane's message.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cpapi/client.h"
#include "mcp/server.h"

namespace fracta::gw {

struct ApiTool {
    mcp::Tool tool;
    // Arguments → one call; a bad argument or the API's refusal is an
    // error (an isError result that says which).
    std::function<Result<Json>(cpapi::Client& cp, const Json& arguments)> call;
};

class ApiToolSource : public mcp::ToolSource {
public:
    ApiToolSource(std::vector<ApiTool> tools, cpapi::Client& cp) : tools_(std::move(tools)), cp_(cp) {}
    Result<std::vector<mcp::Tool>> list_tools(const mcp::CallContext& ctx) override;
    Result<Json> call_tool(const std::string& name, const Json& arguments, const mcp::CallContext& ctx) override;
    const std::vector<ApiTool>& tools() const { return tools_; }

private:
    std::vector<ApiTool> tools_;
    cpapi::Client& cp_;
};

// fracta_list, fracta_peek, fracta_send, fracta_inbox, fracta_set_intent,
// fracta_spawn, fracta_report — for agent `task`.
std::vector<ApiTool> agent_tools(const std::string& task);
// fracta_spawn, fracta_list, fracta_get, fracta_peek, fracta_logs,
// fracta_say, fracta_kill, fracta_merge, fracta_events — for the host.
std::vector<ApiTool> host_tools();

// Results shared with other tool sources.
Json text_result(const std::string& text, bool is_error = false);
Json json_result(const Json& value);

}  // namespace fracta::gw
