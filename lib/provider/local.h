// local.h — fracta-spawn-local: the session contract (contract.h) for
// sessions that are supervised processes on this machine, each in its own
// git worktree or directory.
//
// Reads (is-running, status, peek, meta, activity) go straight to the
// session's state directory and cost no more than a few system calls; only
// input to a session's terminal talks to its supervisor, over the session's
// control socket.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/cli.h"
#include "provider/contract.h"
#include "session/session_dir.h"

namespace fracta::provider {

struct LocalContext {
    std::string root;      // session state root (session::state_root)
    std::string self_exe;  // this binary, re-executed as the supervisor
    std::string cwd;
};

// The sessions under ctx.root.
std::unique_ptr<SessionBackend> local_backend(LocalContext ctx);
// The context of this process: its working directory, state root, binary.
LocalContext local_context();

// fracta-spawn-local's command line (base/tool.h).
const Tool& local_tool();

// start, in local_start.cc
Status start_local(const std::string& name, StartRequest request, const LocalContext& ctx, Io& io);

// nudge, in local_nudge.cc: `options` are [--no-wait] [--timeout S].
Status nudge_op(const std::string& name, const std::string& text, const std::vector<std::string>& options,
                const LocalContext& ctx, Io& io);
// Type `text` into a running session; wait > 0: until the program reacted.
// Records nudge.delivered / nudge.failed when it waited.
Status deliver_nudge(const session::SessionDir& dir, const std::string& text, std::chrono::milliseconds wait,
                     const LocalContext& ctx, Io& io);

// The status object of the contract (`status`, `list`, `watch`) for one session.
Json session_status(const session::SessionDir& dir);
// `wait`'s answer for a session that has ended (its supervisor let go of
// its lock): how it ended, and the last 64 KiB of its output. `watch` tells
// it too, so a control plane learns an end without a process per session.
Json end_answer(const session::SessionDir& dir);

// watch, in local_watch.cc: every session under `root` starting with
// `prefix`, then each change of state, told by inotify (the supervisor's lock
// closed, state.json replaced, a session directory made or removed), until
// the reader of stdout goes away.
Status watch_sessions(const std::string& root, const std::string& prefix, Io& io);

// supervise, in local_supervise.cc: NAME [OPTIONS] -- COMMAND [ARG…].
Result<int> supervise(const std::vector<std::string>& args, const LocalContext& ctx);

// Copy a file or directory into `dst_dir` (at `rel_dst`, or its contents
// into the directory itself when `rel_dst` is empty): overlays, copy_files,
// copy-to. `rel_dst` must already be validated.
Status copy_into(const std::string& src, const std::string& dst_dir, const std::string& rel_dst);

}  // namespace fracta::provider
