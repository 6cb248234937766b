#include "cp/spawn.h"

#include "base/units.h"
#include "git/git.h"
#include "proc/run.h"
#include "runtime/reserved_env.h"

namespace fracta::cp {

using agents::Agent;
using agents::Settings;
using agents::choose_runtime;
namespace {

Result<std::string> optional_string(const Json& j, const char* key) {
    if (!j.contains(key) || j[key].is_null()) return std::string();
    if (!j[key].is_string()) return usage_error(std::string(key) + ": must be a string");
    return j[key].get<std::string>();
}

Result<Json> string_object(const Json& j, const char* key) {
    if (!j.contains(key) || j[key].is_null()) return Json::object();
    if (!j[key].is_object()) return usage_error(std::string(key) + ": must be an object of strings");
    for (const auto& [k, v] : j[key].items())
        if (!v.is_string()) return usage_error(std::string(key) + "." + k + ": must be a string");
    return j[key];
}

// A runtime whose program is not there would only fail once started, with
// the shell's "not found" in its output: refuse the spawn instead, naming
// the program. Looked up as the session will (fracta-cp's PATH, unless the
// runtime's or the request's env sets one).
Status find_runtime_program(const std::string& runtime, const std::string& program, const runtime::RuntimeSpec& spec,
                            const Json& request_env) {
    proc::Command c;
    c.argv = {program};
    for (const auto& [k, v] : spec.env) c.env[k] = v;
    for (const auto& [k, v] : request_env.items()) c.env[k] = v.get<std::string>();
    auto found = proc::find_program(c);
    if (found.ok()) return {};
    return usage_error("runtime " + runtime + ": program \"" + program + "\" " +
                       (found.error().kind == ErrorKind::NotFound ? "not found on PATH" : "cannot be run: " +
                                                                            found.error().message));
}

// The request's timeout (a duration; "0": none), else agents.timeout, in ms.
Result<int64_t> agent_timeout(const std::string& requested, const config::Config& config) {
    Duration limit = config.agent_timeout;
    if (!requested.empty() && requested != "0") {
        auto parsed = parse_duration(requested);
        if (!parsed.ok() || parsed->count() <= 0)
            return usage_error("timeout: must be a duration such as 30m or 2h, or 0 (got \"" + requested + "\")");
        limit = *parsed;
    } else if (requested == "0") {
        limit = Duration{0};
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(limit).count();
}

}  // namespace

std::string worktree_path(const std::string& root, const std::string& task, bool in_git) {
    return root + (in_git ? "/.worktrees/" : "/.fracta/workspaces/") + task;
}

Result<SpawnPlan> plan_spawn(const Json& req, const Settings& settings) {
    if (!req.is_object()) return usage_error("the request body must be a JSON object");
    if (!req.contains("task") || !req["task"].is_string()) return usage_error("task: required (a string)");
    SpawnPlan plan;
    Agent& a = plan.agent;
    a.name = req["task"].get<std::string>();
    FRACTA_TRY(check_task_name(a.name));
    FRACTA_TRY_ASSIGN(contract, optional_string(req, "contract"));
    FRACTA_TRY_ASSIGN(base_branch, optional_string(req, "base_branch"));
    FRACTA_TRY_ASSIGN(model, optional_string(req, "model"));
    FRACTA_TRY_ASSIGN(tier, optional_string(req, "tier"));
    FRACTA_TRY_ASSIGN(runtime_name, optional_string(req, "runtime"));
    FRACTA_TRY_ASSIGN(mode, optional_string(req, "mode"));
    FRACTA_TRY_ASSIGN(dispatch, optional_string(req, "dispatch"));
    FRACTA_TRY_ASSIGN(parent, optional_string(req, "parent"));
    FRACTA_TRY_ASSIGN(check, optional_string(req, "check"));
    FRACTA_TRY_ASSIGN(timeout, optional_string(req, "timeout"));
    FRACTA_TRY_ASSIGN(objective_id, optional_string(req, "objective_id"));
    FRACTA_TRY_ASSIGN(dedupe_key, optional_string(req, "dedupe_key"));
    FRACTA_TRY_ASSIGN(labels, string_object(req, "labels"));
    FRACTA_TRY_ASSIGN(env, string_object(req, "env"));
    for (const auto& item : env.items())
        if (runtime::is_reserved_env(item.key()))
            return usage_error("env." + item.key() + ": reserved (fracta sets it for every agent)");

    const config::Config& config = settings.config;
    if (base_branch.empty()) base_branch = config.default_base_branch;
    if (!base_branch.empty()) FRACTA_TRY(git::validate_branch_name(base_branch));
    if (!tier.empty() && tier != "heavy" && tier != "medium" && tier != "light")
        return usage_error("tier: must be heavy, medium or light (got \"" + tier + "\")");
    if (mode.empty()) mode = config.default_mode;
    FRACTA_TRY(runtime::parse_mode(mode));
    if (dispatch.empty()) dispatch = "queued";
    if (dispatch != "queued" && dispatch != "direct")
        return usage_error("dispatch: must be queued or direct (got \"" + dispatch + "\")");
    if (!parent.empty()) FRACTA_TRY(check_task_name(parent));
    if (!objective_id.empty()) FRACTA_TRY(check_task_name(objective_id));
    if (runtime_name.empty()) runtime_name = config.default_runtime;
    FRACTA_TRY_ASSIGN(choice, choose_runtime(config, runtime_name));
    if (req.contains("priority") && !req["priority"].is_null()) {
        if (!req["priority"].is_number_integer() || req["priority"].get<long long>() < -1000000 ||
            req["priority"].get<long long>() > 1000000)
            return usage_error("priority: must be an integer between -1000000 and 1000000");
        plan.priority = req["priority"].get<int>();
    }
    if (dispatch == "direct") plan.priority = kDirectPriority;
    runtime::SessionInfo info;
    info.contract = contract;
    info.model = model;
    info.tier = tier;
    info.mode = *runtime::parse_mode(mode);
    info.task = a.name;
    FRACTA_TRY_ASSIGN(argv, choice.runtime->command(info, choice.spec));  // e.g. shell batch needs a contract
    if (config.backend == "local")
        FRACTA_TRY(find_runtime_program(runtime_name, choice.runtime->executable(choice.spec), choice.spec, env));
    if (!req.contains("check")) check = config.check;
    if (!check.empty() && config.backend == "kubernetes")
        return usage_error("check: needs the worktree on this machine (runtime.backend kubernetes runs agents in pods)");
    FRACTA_TRY_ASSIGN(limit, agent_timeout(timeout, config));

    a.status = status::Queued;
    a.mode = mode;
    a.runtime = runtime_name;
    a.model = runtime::resolve_model(info, choice.spec);
    a.branch = settings.in_git ? "feature/" + a.name : "";
    a.base_branch = base_branch;
    a.workspace = worktree_path(settings.root, a.name, settings.in_git);
    a.contract = contract;
    a.parent = parent;
    a.objective_id = objective_id;
    a.dedupe_key = dedupe_key;
    a.labels = labels;
    a.env = env;
    a.check_command = check;
    a.timeout_ms = limit;
    plan.payload = {{"task", a.name},     {"contract", contract}, {"runtime", runtime_name}, {"mode", mode},
                    {"model", model},     {"tier", tier},         {"base_branch", base_branch},
                    {"dispatch", dispatch}, {"parent", parent},   {"labels", labels}, {"env", env}};
    return plan;
}

Json spawn_response(const Agent& a, int64_t mission_id) {
    return {{"agent", a.name},         {"status", a.status},      {"mode", a.mode},
            {"branch", a.branch},      {"worktree", a.workspace}, {"mission_id", mission_id}};
}

}  // namespace fracta::cp
