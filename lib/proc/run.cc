#include "proc/run.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include "base/io.h"

extern char** environ;

namespace fracta::proc {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kKillGrace = std::chrono::seconds(2);  // SIGTERM → SIGKILL
// After SIGKILL, how long we keep reading pipes that a process which left the
// group still holds open, once the child itself is gone.
constexpr auto kGiveUp = std::chrono::seconds(1);
// Without a pidfd (old kernels, seccomp) the child's exit is noticed by polling.
constexpr int kReapTickMs = 10;
constexpr char kDefaultPath[] = "/bin:/usr/bin";

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
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

std::string errno_text(int err) {
    return io::errno_text(err);
}

// Move a close-on-exec descriptor above 2, so the child can dup2 its pipe ends
// onto 0, 1 and 2 in any order without clobbering one with another (our own
// 0-2 may be closed, and pipe2 then hands them out).
Status lift_above_stdio(Fd& fd) {
    if (fd.get() > 2) return {};
    int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
    if (moved < 0) return temporary_error("fcntl: " + errno_text(errno));
    fd = Fd(moved);
    return {};
}

struct Pipe {
    Fd read, write;
};

Result<Pipe> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return temporary_error("pipe: " + errno_text(errno));
    Pipe p{Fd(fds[0]), Fd(fds[1])};
    FRACTA_TRY(lift_above_stdio(p.read));
    FRACTA_TRY(lift_above_stdio(p.write));
    return p;
}

void set_nonblocking(const Fd& fd) {
    int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
}

// Writing to a child that closed its stdin raises SIGPIPE, which would kill
// the whole process. The library must not change the process's signal
// dispositions, so SIGPIPE is blocked in this thread only while we run, and a
// SIGPIPE our writes left pending is consumed before the mask is restored.
class SigpipeBlock {
public:
    SigpipeBlock() {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_, &saved_);
        was_pending_ = pending();
    }
    ~SigpipeBlock() {
        if (!was_pending_ && pending()) {
            const timespec zero{0, 0};
            while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
    }
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;

private:
    static bool pending() {
        sigset_t set;
        sigemptyset(&set);
        sigpending(&set);
        return sigismember(&set, SIGPIPE) == 1;
    }
    sigset_t pipe_{};
    sigset_t saved_{};
    bool was_pending_ = false;
};

bool env_name_ok(const std::string& name) {
    return !name.empty() && name.find('=') == std::string::npos;
}

// The child's environment: ours, minus unset_env and the names env sets, plus env.
Result<std::vector<std::string>> child_environment(const Command& c) {
    for (const auto& [name, value] : c.env)
        if (!env_name_ok(name)) return usage_error("environment variable name \"" + name + "\": not valid");
    auto dropped = [&](std::string_view name) {
        if (c.env.count(std::string(name))) return true;
        return std::find(c.unset_env.begin(), c.unset_env.end(), name) != c.unset_env.end();
    };
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string_view entry(*e);
        if (!dropped(entry.substr(0, entry.find('=')))) env.emplace_back(entry);
    }
    for (const auto& [name, value] : c.env) env.push_back(name + "=" + value);
    return env;
}

const char* lookup(const std::vector<std::string>& env, std::string_view name) {
    for (const auto& entry : env)
        if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 && entry[name.size()] == '=')
            return entry.c_str() + name.size() + 1;
    return nullptr;
}

// Find argv[0] in the child's PATH the way execvp does, but before forking,
// so that "not found" never needs a child. Empty PATH elements mean the
// working directory (the child's, when cwd is set).
Result<std::string> resolve_program(const std::string& name, const std::vector<std::string>& env,
                                    const std::string& cwd) {
    if (name.find('/') != std::string::npos) return name;
    const char* path_var = lookup(env, "PATH");
    std::string_view path = path_var ? path_var : kDefaultPath;
    bool denied = false;
    for (size_t start = 0;;) {
        size_t colon = path.find(':', start);
        std::string_view dir = path.substr(start, colon == std::string_view::npos ? colon : colon - start);
        std::string candidate = std::string(dir.empty() ? std::string_view(".") : dir) + "/" + name;
        std::string on_disk = candidate[0] == '/' || cwd.empty() ? candidate : cwd + "/" + candidate;
        struct stat st;
        if (::stat(on_disk.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
            if (::access(on_disk.c_str(), X_OK) == 0) return candidate;
            denied = true;
        }
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    if (denied) return fail(ErrorKind::CannotExec, "exec " + name + ": " + errno_text(EACCES));
    return fail(ErrorKind::NotFound, "exec " + name + ": not found");
}

// What the child reports through its close-on-exec pipe when it fails
// before or at exec; a successful exec closes the pipe with nothing written.
enum Stage : int { kStageSetup = 1, kStageChdir = 2, kStageExec = 3 };
struct ChildReport {
    int stage = 0;
    int err = 0;
};

struct ChildPlan {
    const char* path;
    char* const* argv;
    char* const* envp;
    const char* cwd;  // nullptr: stay
    int in, out, err, report;
};

[[noreturn]] void child_failed(int report_fd, int stage) {
    ChildReport r{stage, errno};
    ssize_t ignored = ::write(report_fd, &r, sizeof r);
    (void)ignored;
    ::_exit(127);
}

// Between fork and exec: async-signal-safe calls only, no allocation.
[[noreturn]] void become_child(const ChildPlan& p) {
    ::setpgid(0, 0);
    // Ignored signals stay ignored across exec (a parent ignoring SIGPIPE
    // would hand that on); give the program the defaults and an empty mask.
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);

    if (::dup2(p.in, 0) < 0 || ::dup2(p.out, 1) < 0 || ::dup2(p.err, 2) < 0) child_failed(p.report, kStageSetup);
    if (p.cwd && ::chdir(p.cwd) != 0) child_failed(p.report, kStageChdir);
    // Descriptors opened elsewhere in the process without O_CLOEXEC must not
    // leak into the program (they would hold pipes and locks open).
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execve(p.path, p.argv, p.envp);
    child_failed(p.report, kStageExec);
}

Error start_error(const ChildReport& r, const Command& c) {
    switch (r.stage) {
        case kStageChdir:
            return failure("chdir " + c.cwd + ": " + errno_text(r.err));
        case kStageExec:
            if (r.err == ENOENT || r.err == ENOTDIR)
                return fail(ErrorKind::NotFound, "exec " + c.argv[0] + ": " + errno_text(r.err));
            return fail(ErrorKind::CannotExec, "exec " + c.argv[0] + ": " + errno_text(r.err));
        default:
            return failure("start " + c.argv[0] + ": " + errno_text(r.err));
    }
}

void wait_blocking(pid_t pid) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
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
        set_nonblocking(in_);
        set_nonblocking(out_);
        set_nonblocking(err_);
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
    if (c.argv.empty() || c.argv[0].empty()) return usage_error("run: empty command");
    FRACTA_TRY_ASSIGN(env, child_environment(c));
    FRACTA_TRY_ASSIGN(path, resolve_program(c.argv[0], env, c.cwd));

    // Everything the child needs is built here: it may not allocate.
    std::vector<char*> argv, envp;
    for (const auto& a : c.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    FRACTA_TRY_ASSIGN(in, make_pipe());
    FRACTA_TRY_ASSIGN(out, make_pipe());
    FRACTA_TRY_ASSIGN(err, make_pipe());
    FRACTA_TRY_ASSIGN(report, make_pipe());
    ChildPlan plan{path.c_str(),  argv.data(),     envp.data(),     c.cwd.empty() ? nullptr : c.cwd.c_str(),
                   in.read.get(), out.write.get(), err.write.get(), report.write.get()};

    SigpipeBlock sigpipe;
    // No handler of ours may run in the child before it has reset them.
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t pid = ::fork();
    if (pid == 0) become_child(plan);
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    if (pid < 0) return temporary_error("fork: " + errno_text(fork_errno));
    // Also here, so the group exists before we could signal it (fails
    // harmlessly once the child has exec'd).
    ::setpgid(pid, pid);

    in.read.reset();
    out.write.reset();
    err.write.reset();
    report.write.reset();

    ChildReport failed;
    size_t got = 0;
    while (got < sizeof failed) {
        ssize_t n = ::read(report.read.get(), reinterpret_cast<char*>(&failed) + got, sizeof failed - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
    }
    if (got > 0) {
        wait_blocking(pid);
        if (got < sizeof failed) return failure("start " + c.argv[0] + ": lost the child's report");
        return start_error(failed, c);
    }

    Child child(pid, c, std::move(in.write), std::move(out.read), std::move(err.read));
    return child.wait();
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
