// settings.h — what the gateway reads from fracta.yaml: its backends
// (`mcp_servers.servers.<id>`) and the tool policies. Bad entries are usage
// errors that name the key. (Sub-agent limits are the control plane's to
// enforce: it refuses the spawn.)
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "gw/policy.h"

namespace fracta::gw {

// A backend's own credentials, never the agent's token.
struct BackendAuth {
    std::string type;    // "" (none) | bearer | header | basic
    std::string header;  // type header: the header's name
    std::string value;   // resolved: from value, env or file
};

struct Backend {
    std::string id;
    bool local = false;
    // local: a stdio child
    std::string command;
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    // remote
    std::string url;
    std::string transport = "streamable-http";  // streamable-http | sse
    std::map<std::string, std::string> headers;  // auth folded in
    std::chrono::milliseconds timeout{30000};     // one call
    std::chrono::milliseconds list_timeout{5000};  // tools/list: a slow backend is left out after this
};

struct Settings {
    std::vector<Backend> backends;  // sorted by id
    ToolPolicy global_policy;
    std::map<std::string, ToolPolicy> runtime_policies;  // agents.agent_runtimes.<r>.tool_policy
};

Result<Settings> read_settings(const config::Config& config);

}  // namespace fracta::gw
