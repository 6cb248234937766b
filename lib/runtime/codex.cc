// codex.cc — the OpenAI Codex CLI runtime: AGENTS.md, then `-c` overrides
// (sandbox, MCP server, model provider) and a CODEX_HOME of the session's
// own; `codex exec --json …` in batch, the interactive `codex` in stream;
// reading the JSONL events of `exec --json`.
#include <cstdio>

#include "runtime/common.h"

namespace fracta::runtime::detail {
namespace {

constexpr std::string_view kName = "codex";

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string toml_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\t': out += "\\t"; break;
            case '\n': out += "\\n"; break;
            case '\f': out += "\\f"; break;
            case '\r': out += "\\r"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(static_cast<unsigned char>(c)));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

// turn.completed carries the turn's usage: {input_tokens (cached ones
// included), cached_input_tokens, output_tokens, reasoning_output_tokens}.
// Codex reports no cost.
void add_usage(Usage& u, const Json& turn_completed) {
    u.turns = add(u.turns, int64_t{1});
    auto usage = turn_completed.find("usage");
    if (usage == turn_completed.end() || !usage->is_object()) return;
    u.input_tokens = add(u.input_tokens, integer(*usage, "input_tokens"));
    u.output_tokens = add(u.output_tokens, integer(*usage, "output_tokens"));
}

// Whether the allowed tools let the agent change files: Codex has no
// per-tool permissions, only sandboxes, so any editing or shell tool means
// the workspace-write sandbox and none means read-only.
bool may_write(const RuntimeSpec& spec) {
    const auto& tools = spec.allowed_tools.empty() ? default_allowed_tools() : spec.allowed_tools;
    for (const std::string& t : tools)
        if (t == "Edit" || t == "Write" || t == "MultiEdit" || t == "Bash" || t.rfind("Bash(", 0) == 0) return true;
    return false;
}

// The launcher's part: CODEX_HOME (unless configured) and TMPDIR in the
// session's own directory, so nothing of ~/.codex steers the agent; the
// sandbox's writable roots beyond the workspace — that TMPDIR and what `git
// commit` in a worktree writes (the objects, refs and logs of the common git
// directory, and the worktree's own git directory, not hooks or config); and
// the workspace trusted, and the repository it is a worktree of, which is
// what Codex looks up for a worktree (else the interactive CLI stops at a
// trust dialog).
// The paths go into TOML literal strings, which cannot hold a quote.
constexpr std::string_view kLaunch = R"(: "${CODEX_HOME:=$s/home}"
TMPDIR=$s/tmp
mkdir -p "$CODEX_HOME" "$TMPDIR" || exit 1
export CODEX_HOME TMPDIR
w=$(pwd -P)
r="'$TMPDIR'" t="'$w'={trust_level='trusted'}"
if c=$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null) &&
   g=$(git rev-parse --path-format=absolute --git-dir 2>/dev/null); then
  r="$r,'$c/objects','$c/refs','$c/logs','$g'"
  m=$(cd "$c/.." && pwd -P) && [ "$m" != "$w" ] && t="$t,'$m'={trust_level='trusted'}"
fi
case $w$TMPDIR${c-}${g-}${m-} in *"'"*) echo "fracta: codex: a path holds a single quote: $w" >&2; exit 2 ;; esac
p=$1; shift
set -- "$p" -c "sandbox_workspace_write.writable_roots=[$r]" -c "projects={$t}" "$@"
)";

class Codex final : public AgentsMdRuntime {
public:
    std::string_view name() const override { return kName; }

    // Everything else is `-c` overrides, which outrank every config file.
    Result<Argv> command(const SessionInfo& session, const RuntimeSpec& spec) const override {
        const bool batch = session.mode == Mode::Batch;
        Argv argv = {program(spec, kName)};
        auto set = [&](const std::string& key, const std::string& value) {
            argv.insert(argv.end(), {"-c", key + "=" + value});
        };
        set("sandbox_mode", may_write(spec) ? "\"workspace-write\"" : "\"read-only\"");
        set("sandbox_workspace_write.network_access", "true");
        set("sandbox_workspace_write.exclude_slash_tmp", "true");
        set("sandbox_workspace_write.exclude_tmpdir_env_var", "true");
        set("approval_policy", batch ? "\"never\"" : "\"on-request\"");
        set("check_for_update_on_startup", "false");
        if (std::string url = mcp_url(session.gateway_url, session.task); !url.empty()) {
            set("mcp_servers.fracta.url", toml_string(url));
            set("mcp_servers.fracta.bearer_token_env_var", "\"FRACTA_GATEWAY_TOKEN\"");
            // fracta's tools are the agent's to call (the gateway's
            // tool_policy is what limits them); Codex would otherwise ask,
            // and in batch nobody answers.
            set("mcp_servers.fracta.default_tools_approval_mode", "\"approve\"");
        }
        if (!spec.base_url.empty()) {
            set("model_providers.fracta", "{name=\"fracta\",base_url=" + toml_string(spec.base_url) +
                                              ",env_key=\"OPENAI_API_KEY\",wire_api=\"responses\"}");
            set("model_provider", "\"fracta\"");
        }
        if (batch) argv.push_back("exec");
        if (!session.resume_token.empty()) argv.insert(argv.end(), {"resume", session.resume_token});
        if (batch)
            argv.insert(argv.end(), {"--json", "--skip-git-repo-check"});
        else
            argv.insert(argv.end(), {"--no-alt-screen", "--no-daemon"});
        if (std::string model = resolve_model(session, spec); !model.empty())
            argv.insert(argv.end(), {"--model", model});
        argv.push_back(positional(prompt(session, "AGENTS.md", true)));
        return with_launcher(kName, kLaunch, std::move(argv));
    }

    // A CODEX_HOME inherited from whoever started fracta is cleared (the
    // launcher then picks the session's own); a configured one is kept.
    Env environment(const SessionInfo& session, const RuntimeSpec& spec) const override {
        Env env = Runtime::environment(session, spec);
        env.emplace("CODEX_HOME", "");
        return env;
    }

protected:
    // thread.started names the thread (the resume token); item.completed
    // agent_message items carry the answer (the last one wins); the turn ends
    // with turn.completed or turn.failed; error events carry a message (a
    // later turn.completed outranks them: codex reports retries that way).
    // Refused calls leave no trace here: codex exec answers the model itself
    // ("approval policy is Never; reject command", a sandbox's read-only
    // file system) and reports no item for them, so a codex run has no
    // denied tools to report.
    RunResult parse_batch(int exit_code, std::string_view output) const override {
        RunResult r;
        std::string message, failure;
        bool completed = false, failed = false;
        auto events = json_lines(output);
        for (const auto& event : events) {
            std::string type = str(event, "type");
            if (type == "thread.started") {
                r.resume_token = str(event, "thread_id");
            } else if (type == "item.completed") {
                auto item = event.find("item");
                if (item != event.end() && str(*item, "type") == "agent_message") message = str(*item, "text");
            } else if (type == "turn.completed") {
                completed = true;
                failed = false;
                add_usage(r.usage, event);
            } else if (type == "turn.failed") {
                failed = true;
                completed = false;
                auto error = event.find("error");
                failure = error != event.end() ? str(*error, "message") : "";
                if (failure.empty()) failure = "codex turn failed";
            } else if (type == "error") {
                failure = str(event, "message");
                if (failure.empty()) failure = "codex reported an error";
            }
        }
        r.text = tail_text(message);
        std::string error;
        if (failed || (!completed && !failure.empty()))
            error = one_line(failure);
        else if (events.empty())
            error = "codex output has no JSON events";
        else if (!completed)
            error = "codex output has no turn.completed event";
        else if (r.resume_token.empty())
            error = "codex output has no thread.started event with a thread_id";
        return settle(std::move(r), kName, exit_code, output, std::move(error));
    }
};

}  // namespace

const Runtime& codex() {
    return instance_of<Codex>();
}

}  // namespace fracta::runtime::detail
