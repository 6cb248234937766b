// settings.h — what the control plane derives from fracta.yaml once: the
// project root, the store, the session provider to drive (runtime.backend),
// and each runtime an agent may ask for (agents.agent_runtimes).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "runtime/runtime.h"

namespace fracta::cp {

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

// `self_dir` is where this binary lives: sibling providers are found there
// first, then on PATH.
Result<Settings> make_settings(config::Config config, const std::string& self_dir);

// The runtime named by a spawn request (empty: agents.default_runtime). An
// unknown name is a usage error listing the known ones.
Result<RuntimeChoice> choose_runtime(const config::Config& config, const std::string& name);

// The directory of the running executable ("" when unknown).
std::string self_dir();

}  // namespace fracta::cp
