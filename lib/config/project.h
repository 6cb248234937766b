// project.h — where a local fracta project lives and how every binary finds
// it: the project root (nearest ancestor holding `.fracta/`), the
// configuration a command works on, the control plane daemon's files under
// the root, and the API endpoint a client should call (spec:
// control-plane.md "Process", config.md precedence).
#pragma once

#include <string>

#include "base/result.h"
#include "config/config.h"

namespace fracta::config {

// Nearest ancestor of `start_dir` (itself included) holding a `.fracta`
// directory. None: a usage error "not a fracta project (no .fracta
// directory); run 'fracta init' first".
Result<std::string> find_project_root(const std::string& start_dir);

// The local daemon's files, all under <root>/.fracta/.
struct DaemonFiles {
    std::string pid;  // controlplane.pid: the pid of `fracta-cp run`
    std::string url;  // controlplane.url: the URL it answers on (the real port when :0 was asked)
    std::string log;  // controlplane.log: its stderr
};
DaemonFiles daemon_files(const std::string& root);

// The project's configuration: FRACTA_CONFIG, else <root>/fracta.yaml, else
// defaults rooted at `root`.
Result<Config> load_project_config(const std::string& root);

// The configuration and project root a command works on: `config_file`
// (its directory is the root), else FRACTA_CONFIG, else the nearest
// project's.
Result<Config> load_for(const std::string& config_file, const std::string& cwd);

struct Endpoint {
    std::string url;    // http://host:port, no trailing '/'
    std::string token;  // bearer token; empty: none
    bool explicit_url = false;  // from FRACTA_CP_URL or control_plane_api.url: never auto-started
    std::string ca_file;        // trust this CA bundle for https: FRACTA_CA_FILE > control_plane_api.ca_file
};

// FRACTA_CP_URL > control_plane_api.url > the running daemon's recorded URL
// > http://<control_plane_api.listen>. Token: FRACTA_CP_TOKEN > config.
Endpoint resolve_endpoint(const Config& config, const std::string& root);

// "127.0.0.1:9090" → "http://127.0.0.1:9090"; ":9090" → "http://127.0.0.1:9090";
// https:// when the listener serves TLS.
std::string url_of_listen(const std::string& listen, bool tls = false);

// A path from the file (tls.cert_file, ca_file): relative ones are relative
// to the project root (the file's directory); empty stays empty.
std::string project_path(const Config& config, const std::string& path);

}  // namespace fracta::config
