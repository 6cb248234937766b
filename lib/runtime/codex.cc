// codex.cc — the OpenAI Codex CLI runtime: AGENTS.md and .codex/config.toml;
// `codex exec --json …` in batch, the interactive `codex` in stream; reading
// the JSONL events of `exec --json`.
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

class Codex final : public Runtime {
public:
    std::string_view name() const override { return kName; }
    bool supports_resume() const override { return true; }

    Files workspace_files(const SessionInfo& session, const RuntimeSpec&) const override {
        Files files;
        files["AGENTS.md"] = instructions(session);
        if (std::string url = mcp_url(session.gateway_url, session.task); !url.empty()) {
            files[".codex/config.toml"] =
                "[mcp_servers.fracta]\n"
                "url = " + toml_string(url) + "\n"
                "bearer_token_env_var = " + toml_string("FRACTA_GATEWAY_TOKEN") + "\n";
        }
        return files;
    }

    Result<Argv> command(const SessionInfo& session, const RuntimeSpec& spec) const override {
        Argv argv = {program(spec, kName)};
        if (session.mode == Mode::Batch) argv.push_back("exec");
        if (!session.resume_token.empty()) argv.insert(argv.end(), {"resume", session.resume_token});
        if (session.mode == Mode::Batch) argv.insert(argv.end(), {"--json", "--full-auto", "--skip-git-repo-check"});
        if (std::string model = resolve_model(session, spec); !model.empty())
            argv.insert(argv.end(), {"--model", model});
        argv.push_back(positional(prompt(session, "AGENTS.md", true)));
        return argv;
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
        if (failed || (!completed && !failure.empty()))
            r.error = one_line(failure);
        else if (events.empty())
            r.error = "codex output has no JSON events";
        else if (!completed)
            r.error = "codex output has no turn.completed event";
        else if (r.resume_token.empty())
            r.error = "codex output has no thread.started event with a thread_id";
        else if (exit_code != 0)
            r.error = exit_reason(kName, exit_code);
        else
            r.success = true;
        if (!r.success && r.text.empty()) r.text = tail_text(output);
        return r;
    }
};

}  // namespace

const Runtime& codex() {
    static const Codex instance;
    return instance;
}

}  // namespace fracta::runtime::detail
