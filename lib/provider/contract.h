// contract.h — the session contract (spec: exec-provider.md) on the
// provider's side, once for every backend: the start request, the op table
// (name, arity, what stdin carries, how the answer is printed, help), the
// checks of names and arguments, the output encoding (`true`/`false`, JSON
// lines, exit 2 for what a backend does not do) and run_provider(), which
// turns one command line into one call of a SessionBackend.
//
// fracta-spawn-local (local.h) and fracta-spawn-k8s (k8s.h) are the two
// backends; each main builds its backend and calls run_provider().
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/cli.h"
#include "base/json.h"
#include "base/result.h"
#include "base/tool.h"

namespace fracta::provider {

// --- the start JSON: Gas City's keys plus fracta's additions ---------------

struct CopyFile {
    std::string src, rel_dst;
};

struct GitSpec {
    std::string repo;
    std::string base;    // empty: the repo's current branch
    std::string branch;  // empty: feature/<name>
};

// A variable the session reads from a Kubernetes Secret's key (fracta-spawn-k8s only).
struct SecretRef {
    std::string secret, key;
};

struct StartRequest {
    // Gas City
    std::string work_dir;
    std::string command;  // a shell command line; empty: an interactive shell
    std::map<std::string, std::string> env;
    std::vector<std::string> process_names;
    std::string nudge;
    std::string ready_prompt_prefix;
    long long ready_delay_ms = 0;
    std::vector<std::string> pre_start, session_setup, session_live;
    std::string session_setup_script;
    std::vector<std::string> pack_overlay_dirs;
    std::string overlay_dir;
    std::vector<CopyFile> copy_files;
    // fracta
    std::string mode = "batch";  // batch | stream (absent: the provider's default)
    std::map<std::string, std::string> workspace_files;
    std::optional<GitSpec> git;
    std::map<std::string, std::string> secret_env;
    std::map<std::string, SecretRef> secret_refs;
    // How a nudge empties the input line and submits (tmux key names; the
    // runtime's, from fracta.yaml). Empty: the supervisor's defaults.
    std::vector<std::string> clear_keys, submit_keys;
    Json kubernetes;  // per-session overrides, for fracta-spawn-k8s
};

// Checks types, the mode, and every workspace file path (no absolute paths,
// no ".."): all usage errors, found before anything is written. Unknown keys
// are ignored. A request without "mode" (Gas City's never has one) gets
// `default_mode`. (start_request.cc)
Result<StartRequest> parse_start_request(const Json& json, const std::string& default_mode = "batch");

// --- the ops ---------------------------------------------------------------

enum class Input {
    None,
    Text,       // the payload (nudge text, a meta value, process names), at most 1 MiB
    StartJson,  // the start JSON, parsed (blank: refused)
};

enum class Output {
    None,   // nothing, or what the backend streams itself (logs)
    Bool,   // "true\n" or "false\n"
    Text,   // as it is (peek, get-meta)
    Line,   // one line, or nothing when empty (get-last-activity)
    Names,  // one name a line (list-running)
    Json,   // one compact JSON line (status, list, wait)
};

// One op as run_provider() received it.
struct OpCall {
    std::string op;
    std::vector<std::string> args;  // after the op; args[0] is NAME for named ops
    std::string text;               // Input::Text, trailing newlines kept
    StartRequest request;           // Input::StartJson
};

// What an op answered, printed by its row's Output.
struct Answer {
    bool flag = false;
    std::string text;
    std::vector<std::string> names;
    Json json;
    int exit = 0;  // the process exit status (attach and supervise: the session's)
};

class SessionBackend;
using OpHandler = Result<Answer> (*)(SessionBackend&, const OpCall&, Io&);

struct Op {
    std::string name;
    std::string args;     // its usage after the name, "NAME KEY" (for help and usage errors)
    size_t min_args = 1;  // words needed after the op
    bool named = true;    // args[0] is a session name, checked by the backend
    Input input = Input::None;
    Output output = Output::None;
    std::string help;
    OpHandler handler = nullptr;
    Status (*check)(const std::vector<std::string>& args) = nullptr;  // argument checks before any input is read
};

// The contract's ops, in help order, with their help as fracta-spawn-local
// gives it.
const std::vector<Op>& contract_ops();

// A backend's table: the contract's ops but `without`, each `reworded` row
// giving its own usage and help for the contract's op of that name, then the
// backend's `extra` rows.
struct OpText {
    std::string name, args, help;
};
std::vector<Op> ops_table(const std::vector<std::string>& without, const std::vector<OpText>& reworded,
                          const std::vector<Op>& extra);

// The tool (base/tool.h) of a provider binary: "Run sessions as <what> (a
// Gas City session provider: GC_SESSION=exec:<name>).", the global options
// and the ops of the backend's table; `failed` says what exit 1 means. Each
// run makes its backend from the parsed options with `make`.
using BackendMaker = std::function<Result<std::unique_ptr<SessionBackend>>(const cli::Args& options)>;
Tool provider_tool(cli::Command command, const std::string& what, OpStyle style, const std::vector<Op>& ops,
                   const std::string& failed, BackendMaker make);

// A session provider: what each contract op does. Every op with a NAME is
// called with a name check_name() accepted and arguments the table checked.
class SessionBackend {
public:
    virtual ~SessionBackend() = default;

    virtual const std::vector<Op>& ops() const = 0;
    virtual Status check_name(const std::string& name) const = 0;
    virtual std::string default_mode() const { return "batch"; }  // a start JSON without "mode"

    virtual Status start(const std::string& name, const StartRequest& request, Io& io) = 0;
    virtual Status stop(const std::string& name) = 0;  // idempotent
    virtual Status interrupt(const std::string& name) = 0;
    virtual Result<Json> status(const std::string& name) = 0;
    // starting | running | exited | lost | absent; by default status()'s.
    virtual Result<std::string> state(const std::string& name);
    virtual Result<std::vector<Json>> list(const std::string& prefix) = 0;  // status objects, by name
    virtual Result<Json> wait(const std::string& name, std::chrono::seconds timeout) = 0;
    // Print the status object of every session starting with `prefix` (one
    // JSON line each), then {"synced":true}, then a line for each session
    // whose state changes, until io.hangup_fd says the reader went away. One
    // of these serves a whole control plane (no process per session).
    virtual Status watch(const std::string& prefix, Io& io);
    virtual Result<bool> process_alive(const std::string& name, const std::vector<std::string>& processes) = 0;
    // `text` without its trailing newlines and never empty; `options`: the
    // words after NAME.
    virtual Status nudge(const std::string& name, const std::string& text, const std::vector<std::string>& options,
                         Io& io) = 0;
    virtual Status send_keys(const std::string& name, const std::vector<std::string>& keys) = 0;
    virtual Result<std::string> peek(const std::string& name, long lines) = 0;
    virtual Status logs(const std::string& name, bool follow, Io& io) = 0;
    virtual Result<std::string> last_activity(const std::string& name) = 0;  // "" when unknown
    virtual Result<std::string> get_meta(const std::string& name, const std::string& key) = 0;
    virtual Status set_meta(const std::string& name, const std::string& key, const std::string& value) = 0;
    virtual Status remove_meta(const std::string& name, const std::string& key) = 0;
    virtual Status clear_scrollback(const std::string& name) = 0;
    // `src` exists; `rel_dst` is empty or a checked relative path.
    virtual Status copy_to(const std::string& name, const std::string& src, const std::string& rel_dst) = 0;
    // Connect this terminal to the session's; the session's exit status.
    virtual Result<int> attach(const std::string& name, const std::vector<std::string>& options);
    // The backend's own ops (its `extra` rows).
    virtual Result<Answer> extra(const OpCall& call, Io& io);
};

// Run one op: the exit status of the process (0; 2 for an op the backend
// does not do, as an Unsupported error; the session's for attach and
// supervise). Errors are the op's, for main to report.
Result<int> run_provider(const std::string& op, const std::vector<std::string>& args, SessionBackend& backend, Io& io);

// Whether the reader of a streaming op's output (watch, logs --follow) went
// away: io.hangup_fd reports an error or a hang-up.
bool reader_gone(const Io& io);

// For the backends' `extra` rows.
Result<Answer> run_extra(SessionBackend& backend, const OpCall& call, Io& io);

}  // namespace fracta::provider
