// supervisor.h — the session supervisor: one small process per session, like
// s6-supervise. It runs the session's command in its own process group under
// a pty (stream mode) or pipes (batch mode), copies the output into a capped
// log, keeps the session's state directory current, forwards TERM/INT/HUP to
// the whole group, and serves the control API (control_api.h) on a Unix
// socket in the state directory, or on a TCP port in an agent pod.
//
// It owns the session's lock for its whole life, so a supervisor that dies
// — even by SIGKILL — is seen as gone at once, and the exit status it wrote
// (atomically) before exiting outlives it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "session/terminal_input.h"

namespace fracta::session {

struct SuperviseOptions {
    std::string name;
    std::string root;                       // the state root (session_dir.h)
    std::string mode = "batch";             // batch | stream
    std::vector<std::string> argv;          // the command; run with the supervisor's environment
    std::string work_dir;                   // empty: the current directory
    int lock_fd = -1;                       // the session lock, already held by our parent; -1: take it
    int ready_fd = -1;                      // gets "ready\n" or "error: <why>\n", then is closed
    std::string control;                    // "" → <state dir>/control.sock; "HOST:PORT" → TCP
    std::string control_token;              // required as a bearer token when set (TCP)
    uint64_t log_cap = 8u << 20;            // output.log keeps the newest half when it grows past this
    bool copy_output = false;               // the session's output to stdout too (an agent pod's log)
    std::chrono::milliseconds stop_grace{3000};  // TERM → KILL
    NudgeKeys nudge_keys;                   // how a nudge clears the input line and submits
};

// Run the session to its end. Returns its exit code (128 + signal when a
// signal ended it). Errors are for a session that could not be started.
Result<int> supervise(const SuperviseOptions& options);

}  // namespace fracta::session
