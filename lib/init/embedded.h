// embedded.h — the deployment templates compiled into the library: every file
// under scaffolds/, manifests/ and compose/ at build time (lib/init/embed.cmake
// generates the definition into the build directory).
#pragma once

#include <string_view>
#include <vector>

namespace fracta::init {

struct EmbeddedFile {
    std::string_view path;  // relative to the repository root: "manifests/rbac.yaml"
    std::string_view content;
    int mode;  // permission bits, e.g. 0755 for scripts
};

// Sorted by path within each of the three trees.
const std::vector<EmbeddedFile>& embedded_files();

}  // namespace fracta::init
