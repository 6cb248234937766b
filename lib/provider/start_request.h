// start_request.h — the start JSON of the session contract (spec:
// exec-provider.md): Gas City's keys plus fracta's additions, decoded and
// checked before anything is created. Unknown keys are ignored.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"

namespace fracta::provider {

struct CopyFile {
    std::string src, rel_dst;
};

struct GitSpec {
    std::string repo;
    std::string base;    // empty: the repo's current branch
    std::string branch;  // empty: feature/<name>
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
    // How a nudge empties the input line and submits (tmux key names; the
    // runtime's, from fracta.yaml). Empty: the supervisor's defaults.
    std::vector<std::string> clear_keys, submit_keys;
    Json kubernetes;  // per-session overrides, for fracta-spawn-k8s
};

// Checks types, the mode, and every workspace file path (no absolute paths,
// no ".."): all usage errors, found before anything is written. A request
// without "mode" (Gas City's never has one) gets `default_mode`.
Result<StartRequest> parse_start_request(const Json& json, const std::string& default_mode = "batch");

}  // namespace fracta::provider
