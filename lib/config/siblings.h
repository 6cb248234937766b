// siblings.h — finding the other fracta binaries: `fracta init` runs
// fracta-init, the control plane runs fracta-spawn-local, fracta-gw and
// fracta-reap. A sibling is looked for next to the running binary first (an
// unpacked release, a build tree), then on PATH.
#pragma once

#include <string>

#include "base/result.h"

namespace fracta::config {

// The directory of the running executable ("" when unknown).
std::string self_dir();

// The executable's path: the directory of /proc/self/exe, then PATH.
// Missing: a NotFound (127) error "<program> is not installed".
Result<std::string> find_sibling(const std::string& program);

}  // namespace fracta::config
