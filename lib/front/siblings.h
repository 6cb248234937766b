// siblings.h — git-style dispatch: `fracta init` runs `fracta-init`, and so
// on. A sibling is looked for next to the running binary first (an unpacked
// release, a build tree), then on PATH.
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

// The executable's path: the directory of /proc/self/exe, then PATH.
// Missing: a NotFound (127) error "<program> is not installed".
Result<std::string> find_sibling(const std::string& program);

// Replace this process with `path` run as `argv`, with FRACTA_CONFIG set to
// `config_file` when that is not empty. Returns only on failure: NotFound
// (127) or CannotExec (126).
Error exec_program(const std::string& path, const std::vector<std::string>& argv, const std::string& config_file);

}  // namespace fracta::front
