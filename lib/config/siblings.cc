#include "config/siblings.h"

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
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        // An empty PATH entry means the working directory.
        std::string candidate = end > start ? dirs.substr(start, end - start) + "/" + program : "./" + program;
        if (is_executable_file(candidate)) return candidate;
        start = end + 1;
    }
    return fail(ErrorKind::NotFound, program + " is not installed");
}

}  // namespace fracta::config
