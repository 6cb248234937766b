#include "front/siblings.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace fracta::front {
namespace {

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string own_directory() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return "";
    std::string path(buf, static_cast<size_t>(n));
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash);
}

}  // namespace

std::optional<Sibling> sibling_of(const std::string& verb) {
    if (verb == "init") return Sibling{"fracta-init", {}};
    // The host-facing stdio MCP server an AI CLI runs (`.mcp.json` names
    // `fracta serve`); the HTTP gateway is `fracta-gw serve`, which the
    // control plane supervises itself.
    if (verb == "serve") return Sibling{"fracta-gw", {"stdio"}};
    if (verb == "controlplane") return Sibling{"fracta-cp", {}};
    if (verb == "events") return Sibling{"fracta-events", {}};
    if (verb == "reap") return Sibling{"fracta-reap", {}};
    // A local session's terminal: the supervisor serves it, no daemon needed
    // (sessions of the local backend live in the project's .fracta/sessions,
    // which fracta-spawn-local finds from anywhere in the project).
    if (verb == "attach") return Sibling{"fracta-spawn-local", {"attach"}};
    return std::nullopt;
}

Result<std::string> find_sibling(const std::string& program) {
    if (std::string dir = own_directory(); !dir.empty() && is_executable_file(dir + "/" + program))
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

Error exec_program(const std::string& path, const std::vector<std::string>& argv, const std::string& config_file) {
    // The sibling reads its configuration like every fracta binary does;
    // the environment reaches it whatever its own option tables accept.
    if (!config_file.empty()) ::setenv("FRACTA_CONFIG", config_file.c_str(), 1);
    std::vector<std::unique_ptr<char[]>> storage;
    std::vector<char*> args;
    for (const std::string& word : argv) {
        storage.emplace_back(new char[word.size() + 1]);
        std::memcpy(storage.back().get(), word.c_str(), word.size() + 1);
        args.push_back(storage.back().get());
    }
    args.push_back(nullptr);
    ::execv(path.c_str(), args.data());
    int err = errno;
    ErrorKind kind = err == ENOENT || err == ENOTDIR ? ErrorKind::NotFound : ErrorKind::CannotExec;
    return fail(kind, "exec " + path + ": " + std::strerror(err));
}

}  // namespace fracta::front
