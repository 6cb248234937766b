// daemon.h — the control plane process: `fracta-cp run` (the foreground
// server and its workers, what a container runs) and the local conveniences
// `start`, `stop` and `status` that keep one running for a project (spec:
// control-plane.md "Process").
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "base/json.h"
#include "base/log.h"
#include "base/result.h"
#include "config/config.h"

namespace fracta::cp {


struct RunOptions {
    std::string config_file;  // empty: FRACTA_CONFIG, else the project's fracta.yaml, else defaults
    std::string listen;       // empty: control_plane_api.listen
    int ready_fd = -1;        // gets "ready <url>\n" once the API answers, then is closed
    int workers = -1;         // -1: runtime.queue.workers; 0: API only (workers run elsewhere)
    std::chrono::milliseconds drain_timeout{30000};
    bool gateway = false;     // also run `fracta-gw serve` (found next to this binary) as a supervised child
    // Serve beyond loopback without a strong token (config/exposure.h); also
    // control_plane_api.insecure_listen. Without it such a start is refused.
    bool insecure_listen = false;
    // Log lines as logging.format says (text, or JSON objects), filtered by
    // logging.level or FRACTA_LOG_LEVEL; no writer: no log.
    LineWriter write_log;
    // Instead of write_log: stderr, cut to its newest lines past
    // logging.max_bytes when it is a file (capped_stderr).
    bool capped_stderr = false;
};

// Serve until SIGTERM or SIGINT (drain, then return success). SIGHUP
// reloads logging.level, reaper.max_concurrent and control_plane_api.token
// (FRACTA_CP_TOKEN, when set, stays in force). The calling thread
// handles the signals; they are blocked in every thread it starts.
Status run(const RunOptions& options);

struct StartOptions {
    std::string config_file;
    std::string listen;  // passed to run
    bool insecure_listen = false;  // passed to run
    std::chrono::milliseconds timeout{30000};
    std::string program;  // this binary, to run as `<program> run …`
    bool gateway = true;  // local mode: run supervises `fracta-gw serve` when it is installed
};
// Launch `run` detached (own session, stderr to .fracta/controlplane.log),
// wait for it to be ready, record its pid and URL. Already running: Failed
// "already running (pid N)". Returns {"pid","url","log"}.
Result<Json> start_daemon(const StartOptions& options);

// SIGTERM the recorded daemon and wait for it to exit (SIGKILL after
// `timeout`). Not running: success, {"running":false}.
Result<Json> stop_daemon(const std::string& config_file, std::chrono::milliseconds timeout);

// {"running","pid","url","healthy","ready"}; an error (Failed) only when
// the project cannot be found. The caller decides the exit status.
Result<Json> daemon_status(const std::string& config_file);

}  // namespace fracta::cp
