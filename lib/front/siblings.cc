#include "front/siblings.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "config/config.h"

namespace fracta::front {

std::optional<Sibling> sibling_of(const std::string& verb) {
    if (verb == "init") return Sibling{"fracta-init", {}};
    // The host-facing stdio MCP server an AI CLI runs (`.mcp.json` names
    // `fracta serve`); the HTTP gateway is `fracta-gw serve`, which the
    // control plane supervises itself.
    if (verb == "serve") return Sibling{"fracta-gw", {"stdio"}};
    if (verb == "controlplane") return Sibling{"fracta-cp", {}};
    if (verb == "events") return Sibling{"fracta-events", {}};
    if (verb == "reap") return Sibling{"fracta-reap", {}};
    // A session's terminal: its supervisor serves it, no daemon needed
    // (sessions of the local backend live in the project's .fracta/sessions,
    // which fracta-spawn-local finds from anywhere in the project; a
    // kubernetes project's: attach_sibling).
    if (verb == "attach") return Sibling{"fracta-spawn-local", {"attach"}};
    return std::nullopt;
}

Result<Sibling> attach_sibling(const std::string& config_file, const std::string& cwd) {
    Sibling local{"fracta-spawn-local", {"attach"}};
    std::string file = config_file;
    if (file.empty())
        if (auto found = config::find_file(cwd)) file = *found;
    if (file.empty()) return local;
    FRACTA_TRY_ASSIGN(config, config::load(file));
    if (config.backend != "kubernetes") return local;
    std::error_code ec;
    return Sibling{"fracta-spawn-k8s", {"--config", std::filesystem::absolute(file, ec).string(), "attach"}};
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
