// start_json.cc — see start_json.h.
#include "cp/start_json.h"

#include "cp/secrets.h"
#include "proc/run.h"

namespace fracta::cp {

using agents::Agent;
using agents::RuntimeChoice;
using agents::Settings;

runtime::SessionInfo session_info(const Settings& settings, const Agent& agent, const Json& payload) {
    runtime::SessionInfo info;
    info.task = agent.name;
    info.contract = agent.contract;
    info.base_branch = agent.base_branch;
    info.gateway_url = settings.config.gateway.url;
    info.mode = agent.mode == "stream" ? runtime::Mode::Stream : runtime::Mode::Batch;
    info.model = agent.model;
    info.resume_token = agent.resume_token;
    if (payload.contains("prompt") && payload["prompt"].is_string()) info.prompt = payload["prompt"].get<std::string>();
    if (payload.contains("tier") && payload["tier"].is_string()) info.tier = payload["tier"].get<std::string>();
    return info;
}

Result<Json> start_json(const Settings& settings, const Agent& agent, const RuntimeChoice& choice, const Json& payload,
                        const std::string& token) {
    const runtime::SessionInfo info = session_info(settings, agent, payload);
    FRACTA_TRY_ASSIGN(read, read_secrets(choice.secrets, settings.root, settings.config.backend == "kubernetes"));
    std::map<std::string, std::string>& secrets = read.values;
    secrets["FRACTA_GATEWAY_TOKEN"] = token;
    Json env = Json::object();
    for (const auto& [k, v] : choice.runtime->environment(info, choice.spec)) env[k] = v;
    for (const auto& [k, v] : agent.env.items())
        if (v.is_string()) env[k] = v;
    Json files = Json::object();
    for (const auto& [path, content] : choice.runtime->workspace_files(info, choice.spec)) files[path] = content;
    auto argv = choice.runtime->command(info, choice.spec);
    Json j = {{"command", proc::shell_quote(*argv)}, {"mode", agent.mode}, {"env", env}};
    // The runtime's own way to clear and submit a nudge, from fracta.yaml.
    const auto& runtimes = settings.config.agent_runtimes;
    if (auto rt = runtimes.find(agent.runtime); rt != runtimes.end()) {
        if (!rt->second.clear_keys.empty()) j["clear_keys"] = rt->second.clear_keys;
        if (!rt->second.submit_keys.empty()) j["submit_keys"] = rt->second.submit_keys;
    }
    if (settings.provider_makes_worktrees) {
        j["workspace_files"] = files;
        j["secret_env"] = secrets;
        for (const auto& [k, ref] : read.refs) j["secret_refs"][k] = {{"secret", ref.secret}, {"key", ref.key}};
        if (settings.in_git) {
            Json git = {{"repo", settings.root}, {"branch", agent.branch}};
            if (!agent.base_branch.empty()) git["base"] = agent.base_branch;
            j["git"] = git;
        } else {
            j["work_dir"] = agent.workspace;
        }
    } else {
        // A Gas City–style provider knows only work_dir and env: we make the
        // worktree and its files ourselves, and the secrets travel in env.
        j["work_dir"] = agent.workspace;
        for (const auto& [k, v] : secrets) j["env"][k] = v;
    }
    return j;
}

}  // namespace fracta::cp
