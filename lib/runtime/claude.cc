// claude.cc — the Claude Code runtime: CLAUDE.md, .mcp.json and fracta's
// settings under .claude/; `claude -p … --output-format json` in batch, the
// interactive `claude` in stream; reading its one JSON result object.
#include <algorithm>

#include "runtime/common.h"

namespace fracta::runtime::detail {
namespace {

constexpr std::string_view kName = "claude";

bool is_result_object(const Json& object) {
    auto type = object.find("type");
    if (type != object.end()) return type->is_string() && *type == "result";
    return object.contains("result") || object.contains("session_id") || object.contains("is_error");
}

// The last result object in the output: one per line (single-line JSON, the
// last line of stream-json), or a pretty-printed one that starts on a line of
// its own. Noise before and after is ignored.
bool find_result(std::string_view output, Json& found) {
    size_t end = output.size();
    while (end > 0) {
        size_t start = output.rfind('\n', end - 1);
        start = start == std::string_view::npos ? 0 : start + 1;
        std::string_view line = output.substr(start, end - start);
        end = start == 0 ? 0 : start - 1;
        size_t first = line.find_first_not_of(" \t\r");
        if (first == std::string_view::npos || line[first] != '{') continue;
        Json value = Json::parse(line.begin() + first, line.end(), nullptr, false);
        if (value.is_discarded() && line.find_last_not_of(" \t\r") == first) {
            std::string_view rest = output.substr(start + first);  // "{" alone: a multi-line object
            value = Json::parse(rest.begin(), rest.end(), nullptr, false);
        }
        if (!value.is_discarded() && value.is_object() && is_result_object(value)) {
            found = std::move(value);
            return true;
        }
    }
    return false;
}

// usage.{input_tokens, cache_creation_input_tokens, cache_read_input_tokens,
// output_tokens}, total_cost_usd and num_turns of the result object.
Usage usage(const Json& result) {
    Usage u;
    u.turns = integer(result, "num_turns");
    u.cost_usd = number(result, "total_cost_usd");
    if (auto tokens = result.find("usage"); tokens != result.end() && tokens->is_object()) {
        u.input_tokens = add(add(integer(*tokens, "input_tokens"), integer(*tokens, "cache_creation_input_tokens")),
                             integer(*tokens, "cache_read_input_tokens"));
        u.output_tokens = integer(*tokens, "output_tokens");
    }
    return u;
}

// permission_denials: [{tool_name, tool_use_id, tool_input}] — every call
// the CLI refused (batch: whatever would have needed a person to approve).
std::vector<DeniedTool> denials(const Json& result) {
    std::vector<DeniedTool> out;
    auto list = result.find("permission_denials");
    if (list == result.end() || !list->is_array()) return out;
    for (const auto& d : *list) {
        DeniedTool t{str(d, "tool_name"), "", str(d, "tool_use_id")};
        if (auto input = d.find("tool_input"); d.is_object() && input != d.end()) t.input = to_line(*input);
        if (!t.tool.empty()) out.push_back(std::move(t));
    }
    return out;
}

// fracta's own settings for the session, passed with --settings (the
// command line's settings source): the allow list. Project settings
// (.claude/settings.json) would not do: Claude Code ignores their allow
// rules in a workspace nobody has trusted, which a fresh worktree is.
constexpr const char* kSettings = ".claude/fracta-settings.json";
// The same plus an apiKeyHelper reading FRACTA_ANTHROPIC_API_KEY, for the
// interactive CLI (see stream_wrapper).
constexpr const char* kKeySettings = ".claude/fracta-key-settings.json";

// Interactive claude asks on screen whether to use an ANTHROPIC_API_KEY it
// finds in its environment, and nobody is there to answer; a key from an
// apiKeyHelper is used without asking. So when a key is set, this moves it
// to FRACTA_ANTHROPIC_API_KEY and starts claude with the settings naming
// the helper; without one, the user's own login is used as it is. Run as
// `sh -c SCRIPT claude ARGS…`.
std::string stream_wrapper() {
    return std::string("if [ -n \"${ANTHROPIC_API_KEY:-}\" ]; then") +
           " FRACTA_ANTHROPIC_API_KEY=$ANTHROPIC_API_KEY; export FRACTA_ANTHROPIC_API_KEY; unset ANTHROPIC_API_KEY;" +
           " s=" + kKeySettings + "; else s=" + kSettings + "; fi; exec \"$0\" --settings \"$s\" \"$@\"";
}

class Claude final : public Runtime {
public:
    std::string_view name() const override { return kName; }
    bool supports_resume() const override { return true; }

    Files workspace_files(const SessionInfo& session, const RuntimeSpec& spec) const override {
        Files files;
        files["CLAUDE.md"] = instructions(session);

        std::string url = mcp_url(session.gateway_url, session.task);
        Json settings = {{"permissions", {{"allow", allow_list(spec, !url.empty())}}}};
        files[kSettings] = json_file(settings);
        if (session.mode == Mode::Stream) {
            settings["apiKeyHelper"] = "printenv FRACTA_ANTHROPIC_API_KEY";
            files[kKeySettings] = json_file(settings);
        }
        if (!url.empty()) {
            Json server = {{"type", "http"},
                           {"url", url},
                           {"headers", {{"Authorization", "Bearer ${FRACTA_GATEWAY_TOKEN}"}}}};
            files[".mcp.json"] = json_file({{"mcpServers", {{"fracta", server}}}});
        }
        return files;
    }

    // By default edits inside the worktree are accepted (acceptEdits) and
    // Bash is allowed; with project.allowed_tools set, exactly what it names
    // (dontAsk). Everything else would need a person: denied in batch
    // (--permission-prompts none), asked on screen in stream. Only the project's own settings are read (never the user's
    // hooks, permissions or env), and only fracta's MCP server
    // (--strict-mcp-config: none of the user's).
    Result<Argv> command(const SessionInfo& session, const RuntimeSpec& spec) const override {
        const bool stream = session.mode == Mode::Stream;
        Argv argv;
        if (stream) argv = {"/bin/sh", "-c", stream_wrapper()};
        argv.push_back(program(spec, kName));
        if (!session.resume_token.empty()) argv.insert(argv.end(), {"-r", session.resume_token});
        // The prompt comes early: --mcp-config takes every word after it.
        std::string text = positional(prompt(session, "CLAUDE.md", false));
        if (stream) argv.push_back(text);
        else argv.insert(argv.end(), {"-p", text, "--output-format", "json", "--settings", kSettings});
        argv.insert(argv.end(), {"--permission-mode", spec.allowed_tools.empty() ? "acceptEdits" : "dontAsk"});
        if (!stream) argv.insert(argv.end(), {"--permission-prompts", "none"});
        argv.insert(argv.end(), {"--setting-sources", "project", "--strict-mcp-config"});
        if (!mcp_url(session.gateway_url, session.task).empty()) argv.insert(argv.end(), {"--mcp-config", ".mcp.json"});
        if (std::string model = resolve_model(session, spec); !model.empty()) argv.insert(argv.end(), {"--model", model});
        return argv;
    }

    // Claude Code's defaults that fracta changes, before the configured env
    // (which may change them back): MCP tools offered to the model up front
    // rather than behind its tool search, no self-update of a CLI fracta
    // runs; in stream mode the worktree counts as trusted (fracta made it
    // from the user's own repository), so no trust dialog blocks the TUI.
    Env environment(const SessionInfo& session, const RuntimeSpec& spec) const override {
        Env env = {{"ENABLE_TOOL_SEARCH", "false"}, {"DISABLE_AUTOUPDATER", "1"}};
        if (session.mode == Mode::Stream) env["CLAUDE_CODE_SANDBOXED"] = "1";
        for (const auto& [k, v] : Runtime::environment(session, spec)) env[k] = v;
        return env;
    }

private:
    // project.allowed_tools, else Bash (the contract must run); then the
    // fracta tools. Read-only tools and edits inside the worktree need no
    // rule.
    static Json allow_list(const RuntimeSpec& spec, bool gateway) {
        Json allow = Json::array();
        auto add = [&](const std::string& tool) {
            if (!tool.empty() && std::find(allow.begin(), allow.end(), tool) == allow.end()) allow.push_back(tool);
        };
        if (spec.allowed_tools.empty()) add("Bash");
        for (const auto& tool : spec.allowed_tools) add(tool);
        if (gateway) add("mcp__fracta__*");
        return allow;
    }

protected:
    RunResult parse_batch(int exit_code, std::string_view output) const override {
        RunResult r;
        Json result;
        if (!find_result(output, result)) {
            r.text = tail_text(output);
            r.error = exit_code != 0 ? exit_reason(kName, exit_code) + " without a result object"
                                     : "claude output has no result object";
            return r;
        }
        r.resume_token = str(result, "session_id");
        r.usage = usage(result);
        r.denied = denials(result);
        std::string text = str(result, "result");
        r.text = tail_text(text);
        auto is_error = result.find("is_error");
        std::string error;
        if (is_error != result.end() && is_error->is_boolean() && is_error->get<bool>()) {
            std::string why = one_line(text);
            if (why.empty()) why = str(result, "subtype");
            error = "claude reported an error" + (why.empty() ? std::string() : ": " + why);
        }
        return settle(std::move(r), kName, exit_code, output, std::move(error));
    }
};

}  // namespace

const Runtime& claude() {
    return instance_of<Claude>();
}

}  // namespace fracta::runtime::detail
