// opencode.cc — the OpenCode runtime: AGENTS.md, and fracta's settings
// (MCP server, permissions, model endpoint) in OPENCODE_CONFIG_CONTENT with
// config and data directories of the session's own; `opencode run --format
// json` in batch, the interactive `opencode` in stream; reading its NDJSON
// events.
#include "runtime/common.h"

namespace fracta::runtime::detail {
namespace {

constexpr std::string_view kName = "opencode";

// opencode's permission block from Claude-style allowed_tools (the defaults
// when there are none). What is not granted is denied in batch (nobody could
// answer a question) and asked in stream, and so is any path outside the
// workspace. Sub-agents go through fracta_spawn, so opencode's own `task`
// tool is always denied.
Json permissions(const RuntimeSpec& spec, Mode mode, bool gateway) {
    const std::string fallback = mode == Mode::Batch ? "deny" : "ask";
    Json p = Json::object();
    p["*"] = fallback;
    auto allow = [&](const char* key) { p[key] = "allow"; };
    Json bash_patterns = Json::object();
    bool bash_all = false;
    for (const std::string& tool : spec.allowed_tools.empty() ? default_allowed_tools() : spec.allowed_tools) {
        if (tool == "Read") {
            for (const char* key : {"read", "glob", "grep", "list"}) allow(key);
        } else if (tool == "Edit" || tool == "Write" || tool == "MultiEdit") {
            allow("edit");
        } else if (tool == "Bash") {
            bash_all = true;
        } else if (tool.rfind("Bash(", 0) == 0 && tool.size() > 6 && tool.back() == ')') {
            std::string pattern = tool.substr(5, tool.size() - 6);
            if (pattern.size() >= 2 && pattern.compare(pattern.size() - 2, 2, ":*") == 0)
                pattern.replace(pattern.size() - 2, 2, " *");  // Claude's older prefix syntax
            bash_patterns[pattern] = "allow";
        } else if (tool == "WebFetch") {
            allow("webfetch");
        } else if (tool == "WebSearch") {
            allow("websearch");
        } else if (tool == "TodoWrite") {
            allow("todowrite");
        }
    }
    if (bash_all) {
        p["bash"] = "allow";
    } else if (!bash_patterns.empty()) {
        Json bash = {{"*", fallback}};
        bash.update(bash_patterns);
        p["bash"] = bash;
    }
    if (gateway) p["fracta_*"] = "allow";
    p["task"] = "deny";
    p["external_directory"] = fallback;  // nothing outside the workspace, whatever the tool
    return p;
}

// The message of an error event: {"error":{"name","data":{"message",
// "statusCode"}}} (an API error: the status follows, "… (HTTP 500)"),
// {"error":{"message"}}, {"error":"…"} or {"message"}.
std::string error_message(const Json& event) {
    auto error = event.find("error");
    if (error != event.end()) {
        if (error->is_string()) return error->get<std::string>();
        if (auto data = error->find("data"); error->is_object() && data != error->end()) {
            if (std::string m = str(*data, "message"); !m.empty()) {
                if (auto status = integer(*data, "statusCode")) m += " (HTTP " + std::to_string(*status) + ")";
                return m;
            }
        }
        if (std::string m = str(*error, "message"); !m.empty()) return m;
        if (std::string n = str(*error, "name"); !n.empty()) return n;
    }
    if (std::string m = str(event, "message"); !m.empty()) return m;
    return "opencode reported an error";
}

// A step-finish part ends one model request: tokens {input, output,
// reasoning, cache {read, write}} and its cost.
void add_step(Usage& u, const Json& part) {
    u.turns = add(u.turns, int64_t{1});
    u.cost_usd = add(u.cost_usd, number(part, "cost"));
    auto tokens = part.find("tokens");
    if (tokens == part.end() || !tokens->is_object()) return;
    std::optional<int64_t> input = integer(*tokens, "input");
    if (auto cache = tokens->find("cache"); cache != tokens->end() && cache->is_object())
        input = add(add(input, integer(*cache, "read")), integer(*cache, "write"));
    u.input_tokens = add(u.input_tokens, input);
    u.output_tokens = add(u.output_tokens, integer(*tokens, "output"));
}

// A tool part whose call the permission rules refused: state.status
// "error" with opencode's refusal message — a `deny` rule ("The user has
// specified a rule which prevents you from using this specific tool call")
// or an `ask` answered no ("The user rejected permission to use this
// specific tool call").
std::optional<DeniedTool> denial(const Json& part) {
    auto state = part.find("state");
    if (state == part.end() || !state->is_object() || str(*state, "status") != "error") return std::nullopt;
    const std::string error = str(*state, "error");
    if (error.rfind("The user has specified a rule which prevents you", 0) != 0 &&
        error.rfind("The user rejected permission", 0) != 0)
        return std::nullopt;
    DeniedTool t{str(part, "tool"), "", str(part, "callID")};
    if (auto input = state->find("input"); input != state->end()) t.input = to_line(*input);
    return t;
}
// The launcher's part: opencode's config, data (sessions, logins) and state
// directories in the session's own directory unless configured, so nothing
// of ~/.config/opencode or ~/.local/share/opencode steers the agent; git's
// ~/.config/git stays reachable for the agent's git commands (its identity).
constexpr std::string_view kLaunch = R"(: "${XDG_CONFIG_HOME:=$s/config}" "${XDG_DATA_HOME:=$s/data}" "${XDG_STATE_HOME:=$s/state}"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_STATE_HOME" || exit 1
if [ -e "$HOME/.config/git" ] && [ ! -e "$XDG_CONFIG_HOME/git" ]; then ln -s "$HOME/.config/git" "$XDG_CONFIG_HOME/git"; fi
export XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME
)";

class OpenCode final : public AgentsMdRuntime {
public:
    std::string_view name() const override { return kName; }

    Result<Argv> command(const SessionInfo& session, const RuntimeSpec& spec) const override {
        Argv argv = {program(spec, kName)};
        if (session.mode == Mode::Batch) argv.insert(argv.end(), {"run", "--format", "json"});
        if (std::string model = resolve_model(session, spec); !model.empty())
            argv.insert(argv.end(), {"--model", model});
        if (!session.resume_token.empty()) argv.insert(argv.end(), {"--session", session.resume_token});
        std::string text = positional(prompt(session, "AGENTS.md", true));
        if (session.mode == Mode::Stream)
            argv.insert(argv.end(), {"--prompt", text});
        else
            argv.push_back(text);
        return with_launcher(kName, kLaunch, std::move(argv));
    }

    // fracta's settings travel in OPENCODE_CONFIG_CONTENT, which outranks the
    // project's opencode.json and is not a file the agent could commit.
    Env environment(const SessionInfo& session, const RuntimeSpec& spec) const override {
        Env env = Runtime::environment(session, spec);
        std::string url = mcp_url(session.gateway_url, session.task);
        Json config = {{"$schema", "https://opencode.ai/config.json"},
                       {"permission", permissions(spec, session.mode, !url.empty())},
                       {"agent", {{"title", {{"disable", true}}}}},
                       {"share", "disabled"},
                       {"autoupdate", false}};
        if (!url.empty()) {
            config["mcp"] = {{"fracta",
                              {{"type", "remote"},
                               {"url", url},
                               {"headers", {{"Authorization", "Bearer {env:FRACTA_GATEWAY_TOKEN}"}}}}}};
        }
        if (!spec.base_url.empty()) {
            std::string model = resolve_model(session, spec);
            size_t slash = model.find('/');
            std::string provider = slash == std::string::npos ? "anthropic" : model.substr(0, slash);
            config["provider"] = {{provider, {{"options", {{"baseURL", spec.base_url}}}}}};
        }
        env["OPENCODE_CONFIG_CONTENT"] = to_line(config);
        // What the user's home would otherwise add: Claude Code's CLAUDE.md
        // and skills, skills of other agents, self-updates.
        env["OPENCODE_DISABLE_CLAUDE_CODE"] = "1";
        env["OPENCODE_DISABLE_EXTERNAL_SKILLS"] = "1";
        env["OPENCODE_DISABLE_AUTOUPDATE"] = "1";
        for (const char* key : {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"}) env.emplace(key, "");
        return env;
    }

protected:
    // Every event carries sessionID (the resume token). Text parts of one
    // message are joined; a later message's text replaces an earlier one's,
    // so the answer is the last message. Any error event fails the run, even
    // with exit status 0. step_finish parts add up to the usage; tool parts
    // refused by the permission rules are the denied tools.
    RunResult parse_batch(int exit_code, std::string_view output) const override {
        RunResult r;
        std::string text, message_id, failure;
        auto events = json_lines(output);
        for (const auto& event : events) {
            auto part = event.find("part");
            bool has_part = part != event.end() && part->is_object();
            std::string session = str(event, "sessionID");
            if (session.empty() && has_part) session = str(*part, "sessionID");
            if (!session.empty()) r.resume_token = session;

            std::string type = str(event, "type");
            if (type == "text" && has_part) {
                std::string id = str(*part, "messageID");
                if (id != message_id || id.empty()) text.clear();
                if (!text.empty()) text += "\n";
                text += str(*part, "text");
                message_id = id;
            } else if (type == "error") {
                failure = error_message(event);
            } else if (type == "step_finish" && has_part) {
                add_step(r.usage, *part);
            } else if (type == "tool_use" && has_part) {
                if (auto denied = denial(*part)) r.denied.push_back(std::move(*denied));
            }
        }
        r.text = tail_text(text);
        std::string error;
        if (!failure.empty())
            error = one_line(failure);
        else if (events.empty())
            error = "opencode output has no JSON events";
        else if (r.resume_token.empty())
            error = "opencode output names no sessionID";
        return settle(std::move(r), kName, exit_code, output, std::move(error));
    }
};

}  // namespace

const Runtime& opencode() {
    return instance_of<OpenCode>();
}

}  // namespace fracta::runtime::detail
