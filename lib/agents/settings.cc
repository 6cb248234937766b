#include "agents/settings.h"

#include <filesystem>

#include "config/siblings.h"
#include "git/git.h"

namespace fracta::agents {
namespace {

namespace fs = std::filesystem;

// A sibling binary (config/siblings.h), else its bare name: the provider's
// exec then reports it missing.
std::string sibling(const std::string& name) {
    auto found = config::find_sibling(name);
    return found.ok() ? *found : name;
}

}  // namespace

Result<Settings> make_settings(config::Config config) {
    Settings s;
    s.root = config.root.empty() ? fs::current_path().string() : config.root;
    config.root = s.root;
    s.store_url = config::state_store_url(config);
    s.in_git = git::toplevel(s.root).ok();
    const std::string& backend = config.backend;
    if (backend == "local") {
        s.provider_argv = {sibling("fracta-spawn-local")};
        s.provider_env["FRACTA_STATE_DIR"] = s.root + "/.fracta/sessions";
    } else if (backend == "kubernetes") {
        // The provider reads runtime.kubernetes itself (image, namespace,
        // kubeconfig, context, …) from the file we were started with.
        s.provider_argv = {sibling("fracta-spawn-k8s")};
        if (!config.file.empty())
            s.provider_argv.insert(s.provider_argv.end(), {"--config", fs::absolute(config.file).string()});
    } else if (backend.rfind("exec:", 0) == 0 && backend.size() > 5) {
        std::string path = backend.substr(5);
        if (fs::path(path).is_relative() && path.find('/') != std::string::npos) path = s.root + "/" + path;
        s.provider_argv = {path};
        s.provider_makes_worktrees = false;
    } else {
        return usage_error("runtime.backend: must be local, kubernetes or exec:/path (got \"" + backend + "\")");
    }
    if (!config.default_runtime.empty()) FRACTA_TRY(choose_runtime(config, config.default_runtime));
    s.config = std::move(config);
    return s;
}

Result<RuntimeChoice> choose_runtime(const config::Config& config, const std::string& requested) {
    const std::string name = requested.empty() ? config.default_runtime : requested;
    RuntimeChoice choice;
    std::string adapter = name;
    auto configured = config.agent_runtimes.find(name);
    if (configured != config.agent_runtimes.end()) {
        const config::AgentRuntime& rt = configured->second;
        if (!rt.adapter.empty()) adapter = rt.adapter;
        choice.spec.program = rt.program;
        choice.spec.model = rt.model;
        choice.spec.model_tiers = rt.model_tiers;
        choice.spec.env = rt.env;
        choice.spec.base_url = rt.base_url;
        if (auto profile = config.credentials.find(rt.credentials); profile != config.credentials.end())
            choice.secrets = profile->second;
        for (const auto& [name, source] : rt.secret_env) choice.secrets[name] = source;
    }
    choice.spec.allowed_tools = config.allowed_tools;
    auto found = runtime::find_runtime(adapter);
    if (!found.ok()) {
        std::string known;
        for (const auto& n : runtime::runtime_names()) known += (known.empty() ? "" : ", ") + n;
        for (const auto& [n, rt] : config.agent_runtimes)
            if (!runtime::find_runtime(n).ok()) known += ", " + n;
        return usage_error("unknown runtime \"" + name + "\" (known: " + known + ")");
    }
    choice.runtime = *found;
    return choice;
}

}  // namespace fracta::agents
