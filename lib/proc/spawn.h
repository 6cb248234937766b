// spawn.h — the first half of running a program, shared by run() (which
// waits for it to finish) and Process (which keeps it running): the child
// gets its own process group and stdin, stdout and stderr on close-on-exec
// pipes; no shell; "not found" and "cannot execute" are told apart before or
// at exec. Also the descriptor and SIGPIPE helpers both halves need.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <utility>

#include "base/result.h"
#include "proc/run.h"

namespace fracta::proc {

// An owned file descriptor, closed when dropped.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const { return fd_; }
    bool open() const { return fd_ >= 0; }
    void reset();

private:
    int fd_ = -1;
};

void set_nonblocking(const Fd& fd);

// Writing to a child that closed its stdin raises SIGPIPE, which would kill
// the whole process. The library must not change the process's signal
// dispositions, so SIGPIPE is blocked in this thread only while the guard
// lives, and a SIGPIPE our writes left pending is consumed before the mask is
// restored.
class SigpipeBlock {
public:
    SigpipeBlock();
    ~SigpipeBlock();
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;

private:
    sigset_t pipe_{};
    sigset_t saved_{};
    bool was_pending_ = false;
};

// A started child: its pid (= its process group) and our ends of its pipes.
struct Spawned {
    pid_t pid = -1;
    Fd in, out, err;  // write to in; read out and err
};

// Start c.argv with c.cwd, c.env and c.unset_env (input, timeout and
// max_output are the caller's business). The errors are run()'s.
Result<Spawned> spawn(const Command& c);

}  // namespace fracta::proc
