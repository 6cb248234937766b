// process.h — a long-lived child process: an MCP backend spoken to over its
// stdin and stdout, a server a test talks to. Started as run() starts one
// (its own process group, close-on-exec pipes, no shell), then left running
// while the owner writes its stdin and reads its stdout and stderr.
//
// The group does not outlive its leader: once the child has exited, whatever
// is left of its process group is killed before the child is reaped (so a
// pid is never signalled after it could have been reused). Stopping follows
// the MCP shutdown order: close stdin, wait, SIGTERM the group, wait,
// SIGKILL. The destructor stops and reaps the child, so nothing is left
// behind. Every member may be called from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/result.h"
#include "proc/run.h"
#include "proc/spawn.h"

namespace fracta::proc {

class Process {
public:
    // Start c.argv with c.cwd, c.env and c.unset_env (the rest of Command is
    // not used). The errors are run()'s.
    static Result<std::unique_ptr<Process>> start(const Command& c);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    const std::string& program() const { return program_; }

    // Our non-blocking ends of the child's stdout and stderr, for poll() and
    // read() by one reader; they stay open as long as the Process.
    int stdout_fd() const { return out_.get(); }
    int stderr_fd() const { return err_.get(); }
    // Readable once the child has exited (a pidfd); -1 where the kernel has
    // none, and then the owner must poll exited() now and then.
    int exit_fd() const { return pidfd_.get(); }

    // Write all of `data` to the child's stdin, waiting up to `timeout` for
    // it to take it in. One writer at a time; SIGPIPE is contained. Errors:
    // stdin closed (the child is gone or stopped reading), timed out.
    Status write(std::string_view data, std::chrono::milliseconds timeout);
    void close_stdin();

    // Whether the child has exited (reaping it when it has). Never blocks.
    bool exited();
    // Wait up to `timeout` for the child to exit; true when it has.
    bool wait_exit(std::chrono::milliseconds timeout);
    // How it ended, once exited(): "exited with status 3", "killed by signal 9".
    std::string status_text() const;
    int exit_code() const;  // the status, or 128 + signal (as sh reports it); -1 while running

    // Signal the whole process group while the child is alive.
    void signal_group(int sig);
    // Close stdin, wait `grace`, SIGTERM the group, wait `grace`, SIGKILL.
    // Returns once the child is reaped.
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(2));

private:
    Process(pid_t pid, std::string program, Fd in, Fd out, Fd err);
    bool reap_locked(bool block);

    const pid_t pid_;
    const std::string program_;
    std::mutex write_mu_;  // one writer
    Fd in_;
    const Fd out_, err_;
    Fd pidfd_;
    mutable std::mutex mu_;  // exit state
    bool reaped_ = false;
    int status_ = 0;  // waitpid's
};

}  // namespace fracta::proc
