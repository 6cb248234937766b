// run.h — the two faces of fracta-gw as whole programs: `serve` (the
// agent-facing HTTP gateway, until SIGTERM) and `stdio` (the host-facing MCP
// server an AI CLI runs, until end of input).
#pragma once

#include <functional>
#include <string>

#include "base/result.h"

namespace fracta::gw {

struct ServeOptions {
    std::string config_file;  // empty: FRACTA_CONFIG, else the project's fracta.yaml, else defaults
    std::string listen;       // empty: gateway.listen
    int ready_fd = -1;        // gets "ready <url>\n" once serving
    // Serve beyond loopback although the control-plane token this gateway
    // calls with is missing or weak (config/exposure.h); also
    // gateway.insecure_listen. Without it such a start is refused.
    bool insecure_listen = false;
    std::function<void(const std::string& line)> write_log;
    bool capped_stderr = false;  // instead of write_log: capped_stderr(logging.max_bytes)
};
Status serve(const ServeOptions& options);

struct StdioRunOptions {
    std::string config_file;
    std::string cwd;
    std::function<void(const std::string& line)> write_log;  // stderr only: stdout is the protocol
};
Status stdio(const StdioRunOptions& options);

}  // namespace fracta::gw
