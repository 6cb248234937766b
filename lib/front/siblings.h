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

// Replace this process with `path` run as `argv`, with FRACTA_CONFIG set to
// `config_file` when that is not empty. Returns only on failure: NotFound
// (127) or CannotExec (126).
Error exec_program(const std::string& path, const std::vector<std::string>& argv, const std::string& config_file);

}  // namespace fracta::front
