#include "proc/run.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <utility>

#include "base/io.h"
#include "proc/spawn.h"

namespace fracta::proc {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kKillGrace = std::chrono::seconds(2);  // SIGTERM → SIGKILL
// After SIGKILL, how long we keep reading pipes that a process which left the
// group still holds open, once the child itself is gone.
constexpr auto kGiveUp = std::chrono::seconds(1);
// Without a pidfd (old kernels, seccomp) the child's exit is noticed by polling.
constexpr int kReapTickMs = 10;

std::string errno_text(int err) {
    return io::errno_text(err);
}

void record_status(int status, Outcome& o) {
    if (WIFEXITED(status)) {
        o.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        o.signal = WTERMSIG(status);
        o.exit_code = 128 + o.signal;
    }
}

// The running child, from its first byte of input to its exit.
class Child {
public:
    Child(pid_t pid, const Command& c, Fd in, Fd out, Fd err)
        : pid_(pid), cmd_(c), input_(c.input), in_(std::move(in)), out_(std::move(out)), err_(std::move(err)) {
        if (input_.empty()) in_.reset();
        // glibc 2.36's <sys/pidfd.h> lacks extern "C"; the syscall is the same.
        long pidfd = ::syscall(SYS_pidfd_open, pid, 0);
        if (pidfd >= 0) pidfd_ = Fd(static_cast<int>(pidfd));
    }

    Result<Outcome> wait() {
        const auto deadline = Clock::now() + cmd_.timeout;
        Clock::time_point kill_at, give_up_at;
        enum { kRunning, kTermSent, kKillSent } phase = kRunning;
        for (;;) {
            if (!exited_ && !pidfd_.open()) reap(WNOHANG);
            if (exited_ && !out_.open() && !err_.open()) break;
            auto now = Clock::now();
            if (phase == kRunning && now >= deadline) {
                outcome_.timed_out = true;
                ::kill(-pid_, SIGTERM);
                phase = kTermSent;
                kill_at = now + kKillGrace;
            }
            if (phase == kTermSent && now >= kill_at) {
                ::kill(-pid_, SIGKILL);
                phase = kKillSent;
                give_up_at = now + kGiveUp;
            }
            if (phase == kKillSent && exited_ && now >= give_up_at) break;

            auto next = phase == kRunning ? deadline : phase == kTermSent ? kill_at : give_up_at;
            auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
            int timeout = static_cast<int>(std::clamp<decltype(wait_ms)>(wait_ms, 0, 60000));
            if (phase == kKillSent && !exited_) timeout = -1;  // SIGKILL is sent: only its exit is left
            if (!exited_ && !pidfd_.open()) timeout = timeout < 0 ? kReapTickMs : std::min(timeout, kReapTickMs);

            pollfd fds[4];
            nfds_t n = 0;
            auto watch = [&](const Fd& fd, short events) {
                if (!fd.open()) return static_cast<pollfd*>(nullptr);
                fds[n] = pollfd{fd.get(), events, 0};
                return &fds[n++];
            };
            pollfd* in = watch(in_, POLLOUT);
            pollfd* out = watch(out_, POLLIN);
            pollfd* err = watch(err_, POLLIN);
            pollfd* exit = exited_ ? nullptr : watch(pidfd_, POLLIN);
            if (::poll(fds, n, timeout) < 0) {
                if (errno == EINTR || errno == EAGAIN || errno == ENOMEM) continue;
                return abandon("poll: " + errno_text(errno));
            }
            if (in && in->revents) write_input();
            if (out && out->revents) drain(out_, outcome_.out);
            if (err && err->revents) drain(err_, outcome_.err);
            if (exit && exit->revents) reap(WNOHANG);
        }
        return std::move(outcome_);
    }

private:
    void write_input() {
        size_t chunk = std::min<size_t>(input_.size(), 1 << 16);
        ssize_t n = ::write(in_.get(), input_.data(), chunk);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            in_.reset();  // EPIPE: the program stopped reading; that is its business
            return;
        }
        input_.remove_prefix(static_cast<size_t>(n));
        if (input_.empty()) in_.reset();
    }

    void drain(Fd& fd, std::string& into) {
        char buf[1 << 16];
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            fd.reset();
            return;
        }
        if (n == 0) {
            fd.reset();
            return;
        }
        size_t room = cmd_.max_output - std::min(cmd_.max_output, into.size());
        size_t keep = std::min(room, static_cast<size_t>(n));
        if (keep < static_cast<size_t>(n)) outcome_.truncated = true;
        into.append(buf, keep);
    }

    void reap(int flags) {
        int status = 0;
        pid_t r;
        while ((r = ::waitpid(pid_, &status, flags)) < 0 && errno == EINTR) {
        }
        if (r == pid_) {
            record_status(status, outcome_);
            exited_ = true;
        } else if (r < 0) {
            exited_ = true;  // ECHILD: reaped by someone else (SIGCHLD ignored); the status is lost
        }
    }

    Error abandon(const std::string& why) {
        ::kill(-pid_, SIGKILL);
        if (!exited_) reap(0);
        return failure("run " + cmd_.argv[0] + ": " + why);
    }

    pid_t pid_;
    const Command& cmd_;
    std::string_view input_;
    Fd in_, out_, err_, pidfd_;
    bool exited_ = false;
    Outcome outcome_;
};

}  // namespace

Command shell(const std::string& command_line) {
    Command c;
    c.argv = {"/bin/sh", "-c", command_line};
    return c;
}
Result<Outcome> run(const Command& c) {
    FRACTA_TRY_ASSIGN(child, spawn(c));
    SigpipeBlock sigpipe;  // Child writes c.input to the child's stdin
    Child running(child.pid, c, std::move(child.in), std::move(child.out), std::move(child.err));
    return running.wait();
}

std::string shell_quote(const std::vector<std::string>& argv) {
    std::string line;
    for (const std::string& word : argv) {
        if (!line.empty()) line += ' ';
        bool plain = !word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                             "0123456789_-+=/.,:@%") == std::string::npos;
        if (plain) {
            line += word;
            continue;
        }
        line += '\'';
        for (char c : word) line += c == '\'' ? std::string("'\\''") : std::string(1, c);
        line += '\'';
    }
    return line;
}

}  // namespace fracta::proc
