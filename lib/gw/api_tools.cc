#include "gw/api_tools.h"

#include "http/server.h"

namespace fracta::gw {
namespace {

// A JSON Schema object with these string properties; `required` among them.
Json schema(std::vector<std::pair<const char*, const char*>> props, std::vector<const char*> required) {
    Json p = Json::object();
    for (const auto& [name, description] : props) p[name] = {{"type", "string"}, {"description", description}};
    Json s = {{"type", "object"}, {"properties", p}, {"additionalProperties", false}};
    if (!required.empty()) s["required"] = required;
    return s;
}

mcp::Tool tool(const char* name, const char* description, Json input_schema) {
    mcp::Tool t;
    t.name = name;
    t.description = description;
    t.input_schema = std::move(input_schema);
    return t;
}

Result<std::string> arg(const Json& args, const char* key, bool required = true) {
    if (!args.is_object() || !args.contains(key) || args[key].is_null()) {
        if (required) return usage_error(std::string(key) + ": required");
        return std::string();
    }
    if (!args[key].is_string()) return usage_error(std::string(key) + ": must be a string");
    return args[key].get<std::string>();
}

std::string agent_path(const std::string& task, const std::string& rest = "") {
    return "/api/v1/agents/" + http::percent_encode(task) + rest;
}

// Integer arguments may come as numbers or digit strings.
Result<std::string> lines_arg(const Json& args) {
    if (!args.is_object() || !args.contains("lines") || args["lines"].is_null()) return std::string();
    const Json& v = args["lines"];
    if (v.is_number_integer() && v.get<long long>() >= 0) return std::to_string(v.get<long long>());
    if (v.is_string() && !v.get<std::string>().empty() &&
        v.get<std::string>().find_first_not_of("0123456789") == std::string::npos)
        return v.get<std::string>();
    return usage_error("lines: must be a non-negative integer");
}

Json with_lines(Json s) {
    s["properties"]["lines"] = {{"type", "integer"}, {"minimum", 0}, {"description", "how many lines (default: the API's)"}};
    return s;
}

}  // namespace

Json text_result(const std::string& text, bool is_error) {
    Json r = {{"content", Json::array({{{"type", "text"}, {"text", text}}})}};
    if (is_error) r["isError"] = true;
    return r;
}

Json json_result(const Json& value) {
    Json r = text_result(value.dump());
    r["structuredContent"] = value;
    return r;
}

Result<std::vector<mcp::Tool>> ApiToolSource::list_tools(const mcp::CallContext&) {
    std::vector<mcp::Tool> out;
    for (const auto& t : tools_) out.push_back(t.tool);
    return out;
}

Result<Json> ApiToolSource::call_tool(const std::string& name, const Json& arguments, const mcp::CallContext&) {
    for (const auto& t : tools_) {
        if (t.tool.name != name) continue;
        auto request = t.request(arguments.is_null() ? Json::object() : arguments);
        if (!request.ok()) return text_result(name + ": " + request.error().message, true);
        auto answer = send_(*request);
        if (!answer.ok()) return text_result(name + ": " + answer.error().message, true);
        if (!answer->ok()) return text_result(name + ": " + answer->error(), true);
        return json_result(answer->body);
    }
    return usage_error("unknown tool \"" + name + "\"");
}

std::vector<ApiTool> agent_tools(const std::string& me) {
    std::vector<ApiTool> t;
    t.push_back({tool("fracta_list", "List the agents of this project: name, status, mode, branch, intent, unread mail.",
                      schema({}, {})),
                 [](const Json&) -> Result<ApiRequest> { return ApiRequest{"GET", "/api/v1/agents", Json()}; }});
    t.push_back({tool("fracta_peek", "Another agent's recent output.",
                      with_lines(schema({{"name", "the agent"}}, {"name"}))),
                 [](const Json& a) -> Result<ApiRequest> {
                     FRACTA_TRY_ASSIGN(name, arg(a, "name"));
                     FRACTA_TRY_ASSIGN(lines, lines_arg(a));
                     return ApiRequest{"GET", agent_path(name, "/peek") + (lines.empty() ? "" : "?lines=" + lines), Json()};
                 }});
    t.push_back({tool("fracta_send", "Mail another agent; it reads the message with fracta_inbox.",
                      schema({{"to", "the agent to mail"}, {"message", "the text"}}, {"to", "message"})),
                 [me](const Json& a) -> Result<ApiRequest> {
                     FRACTA_TRY_ASSIGN(to, arg(a, "to"));
                     FRACTA_TRY_ASSIGN(message, arg(a, "message"));
                     return ApiRequest{"POST", "/api/v1/messages", {{"from", me}, {"to", to}, {"message", message}}};
                 }});
    t.push_back({tool("fracta_inbox", "Read my unread messages (reading consumes them).", schema({}, {})),
                 [me](const Json&) -> Result<ApiRequest> { return ApiRequest{"GET", agent_path(me, "/inbox"), Json()}; }});
    t.push_back({tool("fracta_set_intent", "Say what I am doing now; it shows in agent lists.",
                      schema({{"intent", "one line"}}, {"intent"})),
                 [me](const Json& a) -> Result<ApiRequest> {
                     FRACTA_TRY_ASSIGN(intent, arg(a, "intent"));
                     return ApiRequest{"POST", agent_path(me, "/intent"), {{"intent", intent}}};
                 }});
    t.push_back({tool("fracta_spawn", "Start a sub-agent of mine on a task of its own (its own branch and worktree).",
                      schema({{"task", "its name: letters, digits, '_' and '-'"},
                              {"contract", "its instructions"},
                              {"runtime", "claude, codex, opencode, shell or a configured runtime"},
                              {"model", "the model to use"}},
                             {"task", "contract"})),
                 [me](const Json& a) -> Result<ApiRequest> {
                     FRACTA_TRY_ASSIGN(task, arg(a, "task"));
                     FRACTA_TRY_ASSIGN(contract, arg(a, "contract"));
                     FRACTA_TRY_ASSIGN(runtime, arg(a, "runtime", false));
                     FRACTA_TRY_ASSIGN(model, arg(a, "model", false));
                     Json body = {{"task", task}, {"contract", contract}, {"parent", me}};
                     if (!runtime.empty()) body["runtime"] = runtime;
                     if (!model.empty()) body["model"] = model;
                     return ApiRequest{"POST", "/api/v1/agents", body};
                 }});
    t.push_back({tool("fracta_report", "Record a result or finding of mine in the event log.",
                      schema({{"summary", "what to record"}, {"status", "e.g. done, blocked, finding"}}, {"summary"})),
                 [me](const Json& a) -> Result<ApiRequest> {
                     FRACTA_TRY_ASSIGN(summary, arg(a, "summary"));
                     FRACTA_TRY_ASSIGN(status, arg(a, "status", false));
                     Json event = {{"type", "agent.report"}, {"message", summary}};
                     if (!status.empty()) event["payload"] = {{"status", status}};
                     return ApiRequest{"POST", agent_path(me, "/events"), {{"events", Json::array({event})}}};
                 }});
    return t;
}

std::vector<ApiTool> host_tools() {
    std::vector<ApiTool> t;
    t.push_back({tool("fracta_spawn", "Start an agent on a task in its own worktree and branch.",
                      schema({{"task", "its name: letters, digits, '_' and '-'"},
                              {"contract", "its instructions"},
                              {"runtime", "claude, codex, opencode, shell or a configured runtime"},
                              {"mode", "batch or stream"},
                              {"model", "the model to use"},
                              {"base_branch", "branch its worktree starts from"}},
                             {"task"})),
                 [](const Json& a) -> Result<ApiRequest> {
                     Json body = Json::object();
                     for (const char* key : {"task", "contract", "runtime", "mode", "model", "base_branch"}) {
                         FRACTA_TRY_ASSIGN(v, arg(a, key, std::string(key) == "task"));
                         if (!v.empty()) body[key] = v;
                     }
                     return ApiRequest{"POST", "/api/v1/agents", body};
                 }});
    t.push_back({tool("fracta_list", "List the agents, optionally those with one status.",
                      schema({{"status", "Pending, Queued, Running, Idle, Completed, Failed or Stopped"}}, {})),
                 [](const Json& a) -> Result<ApiRequest> {
                     FRACTA_TRY_ASSIGN(status, arg(a, "status", false));
                     return ApiRequest{"GET", "/api/v1/agents" + (status.empty() ? "" : "?status=" + http::percent_encode(status)), Json()};
                 }});
    t.push_back({tool("fracta_get", "One agent, with its last output, exit code and reason.",
                      schema({{"name", "the agent"}}, {"name"})),
                 [](const Json& a) -> Result<ApiRequest> {
                     FRACTA_TRY_ASSIGN(name, arg(a, "name"));
                     return ApiRequest{"GET", agent_path(name), Json()};
                 }});
    for (const char* what : {"peek", "logs"}) {
        const std::string w = what;
        t.push_back({tool(w == "peek" ? "fracta_peek" : "fracta_logs",
                          w == "peek" ? "An agent's recent output." : "An agent's log (its last lines).",
                          with_lines(schema({{"name", "the agent"}}, {"name"}))),
                     [w](const Json& a) -> Result<ApiRequest> {
                         FRACTA_TRY_ASSIGN(name, arg(a, "name"));
                         FRACTA_TRY_ASSIGN(lines, lines_arg(a));
                         return ApiRequest{"GET", agent_path(name, "/" + w) + (lines.empty() ? "" : "?lines=" + lines), Json()};
                     }});
    }
    t.push_back({tool("fracta_say", "Say something to an agent: typed into a stream session, or left in its inbox.",
                      schema({{"name", "the agent"}, {"message", "the text"}}, {"name", "message"})),
                 [](const Json& a) -> Result<ApiRequest> {
                     FRACTA_TRY_ASSIGN(name, arg(a, "name"));
                     FRACTA_TRY_ASSIGN(message, arg(a, "message"));
                     return ApiRequest{"POST", agent_path(name, "/say"), {{"message", message}}};
                 }});
    t.push_back({tool("fracta_kill", "Stop an agent and its session.", schema({{"name", "the agent"}}, {"name"})),
                 [](const Json& a) -> Result<ApiRequest> {
                     FRACTA_TRY_ASSIGN(name, arg(a, "name"));
                     return ApiRequest{"DELETE", agent_path(name), Json()};
                 }});
    t.push_back({tool("fracta_merge", "Merge an agent's branch into the project's current branch (--no-ff).",
                      schema({{"name", "the agent"}}, {"name"})),
                 [](const Json& a) -> Result<ApiRequest> {
                     FRACTA_TRY_ASSIGN(name, arg(a, "name"));
                     return ApiRequest{"POST", agent_path(name, "/merge"), Json()};
                 }});
    t.push_back({tool("fracta_events", "An agent's events (lifecycle, reports, merges), oldest first.",
                      with_lines(schema({{"name", "the agent"}}, {"name"}))),
                 [](const Json& a) -> Result<ApiRequest> {
                     FRACTA_TRY_ASSIGN(name, arg(a, "name"));
                     FRACTA_TRY_ASSIGN(last, lines_arg(a));
                     return ApiRequest{"GET", agent_path(name, "/events") + (last.empty() ? "" : "?last=" + last), Json()};
                 }});
    return t;
}

}  // namespace fracta::gw
