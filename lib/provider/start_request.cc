// start_request.cc — parse_start_request() of contract.h.
#include "provider/contract.h"

#include "session/workspace.h"

namespace fracta::provider {
namespace {

Result<std::vector<std::string>> string_list(const Json& j, const char* key) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_array()) return usage_error(std::string("\"") + key + "\" must be an array of strings");
    for (const Json& v : *it) {
        if (!v.is_string()) return usage_error(std::string("\"") + key + "\" must be an array of strings");
        out.push_back(v.get<std::string>());
    }
    return out;
}

Result<std::map<std::string, std::string>> string_map(const Json& j, const char* key) {
    std::map<std::string, std::string> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_object()) return usage_error(std::string("\"") + key + "\" must be an object of strings");
    for (const auto& [k, v] : it->items()) {
        if (!v.is_string()) return usage_error(std::string("\"") + key + "." + k + "\" must be a string");
        out[k] = v.get<std::string>();
    }
    return out;
}

// "secret_refs": {VAR: {secret: NAME, key: KEY}}.
Result<std::map<std::string, SecretRef>> secret_refs(const Json& j) {
    std::map<std::string, SecretRef> out;
    auto it = j.find("secret_refs");
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_object()) return usage_error("\"secret_refs\" must be an object");
    for (const auto& [k, ref] : it->items()) {
        // a named copy of the binding: clang before 16 cannot capture a
        // structured binding in a lambda (the fuzz build is clang 14)
        const Json& v = ref;
        auto text = [&](const char* field) -> const Json* {
            auto f = v.is_object() ? v.find(field) : v.end();
            return f != v.end() && f->is_string() && !f->get<std::string>().empty() ? &*f : nullptr;
        };
        const Json *secret = text("secret"), *key = text("key");
        if (!secret || !key) return usage_error("\"secret_refs." + k + "\" must be {\"secret\": NAME, \"key\": KEY}");
        out[k] = {secret->get<std::string>(), key->get<std::string>()};
    }
    return out;
}

}  // namespace

Result<StartRequest> parse_start_request(const Json& j, const std::string& default_mode) {
    StartRequest r;
    r.mode = default_mode;
    if (j.is_null()) return r;
    if (!j.is_object()) return usage_error("start request must be a JSON object");
#define FRACTA_FIELD(member, call)   \
    {                                \
        FRACTA_TRY_ASSIGN(v, call);  \
        r.member = std::move(v);     \
    }
    FRACTA_FIELD(work_dir, string_field(j, "work_dir"));
    FRACTA_FIELD(command, string_field(j, "command"));
    FRACTA_FIELD(env, string_map(j, "env"));
    FRACTA_FIELD(process_names, string_list(j, "process_names"));
    FRACTA_FIELD(nudge, string_field(j, "nudge"));
    FRACTA_FIELD(ready_prompt_prefix, string_field(j, "ready_prompt_prefix"));
    FRACTA_FIELD(ready_delay_ms, int_field(j, "ready_delay_ms"));
    FRACTA_FIELD(pre_start, string_list(j, "pre_start"));
    FRACTA_FIELD(session_setup, string_list(j, "session_setup"));
    FRACTA_FIELD(session_live, string_list(j, "session_live"));
    FRACTA_FIELD(session_setup_script, string_field(j, "session_setup_script"));
    FRACTA_FIELD(pack_overlay_dirs, string_list(j, "pack_overlay_dirs"));
    FRACTA_FIELD(overlay_dir, string_field(j, "overlay_dir"));
    FRACTA_FIELD(mode, string_field(j, "mode", default_mode));
    FRACTA_FIELD(workspace_files, string_map(j, "workspace_files"));
    FRACTA_FIELD(secret_env, string_map(j, "secret_env"));
    FRACTA_FIELD(secret_refs, secret_refs(j));
    FRACTA_FIELD(clear_keys, string_list(j, "clear_keys"));
    FRACTA_FIELD(submit_keys, string_list(j, "submit_keys"));
#undef FRACTA_FIELD
    if (r.mode != "batch" && r.mode != "stream")
        return usage_error("\"mode\" must be batch or stream (got \"" + r.mode + "\")");
    if (r.ready_delay_ms < 0) return usage_error("\"ready_delay_ms\" must not be negative");
    for (const auto& [path, content] : r.workspace_files) {
        Status ok = session::validate_relative_path(path);
        if (!ok.ok()) return std::move(ok).take_error().context("workspace_files");
    }
    if (auto it = j.find("copy_files"); it != j.end() && !it->is_null()) {
        if (!it->is_array()) return usage_error("\"copy_files\" must be an array");
        for (const Json& c : *it) {
            if (!c.is_object()) return usage_error("\"copy_files\" entries must be objects");
            FRACTA_TRY_ASSIGN(src, string_field(c, "src"));
            FRACTA_TRY_ASSIGN(dst, string_field(c, "rel_dst"));
            if (!dst.empty()) FRACTA_TRY(session::validate_relative_path(dst));
            r.copy_files.push_back({src, dst});
        }
    }
    if (auto it = j.find("git"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) return usage_error("\"git\" must be an object");
        GitSpec g;
        FRACTA_TRY_ASSIGN(repo, string_field(*it, "repo"));
        FRACTA_TRY_ASSIGN(base, string_field(*it, "base"));
        FRACTA_TRY_ASSIGN(branch, string_field(*it, "branch"));
        if (repo.empty()) return usage_error("\"git.repo\" is required");
        g.repo = repo;
        g.base = base;
        g.branch = branch;
        r.git = g;
    }
    if (auto it = j.find("kubernetes"); it != j.end() && it->is_object()) r.kubernetes = *it;
    return r;
}

}  // namespace fracta::provider
