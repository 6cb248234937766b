#include "config/siblings.h"

#include "base/text.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace fracta::config {
namespace {

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string self_dir() {
    std::error_code ec;
    std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? "" : exe.parent_path().string();
}

Result<std::string> find_sibling(const std::string& program) {
    if (std::string dir = self_dir(); !dir.empty() && is_executable_file(dir + "/" + program))
        return dir + "/" + program;
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    for (const std::string& dir : split(dirs, ':')) {
        // An empty PATH entry means the working directory.
        std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
        if (is_executable_file(candidate)) return candidate;
    }
    return fail(ErrorKind::NotFound, program + " is not installed");
}

}  // namespace fracta::config
