#include "config/project.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fracta::config {
namespace {

namespace fs = std::filesystem;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

}  // namespace

Result<std::string> find_project_root(const std::string& start_dir) {
    std::error_code ec;
    fs::path dir = fs::absolute(start_dir, ec);
    if (ec) return usage_error("not a fracta project: " + start_dir + ": " + ec.message());
    dir = dir.lexically_normal();
    for (;;) {
        struct stat st {};
        if (::stat((dir / ".fracta").c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            std::string s = dir.string();
            if (s.size() > 1 && s.back() == '/') s.pop_back();
            return s;
        }
        if (!dir.has_parent_path() || dir.parent_path() == dir) break;
        dir = dir.parent_path();
    }
    return usage_error("not a fracta project (no .fracta directory); run 'fracta init' first");
}

DaemonFiles daemon_files(const std::string& root) {
    const std::string base = root + "/.fracta/";
    return {base + "controlplane.pid", base + "controlplane.url", base + "controlplane.log"};
}

Result<Config> load_project_config(const std::string& root) {
    std::string file = env("FRACTA_CONFIG");
    if (file.empty()) {
        std::error_code ec;
        if (fs::exists(root + "/fracta.yaml", ec)) file = root + "/fracta.yaml";
    }
    if (file.empty()) {
        Config defaults;
        defaults.root = root;
        return defaults;
    }
    return load(file);
}

Result<Config> load_for(const std::string& config_file, const std::string& cwd) {
    std::string file = config_file;
    if (file.empty()) file = env("FRACTA_CONFIG");
    if (!file.empty()) return load(file);
    FRACTA_TRY_ASSIGN(root, find_project_root(cwd));
    return load_project_config(root);
}

std::string project_path(const Config& config, const std::string& path) {
    if (path.empty() || path[0] == '/' || config.root.empty()) return path;
    return (fs::path(config.root) / path).lexically_normal().string();
}

std::string url_of_listen(const std::string& listen, bool tls) {
    std::string hostport = listen;
    if (!hostport.empty() && hostport[0] == ':') hostport = "127.0.0.1" + hostport;
    if (hostport.rfind("0.0.0.0:", 0) == 0) hostport = "127.0.0.1" + hostport.substr(7);
    if (hostport.rfind("[::]:", 0) == 0) hostport = "[::1]" + hostport.substr(4);
    return (tls ? "https://" : "http://") + hostport;
}

Endpoint resolve_endpoint(const Config& config, const std::string& root) {
    Endpoint e;
    e.token = env("FRACTA_CP_TOKEN");
    if (e.token.empty()) e.token = config.control_plane.token;
    if (std::string url = env("FRACTA_CP_URL"); !url.empty()) {
        e.url = url;
        e.explicit_url = true;
    } else if (!config.control_plane.url.empty()) {
        e.url = config.control_plane.url;
        e.explicit_url = true;
    } else if (std::string recorded = first_line(daemon_files(root).url); !recorded.empty()) {
        e.url = recorded;
    } else {
        e.url = url_of_listen(config.control_plane.listen, config.control_plane.tls.enabled());
    }
    e.ca_file = env("FRACTA_CA_FILE");
    if (e.ca_file.empty()) e.ca_file = project_path(config, config.control_plane.ca_file);
    while (!e.url.empty() && e.url.back() == '/') e.url.pop_back();
    return e;
}

}  // namespace fracta::config
