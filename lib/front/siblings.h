// siblings.h — git-style dispatch: `fracta init` runs `fracta-init`, and so
// on (config/siblings.h finds the binary).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace fracta::front {

struct Sibling {
    std::string program;               // "fracta-gw"
    std::vector<std::string> leading;  // words before the user's: {"stdio"}
};

// The sibling a dispatch verb runs; nullopt for any other word.
std::optional<Sibling> sibling_of(const std::string& verb);

// The sibling `attach` runs for the project of `config_file` (empty: the
// nearest fracta.yaml from `cwd`): fracta-spawn-k8s, with that file, when
// its runtime.backend is kubernetes (what the control plane started the
// project's agents with), else fracta-spawn-local.
Result<Sibling> attach_sibling(const std::string& config_file, const std::string& cwd);

// Replace this process with `path` run as `argv`, with FRACTA_CONFIG set to
// `config_file` when that is not empty. Returns only on failure: NotFound
// (127) or CannotExec (126).
Error exec_program(const std::string& path, const std::vector<std::string>& argv, const std::string& config_file);

}  // namespace fracta::front
