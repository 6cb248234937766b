// local.h — fracta-spawn-local: the session contract (spec: exec-provider.md)
// for sessions that are supervised processes on this machine, each in its own
// git worktree or directory. One library entry for the thin main.
//
// Reads (is-running, status, peek, meta, activity) go straight to the
// session's state directory and cost no more than a few system calls; only
// input to a session's terminal talks to its supervisor.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/cli.h"
#include "base/result.h"
#include "session/session_dir.h"

namespace fracta::provider {

struct LocalIo {
    std::function<Result<std::string>(size_t max_bytes)> read_input;
    std::function<Status(std::string_view)> write;
    std::function<void(const std::string&)> warn;  // a stderr line that is not an error
};

struct LocalContext {
    std::string root;      // session state root (session::state_root)
    std::string self_exe;  // this binary, re-executed as the supervisor
    std::string cwd;
};

const cli::Command& local_command();
bool is_local_operation(const std::string& op);

// Run one operation; the result is the process exit status (0, or for
// `supervise` the session's own).
Result<int> run_local(const std::string& op, const std::vector<std::string>& args, const LocalContext& ctx,
                      LocalIo& io);

// start, in local_start.cc
Status start_local(const std::string& name, const LocalContext& ctx, LocalIo& io);

// nudge, in local_nudge.cc: `args` is NAME [--no-wait] [--timeout S].
Status nudge_op(const std::vector<std::string>& args, const LocalContext& ctx, LocalIo& io);
// Type `text` into a running session; wait > 0: until the program reacted.
// Records nudge.delivered / nudge.failed when it waited.
Status deliver_nudge(const session::SessionDir& dir, const std::string& text, std::chrono::milliseconds wait,
                     const LocalContext& ctx, LocalIo& io);

// Copy a file or directory into `dst_dir` (at `rel_dst`, or its contents
// into the directory itself when `rel_dst` is empty): overlays, copy_files,
// copy-to. `rel_dst` must already be validated.
Status copy_into(const std::string& src, const std::string& dst_dir, const std::string& rel_dst);

}  // namespace fracta::provider
