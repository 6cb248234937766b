#include "proc/process.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "base/io.h"

namespace fracta::proc {
namespace {

using Clock = std::chrono::steady_clock;

// Without a pidfd the child's exit is noticed by polling at this pace.
constexpr auto kReapTick = std::chrono::milliseconds(10);

int poll_ms(Clock::time_point deadline) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<decltype(left)>(left, 0, 60000));
}

}  // namespace

Result<std::unique_ptr<Process>> Process::start(const Command& c) {
    FRACTA_TRY_ASSIGN(child, spawn(c));
    return std::unique_ptr<Process>(
        new Process(child.pid, c.argv[0], std::move(child.in), std::move(child.out), std::move(child.err)));
}

Process::Process(pid_t pid, std::string program, Fd in, Fd out, Fd err)
    : pid_(pid), program_(std::move(program)), in_(std::move(in)), out_(std::move(out)), err_(std::move(err)) {
    // glibc 2.36's <sys/pidfd.h> lacks extern "C"; the syscall is the same.
    long pidfd = ::syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) pidfd_ = Fd(static_cast<int>(pidfd));
}

Process::~Process() {
    stop();
}

Status Process::write(std::string_view data, std::chrono::milliseconds timeout) {
    std::lock_guard lock(write_mu_);
    if (!in_.open()) return failure("write to " + program_ + ": its stdin is closed");
    SigpipeBlock sigpipe;
    const auto deadline = Clock::now() + timeout;
    while (!data.empty()) {
        ssize_t n = ::write(in_.get(), data.data(), data.size());
        if (n >= 0) {
            data.remove_prefix(static_cast<size_t>(n));
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN) {
            int err = errno;
            in_.reset();  // EPIPE: nobody reads it any more
            return failure("write to " + program_ + ": " + io::errno_text(err));
        }
        if (Clock::now() >= deadline)
            return temporary_error("write to " + program_ + ": it takes no input (waited " +
                                   std::to_string(timeout.count()) + " ms)");
        pollfd p{in_.get(), POLLOUT, 0};
        ::poll(&p, 1, poll_ms(deadline));
    }
    return {};
}

void Process::close_stdin() {
    std::lock_guard lock(write_mu_);
    in_.reset();
}

// With mu_ held. The leader's exit is first observed without reaping it, so
// its pid (= the group id) stays ours while the rest of the group is killed.
bool Process::reap_locked(bool block) {
    if (reaped_) return true;
    siginfo_t info{};
    int flags = WEXITED | WNOWAIT | (block ? 0 : WNOHANG);
    int r;
    while ((r = ::waitid(P_PID, static_cast<id_t>(pid_), &info, flags)) < 0 && errno == EINTR) {
    }
    if (r < 0) {  // ECHILD: someone else reaped it (SIGCHLD ignored); the status is lost
        reaped_ = true;
        status_ = 0;
        return true;
    }
    if (info.si_pid == 0) return false;  // still running
    ::kill(-pid_, SIGKILL);              // what it left behind in its group
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return true;
}

bool Process::exited() {
    std::lock_guard lock(mu_);
    return reap_locked(false);
}

bool Process::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        if (exited()) return true;
        if (Clock::now() >= deadline) return false;
        if (pidfd_.open()) {
            pollfd p{pidfd_.get(), POLLIN, 0};
            ::poll(&p, 1, poll_ms(deadline));
        } else {
            std::this_thread::sleep_for(std::min<Clock::duration>(kReapTick, deadline - Clock::now()));
        }
    }
}

std::string Process::status_text() const {
    std::lock_guard lock(mu_);
    if (!reaped_) return "running";
    if (WIFSIGNALED(status_)) return "killed by signal " + std::to_string(WTERMSIG(status_));
    return "exited with status " + std::to_string(WEXITSTATUS(status_));
}

int Process::exit_code() const {
    std::lock_guard lock(mu_);
    if (!reaped_) return -1;
    if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
    return WEXITSTATUS(status_);
}

void Process::signal_group(int sig) {
    std::lock_guard lock(mu_);
    if (!reap_locked(false)) ::kill(-pid_, sig);
}

void Process::stop(std::chrono::milliseconds grace) {
    close_stdin();
    if (wait_exit(grace)) return;
    signal_group(SIGTERM);
    if (wait_exit(grace)) return;
    signal_group(SIGKILL);
    std::lock_guard lock(mu_);
    reap_locked(true);
}

}  // namespace fracta::proc
