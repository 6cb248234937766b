// control_api.h — the supervisor's HTTP control API, one protocol for both
// transports (a Unix socket locally, a token-protected pod port reached
// through the Kubernetes API server's pod proxy).
//
//   GET    /v1/status            state.json + "state" + "last_activity"
//   GET    /v1/peek?lines=N      {"output"}  (N <= 0: everything)
//   GET    /v1/logs              the whole log, text/plain
//   POST   /v1/nudge  {"text", "wait_ms"?}
//                                clear the input line, type the text, submit;
//                                with wait_ms, answer once the program reacted
//                                (terminal_input.h), else 504; the answer's
//                                "ordinal" is the nudge's place in the order
//                                the session's nudges were typed
//   POST   /v1/keys   {"keys"}   tmux key names or literal text
//   POST   /v1/interrupt         SIGINT to the session's process group
//   POST   /v1/stop              TERM the group; KILL after the grace period
//   POST   /v1/clear             clear the scrollback (the log)
//   GET|PUT|DELETE /v1/meta/{key}
//   PUT    /v1/files?path=REL    write the body to a file in the workdir
//   GET    /v1/processes         {"processes": [{pid, comm, argv}]}: what runs
//                                in the session (processes.h), for
//                                process-alive where the caller cannot read
//                                the session's /proc (a pod)
//   GET    /v1/attach            with "Connection: Upgrade" and "Upgrade:
//                                fracta-attach": 101, then attach.h's frames
//                                both ways on the connection (409: no
//                                terminal; 426: another protocol asked)
//
// A nudge to a session whose command has ended is answered 410 (Gone): there
// is nothing to type into, which the providers report as the contract's
// 0-when-not-running, not as a failure.
//
// Keys for a batch session (no terminal) are accepted and reported as
// {"delivered": false}; a nudge to one is refused (409): it could never be
// confirmed.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "http/server.h"
#include "session/session_dir.h"

namespace fracta::session {

struct SessionControl {
    const SessionDir* dir = nullptr;
    std::string work_dir;
    // Write bytes to the session's terminal; false for a batch session.
    std::function<Result<bool>(const std::string& bytes)> type;
    std::function<Result<uint64_t>(const std::string& text, std::chrono::milliseconds wait)> nudge;
    std::function<void(int signal)> signal_group;
    std::function<void()> request_stop;
    std::function<void()> clear_log;
    int session_id = 0;  // the command's session (its pid): whose processes /v1/processes lists
};

http::Handler control_handler(const SessionControl& control);

}  // namespace fracta::session
