#include "gw/api_tools.h"

#include "base/agent.h"

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
        auto answer = t.call(cp_, arguments.is_null() ? Json::object() : arguments);
        if (!answer.ok()) return text_result(name + ": " + answer.error().message, true);
        return json_result(*answer);
    }
    return usage_error("unknown tool \"" + name + "\"");
}

namespace {

using cpapi::Client;

// One of the agent tools of base/agent.h, described as it says.
mcp::Tool agent_tool(const std::string& name, Json input_schema) {
    for (const AgentTool& t : fracta::agent_tools())
        if (name == t.name) return tool(t.name, t.description, std::move(input_schema));
    return tool(name.c_str(), "", std::move(input_schema));  // not in the catalogue: the unit test says so
}

// fracta_peek, for agents and the host alike.
ApiTool peek_tool(mcp::Tool t) {
    return {std::move(t),
            [](Client& cp, const Json& a) -> Result<Json> {
                FRACTA_TRY_ASSIGN(name, arg(a, "name"));
                FRACTA_TRY_ASSIGN(lines, lines_arg(a));
                return cp.output(name, "peek", lines);
            }};
}

// The tools of an agent of an objective: always its own objective (the
// control plane finds it from the agent's row), never one named here.
void objective_tools(const std::string& me, std::vector<ApiTool>& t) {
    const std::string base = "/api/v1/agents/" + me;
    t.push_back({agent_tool("fracta_propose_mission",
                            schema({{"task", "the new agent's name: letters, digits, '_' and '-'"},
                                    {"contract", "its instructions"},
                                    {"dedupe_key", "no two live missions of the objective share one"},
                                    {"rationale", "why"},
                                    {"evidence", "what supports it"}},
                                   {"task", "contract"})),
                 [base](Client& cp, const Json& a) -> Result<Json> {
                     Json body = Json::object();
                     for (const char* key : {"task", "contract", "dedupe_key", "rationale", "evidence"}) {
                         FRACTA_TRY_ASSIGN(v, arg(a, key, std::string(key) == "task"));
                         if (!v.empty()) body[key] = v;
                     }
                     if (a.contains("priority") && a["priority"].is_number_integer()) body["priority"] = a["priority"];
                     return cp.call("POST", base + "/proposals", to_line(body));
                 }});
    t.push_back({agent_tool("fracta_report_finding", schema({{"summary", "the finding"}}, {"summary"})),
                 [base](Client& cp, const Json& a) -> Result<Json> {
                     FRACTA_TRY_ASSIGN(summary, arg(a, "summary"));
                     return cp.call("POST", base + "/findings", to_line(Json{{"summary", summary}}));
                 }});
    t.push_back({agent_tool("fracta_resolve_objective",
                            schema({{"status", "answered or disproven"}, {"outcome", "the answer"}}, {"status", "outcome"})),
                 [base](Client& cp, const Json& a) -> Result<Json> {
                     FRACTA_TRY_ASSIGN(status, arg(a, "status"));
                     FRACTA_TRY_ASSIGN(outcome, arg(a, "outcome"));
                     return cp.call("POST", base + "/resolve", to_line(Json{{"status", status}, {"outcome", outcome}}));
                 }});
}

}  // namespace

std::vector<ApiTool> agent_tools(const std::string& me) {
    std::vector<ApiTool> t;
    t.push_back({agent_tool("fracta_list", schema({}, {})),
                 [](Client& cp, const Json&) { return cp.list(); }});
    t.push_back(peek_tool(agent_tool("fracta_peek", with_lines(schema({{"name", "the agent"}}, {"name"})))));
    t.push_back({agent_tool("fracta_send", schema({{"to", "the agent to mail"}, {"message", "the text"}}, {"to", "message"})),
                 [me](Client& cp, const Json& a) -> Result<Json> {
                     FRACTA_TRY_ASSIGN(to, arg(a, "to"));
                     FRACTA_TRY_ASSIGN(message, arg(a, "message"));
                     return cp.send_message(me, to, message);
                 }});
    t.push_back({agent_tool("fracta_inbox", schema({}, {})),
                 [me](Client& cp, const Json&) { return cp.inbox(me); }});
    t.push_back({agent_tool("fracta_set_intent", schema({{"intent", "one line"}}, {"intent"})),
                 [me](Client& cp, const Json& a) -> Result<Json> {
                     FRACTA_TRY_ASSIGN(intent, arg(a, "intent"));
                     return cp.set_intent(me, intent);
                 }});
    t.push_back({agent_tool("fracta_spawn", schema({{"task", "its name: letters, digits, '_' and '-'"},
                                                    {"contract", "its instructions"},
                                                    {"runtime", "claude, codex, opencode, shell or a configured runtime"},
                                                    {"model", "the model to use"}},
                                                   {"task", "contract"})),
                 [me](Client& cp, const Json& a) -> Result<Json> {
                     FRACTA_TRY_ASSIGN(task, arg(a, "task"));
                     FRACTA_TRY_ASSIGN(contract, arg(a, "contract"));
                     FRACTA_TRY_ASSIGN(runtime, arg(a, "runtime", false));
                     FRACTA_TRY_ASSIGN(model, arg(a, "model", false));
                     Json body = {{"task", task}, {"contract", contract}, {"parent", me}};
                     if (!runtime.empty()) body["runtime"] = runtime;
                     if (!model.empty()) body["model"] = model;
                     return cp.spawn(body);
                 }});
    t.push_back({agent_tool("fracta_report",
                            schema({{"summary", "what to record"}, {"status", "e.g. done, blocked, finding"}}, {"summary"})),
                 [me](Client& cp, const Json& a) -> Result<Json> {
                     FRACTA_TRY_ASSIGN(summary, arg(a, "summary"));
                     FRACTA_TRY_ASSIGN(status, arg(a, "status", false));
                     Json event = {{"type", "agent.report"}, {"message", summary}};
                     if (!status.empty()) event["payload"] = {{"status", status}};
                     return cp.report(me, Json::array({event}));
                 }});
    objective_tools(me, t);
    return t;
}

namespace {

// A host tool that names one agent and calls `what` on it.
ApiTool named_tool(const char* name, const char* description,
                   std::function<Result<Json>(Client&, const std::string&)> what) {
    return {tool(name, description, schema({{"name", "the agent"}}, {"name"})),
            [what](Client& cp, const Json& a) -> Result<Json> {
                FRACTA_TRY_ASSIGN(agent, arg(a, "name"));
                return what(cp, agent);
            }};
}

}  // namespace

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
                 [](Client& cp, const Json& a) -> Result<Json> {
                     Json body = Json::object();
                     for (const char* key : {"task", "contract", "runtime", "mode", "model", "base_branch"}) {
                         FRACTA_TRY_ASSIGN(v, arg(a, key, std::string(key) == "task"));
                         if (!v.empty()) body[key] = v;
                     }
                     return cp.spawn(body);
                 }});
    t.push_back({tool("fracta_list", "List the agents, optionally those with one status.",
                      schema({{"status", "Pending, Queued, Running, Idle, Completed, Failed or Stopped"}}, {})),
                 [](Client& cp, const Json& a) -> Result<Json> {
                     FRACTA_TRY_ASSIGN(status, arg(a, "status", false));
                     return cp.list(status);
                 }});
    t.push_back(named_tool("fracta_get", "One agent, with its last output, exit code and reason.",
                           [](Client& cp, const std::string& name) { return cp.get(name); }));
    t.push_back(peek_tool(tool("fracta_peek", "An agent's recent output.",
                               with_lines(schema({{"name", "the agent"}}, {"name"})))));
    t.push_back({tool("fracta_logs", "An agent's log (its last lines).",
                      with_lines(schema({{"name", "the agent"}}, {"name"}))),
                 [](Client& cp, const Json& a) -> Result<Json> {
                     FRACTA_TRY_ASSIGN(name, arg(a, "name"));
                     FRACTA_TRY_ASSIGN(lines, lines_arg(a));
                     return cp.output(name, "logs", lines);
                 }});
    t.push_back({tool("fracta_say", "Say something to an agent: typed into a stream session, or left in its inbox.",
                      schema({{"name", "the agent"}, {"message", "the text"}}, {"name", "message"})),
                 [](Client& cp, const Json& a) -> Result<Json> {
                     FRACTA_TRY_ASSIGN(name, arg(a, "name"));
                     FRACTA_TRY_ASSIGN(message, arg(a, "message"));
                     return cp.say(name, message);
                 }});
    t.push_back(named_tool("fracta_kill", "Stop an agent and its session.",
                           [](Client& cp, const std::string& name) { return cp.kill(name, false); }));
    t.push_back(named_tool("fracta_merge", "Merge an agent's branch into the project's current branch (--no-ff).",
                           [](Client& cp, const std::string& name) { return cp.merge(name); }));
    t.push_back({tool("fracta_events", "An agent's events (lifecycle, reports, merges), oldest first.",
                      with_lines(schema({{"name", "the agent"}}, {"name"}))),
                 [](Client& cp, const Json& a) -> Result<Json> {
                     FRACTA_TRY_ASSIGN(name, arg(a, "name"));
                     FRACTA_TRY_ASSIGN(last, lines_arg(a));
                     return cp.events(name, last);
                 }});
    return t;
}

}  // namespace fracta::gw
