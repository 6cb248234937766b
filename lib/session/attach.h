// attach.h — a terminal attached to a stream session's pty, like dtach or
// abduco: the supervisor serves <state dir>/attach.sock (AttachHub), and
// `fracta-spawn-local attach NAME` connects the caller's terminal to it
// (attach_terminal).
//
// The wire, both ways: frames of one type byte, a 4-byte big-endian length
// and the payload.
//   client → supervisor   'i' input bytes      'w' window size (rows, cols: 2 bytes each)
//   supervisor → client   'o' output bytes     'x' the session ended (its exit code, decimal)
// A new client first gets the end of the session's recent output, and its
// window size, even when unchanged, makes the program redraw (SIGWINCH).
// Any number of clients may attach at once; one that cannot keep up
// (over 4 MiB behind) is dropped rather than slowing the session.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "http/client.h"
#include "session/session_dir.h"
#include "session/terminal_input.h"

namespace fracta::session {

class AttachHub {
public:
    // Listen on `socket_path`; input goes through `input`, window sizes to
    // the pty `master` of the process group `pgid`.
    static Result<std::unique_ptr<AttachHub>> start(const std::string& socket_path, const SessionDir& dir,
                                                    TerminalInput& input, int master);
    virtual ~AttachHub() = default;
    // From the output loop: what the program wrote.
    virtual void broadcast(const char* data, size_t n) = 0;
    // The session ended: tell every client, close, stop listening.
    virtual void finish(int exit_code) = 0;
};

struct AttachOptions {
    int in = 0, out = 1;       // the caller's terminal (raw mode while attached, when it is one)
    char detach_key = 0x1c;    // C-\ (as dtach); typing it detaches
};

// The options of the attach op: NAME's [--detach-key KEY] (`words` after
// the op's name).
Result<AttachOptions> attach_options(const std::vector<std::string>& words);

// Attach until the session ends (its exit code) or the user detaches (0).
Result<int> attach_terminal(const SessionDir& dir, const AttachOptions& options);

// The same terminal loop over any connection to a session's hub (attach.sock
// here; GET /v1/attach through a pod proxy for fracta-spawn-k8s). A
// connection that closes without the session's exit code answers
// `closed_status()` (what the session recorded, when it can be read).
Result<int> attach_stream(http::ByteStream& stream, const std::string& name, const AttachOptions& options,
                          const std::function<int()>& closed_status);

}  // namespace fracta::session
