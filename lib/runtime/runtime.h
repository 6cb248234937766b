// runtime.h — the agent runtimes (claude, codex, opencode, shell) as pure
// rendering and parsing: no files, no processes, no environment reads.
//
// For one session a Runtime tells the caller (a control-plane worker, a
// provider) what to write into the workspace, which argv to run there, which
// environment to add, and — once the process has exited — how to read its
// output into success, a last_output tail and a resume token.
//
// Modes. `batch` runs the runtime headless to completion on the contract and
// parses its machine output (claude JSON, codex JSONL, opencode NDJSON, shell
// plain text). `stream` starts it interactive, meant for a pty whose input is
// the `say`/nudge channel: claude, codex and opencode open their TUI with the
// contract prompt as the first message; shell runs the contract with stdin
// kept open (an empty contract is a plain `sh` reading commands). A stream
// transcript is plain text: parse() reports exit 0 as success, the
// transcript's tail (escape sequences removed) as text, and no resume token.
//
// Secrets. The agent's gateway token never passes through this module: the
// files, arguments and variables rendered here reference it by name
// (`${FRACTA_GATEWAY_TOKEN}`, `{env:…}`, `bearer_token_env_var`) and the
// caller adds FRACTA_GATEWAY_TOKEN to the environment it starts the process
// with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace fracta::runtime {

using Files = std::map<std::string, std::string>;  // workspace-relative path → content
using Env = std::map<std::string, std::string>;
using Argv = std::vector<std::string>;

enum class Mode { Batch, Stream };

Result<Mode> parse_mode(std::string_view name);  // "batch" | "stream", else a usage error
std::string_view mode_name(Mode mode);

// What fracta.yaml says about a runtime (agents.agent_runtimes.<name>) plus
// project.allowed_tools, resolved by the caller.
struct RuntimeSpec {
    std::string program;                           // executable to run; empty → the runtime's own name
    std::string model;                             // default model; empty → the CLI's default
    std::map<std::string, std::string> model_tiers;  // heavy|medium|light → model
    Env env;                                       // configured additions to the environment
    // The model endpoint (a gateway of the user's), given to the CLI as it
    // expects it: claude ANTHROPIC_BASE_URL, opencode ANTHROPIC_BASE_URL and
    // OPENAI_BASE_URL (the model's provider picks its own) and the baseURL
    // of that provider in its config, codex OPENAI_BASE_URL and a model
    // provider of its own. Verbatim: Claude Code appends /v1/messages
    // itself, the others expect the /v1 in it. Empty: the CLI's default.
    std::string base_url;
    std::vector<std::string> allowed_tools;        // project.allowed_tools (Claude-style names)
};

// One session of one agent.
struct SessionInfo {
    std::string task;
    std::string contract;      // the instructions; may be empty
    std::string base_branch;   // may be empty
    std::string gateway_url;   // gateway base, e.g. http://127.0.0.1:8080; empty → no MCP config
    Mode mode = Mode::Batch;
    std::string model;         // SpawnRequest.model; wins over tier and RuntimeSpec.model
    std::string tier;          // SpawnRequest.tier, looked up in RuntimeSpec.model_tiers
    std::string resume_token;  // continue this conversation (runtimes that support resume)
    std::string prompt;        // overrides the default prompt (e.g. a follow-up message)
};

// A tool call the CLI's own permission system refused (the model asked, the
// CLI said no): an `agent.tool_denied` event each.
struct DeniedTool {
    std::string tool;   // the CLI's name for it: Bash, Write, mcp__fracta__…, bash, edit
    std::string input;  // what the model asked for, compact JSON; may be empty
    std::string id;     // the CLI's id of the call; may be empty
};

// What the run cost, as far as the CLI reported it (absent: it did not).
// input_tokens counts every prompt token the model read, cached or not, so
// the runtimes compare: claude's input + cache creation + cache reads,
// codex's input_tokens (which include the cached ones), opencode's input +
// cache reads and writes. turns are the CLI's own count: claude's
// num_turns and opencode's steps (model requests), codex's turns.
struct Usage {
    std::optional<int64_t> turns, input_tokens, output_tokens;
    std::optional<double> cost_usd;
};

struct RunResult {
    bool success = false;
    std::string text;          // the final answer, else the output's tail; ≤ kMaxOutputTail bytes
    std::string resume_token;  // the runtime's session id; empty when the output named none
    std::string error;         // one line, why it failed; empty on success
    Usage usage;
    std::vector<DeniedTool> denied;  // in the order the CLI reported them
};

inline constexpr size_t kMaxOutputTail = 4096;

class Runtime {
public:
    virtual ~Runtime() = default;

    virtual std::string_view name() const = 0;
    virtual bool supports_resume() const = 0;

    // Files to write into the workspace before starting. MCP configuration is
    // left out when the session has no gateway URL.
    virtual Files workspace_files(const SessionInfo& session, const RuntimeSpec& spec) const = 0;

    // argv[0] is executable(), or /bin/sh running a launcher that ends by
    // running it. A usage error when the session cannot run (shell batch
    // with an empty contract).
    virtual Result<Argv> command(const SessionInfo& session, const RuntimeSpec& spec) const = 0;

    // The program the session runs, to be looked up on PATH (a spawn is
    // refused without it): RuntimeSpec::program, else the runtime's CLI.
    virtual std::string executable(const RuntimeSpec& spec) const;

    // What to add to the inherited environment: RuntimeSpec::base_url in the
    // CLI's variables, RuntimeSpec::env, then
    // FRACTA_TASK and, with a gateway, FRACTA_GATEWAY_URL (this agent's MCP
    // URL). FRACTA_TASK, FRACTA_GATEWAY_URL and FRACTA_GATEWAY_TOKEN are
    // fracta's: configured values for them are dropped. The caller adds
    // FRACTA_GATEWAY_TOKEN itself.
    virtual Env environment(const SessionInfo& session, const RuntimeSpec& spec) const;

    // Read a finished run: its exit status and everything it wrote (stdout,
    // possibly with stderr noise mixed in).
    RunResult parse(int exit_code, std::string_view output, Mode mode = Mode::Batch) const;

protected:
    virtual RunResult parse_batch(int exit_code, std::string_view output) const = 0;
};

// claude | codex | opencode | shell; anything else is a usage error naming them.
Result<const Runtime*> find_runtime(std::string_view name);
std::vector<std::string> runtime_names();

// The model to pass: the session's model, else its tier's model, else the spec's.
std::string resolve_model(const SessionInfo& session, const RuntimeSpec& spec);

// `<gateway>/agents/<task>/mcp` (trailing slashes of the base dropped); empty
// without a gateway.
std::string mcp_url(std::string_view gateway_url, std::string_view task);

// The end of `text`, at most `max` bytes, starting with "...(truncated)...\n"
// when cut, never starting inside a UTF-8 sequence.
std::string tail_text(std::string_view text, size_t max = kMaxOutputTail);

}  // namespace fracta::runtime
