// config.h — the fracta.yaml model (spec/config.md): where the file is, what
// it says, and the defaults for what it leaves out.
//
// One loader for every binary. Errors carry file:line:col and the key path
// and are usage errors (exit 100); unknown keys are warnings, so files written
// for newer binaries still load. Sections are modelled as the binaries need
// them; the rest of the document stays available in `document`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/units.h"
#include "config/yaml.h"

namespace fracta::config {

struct State {
    std::string driver = "sqlite";               // sqlite | postgres
    std::string sqlite_path = ".fracta/state.db";  // relative to the project root
    std::string postgres_dsn;
};

struct Logging {
    std::string level = "info";   // debug | info | warn | error
    std::string format = "text";  // text | json
};

// reaper.*: what a reap pass (fracta-reap) cleans up, and how often fracta-cp runs one.
struct Reaper {
    Duration interval = std::chrono::seconds(30);
    Duration max_age = std::chrono::hours(4);         // live agents older than this are stopped
    Duration keep_terminal = std::chrono::hours(24);  // ended agents are removed after this
};

// Where a secret's value comes from. Read each time a session starts (a
// rotated key is picked up without a reload), by fracta-cp, never written
// anywhere but the session's environment.
struct SecretSource {
    std::string value;    // given in the file (usually `${VAR}`, expanded at load)
    std::string env;      // read from fracta-cp's environment
    std::string file;     // read from a file (relative: to the project root); a trailing newline dropped
    std::string command;  // `sh -c` in the project root; its stdout, trailing newline dropped
    // A key of a Kubernetes Secret in the agents' namespace: on the
    // kubernetes backend the pod reads it (by secretKeyRef) and fracta-cp
    // never does; elsewhere env, file or command above is the value.
    std::string secret, secret_key;
};
using SecretEnv = std::map<std::string, SecretSource>;  // variable → source

// agents.agent_runtimes.<name>: a built-in runtime's settings, or a runtime
// of the user's own naming built on one (`adapter`).
struct AgentRuntime {
    std::string adapter;  // claude | codex | opencode | shell; empty: the entry's own name
    std::string program;  // executable; empty: the adapter's default
    std::string model;
    std::map<std::string, std::string> model_tiers;  // heavy | medium | light → model
    std::map<std::string, std::string> env;
    std::string base_url;     // the model endpoint (a gateway of the user's); empty: the CLI's own
    SecretEnv secret_env;     // the session's secret variables (API keys)
    std::string credentials;  // a profile of `credentials`, applied before secret_env
    // How a nudge empties the agent's input line and submits it (tmux key
    // names); empty: the provider's defaults (C-u, Enter).
    std::vector<std::string> clear_keys, submit_keys;
    int max_concurrent = 0;  // the most agents of this runtime Running at once (0: no cap of its own)
};

struct Queue {
    int workers = 4;                                     // starts at once per control plane (not running agents)
    Duration lease_timeout = std::chrono::minutes(10);  // a claim not heartbeated this long is lost
    int max_attempts = 3;
    Duration start_timeout = std::chrono::seconds(60);  // budget of one provider `start`
};

// *.tls: the listener serves HTTPS with these PEM files (relative paths:
// to the project root); client_ca_file set: clients need a certificate it signed.
struct TlsFiles {
    std::string cert_file{}, key_file{}, client_ca_file{};
    bool enabled() const { return !cert_file.empty(); }
};

struct Listener {
    std::string listen{}, url{}, token{};
    TlsFiles tls{};
    std::string ca_file{};  // *.ca_file: clients of this listener trust this CA bundle (FRACTA_CA_FILE wins)
    bool insecure_listen = false;  // listen beyond loopback without a strong token (config/exposure.h)
    std::string read_only_token{};  // control_plane_api: a token for reads only (list, get, watch, ...)
    int auth_failures = 20;        // *.auth_rate_limit: failed authentications per
    Duration auth_window = std::chrono::minutes(1);  // client address per window, then 429 (0: no limit)
};

struct Config {
    std::string file;  // the file loaded; empty when running on defaults
    std::string root;  // the directory holding it (the project root)
    std::string backend = "local";  // local | kubernetes | exec:/path
    State state;
    Logging logging;
    std::string default_base_branch;         // project.default_base_branch; empty: the repo's branch
    std::vector<std::string> allowed_tools;  // project.allowed_tools
    std::string default_runtime = "claude";  // agents.default_runtime
    std::string default_mode = "batch";      // agents.default_mode
    std::map<std::string, AgentRuntime> agent_runtimes;
    std::map<std::string, SecretEnv> credentials;  // credentials.<profile>: named sets of secrets
    std::string check;        // project.check: run in the worktree when an agent ends; empty: none
    Duration check_timeout = std::chrono::minutes(10);  // project.check_timeout
    Duration agent_timeout{0};  // agents.timeout: an agent running longer fails (0: no limit)
    bool allow_subagents = true;  // agents.allow_subagents: agents may spawn agents
    int max_depth = 3;            // agents.max_depth: parent chain length of a sub-agent
    int max_children = 5;         // agents.max_children: live children per agent
    std::string objectives_approval = "auto";  // objectives.approval: auto | manual (proposals wait for a person)
    int objectives_breaker = 3;  // objectives.breaker: consecutive failed missions that freeze an objective (0: off)
    Queue queue;
    Reaper reaper;
    int max_concurrent = 0;  // reaper.max_concurrent: cap on Running agents (0: none)
    Listener control_plane{.listen = "127.0.0.1:9090"};                             // control_plane_api
    Listener gateway{.listen = "127.0.0.1:8080", .url = "http://127.0.0.1:8080"};  // gateway (no token)
    yaml::Document document;
    std::vector<std::string> warnings;  // "fracta.yaml:3:1: unknown key \"x\""
};

// FRACTA_CONFIG if set, else the nearest fracta.yaml from `start_dir` upward.
std::optional<std::string> find_file(const std::string& start_dir);

Result<Config> load(const std::string& path, const yaml::EnvLookup& env = yaml::process_env());
Result<Config> parse(std::string_view text, const std::string& file, const yaml::EnvLookup& env = yaml::process_env());

// The store named by runtime.state: "sqlite:/abs/path.db" or the Postgres DSN.
std::string state_store_url(const Config& config);

}  // namespace fracta::config
