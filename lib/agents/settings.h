// settings.h — what the control plane and the reaper derive from fracta.yaml once: the
// project root, the store, the session provider to drive (runtime.backend),
// and each runtime an agent may ask for (agents.agent_runtimes).
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "provider/client.h"
#include "runtime/runtime.h"

namespace fracta::agents {

// A runtime an agent can name: a built-in one, or one configured under
// agents.agent_runtimes (its `adapter` says which built-in it runs on).
struct RuntimeChoice {
    const runtime::Runtime* runtime = nullptr;
    runtime::RuntimeSpec spec;
    config::SecretEnv secrets;  // its credentials profile, then its own secret_env
};

struct Settings {
    config::Config config;
    std::string root;       // the project root: worktrees, sessions and merges happen here
    std::string store_url;  // from runtime.state
    std::vector<std::string> provider_argv;              // the session provider to run
    std::map<std::string, std::string> provider_env;     // added to its environment
    bool in_git = true;  // the root is in a git work tree: agents get worktrees and branches
    bool provider_makes_worktrees = true;  // local: the provider creates the git worktree; exec: we do
};

// Provider ops other than start get the start budget too, when it is
// shorter than their usual 30 s: a hung provider is given up on as quickly
// as the operator asked for.
inline provider::ClientOptions provider_options(const Settings& s) {
    provider::ClientOptions o;
    auto start = std::chrono::duration_cast<std::chrono::milliseconds>(s.config.queue.start_timeout);
    o.op_timeout = std::min(o.op_timeout, start);
    return o;
}

// The provider is a sibling binary (config/siblings.h) for local and
// kubernetes.
Result<Settings> make_settings(config::Config config);

// The runtime named by a spawn request (empty: agents.default_runtime). An
// unknown name is a usage error listing the known ones.
Result<RuntimeChoice> choose_runtime(const config::Config& config, const std::string& name);


}  // namespace fracta::agents
