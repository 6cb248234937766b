#include "proc/spawn.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "base/io.h"

extern char** environ;

namespace fracta::proc {
namespace {

constexpr char kDefaultPath[] = "/bin:/usr/bin";

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

bool sigpipe_pending() {
    sigset_t set;
    sigemptyset(&set);
    sigpending(&set);
    return sigismember(&set, SIGPIPE) == 1;
}

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

}  // namespace

void set_nonblocking(const Fd& fd) {
    int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
}

void Fd::reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

SigpipeBlock::SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &saved_);
    was_pending_ = sigpipe_pending();
}

SigpipeBlock::~SigpipeBlock() {
    if (!was_pending_ && sigpipe_pending()) {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
}

Result<std::string> find_program(const Command& c) {
    if (c.argv.empty()) return usage_error("empty command");
    FRACTA_TRY_ASSIGN(env, child_environment(c));
    return resolve_program(c.argv[0], env, c.cwd);
}

Result<Spawned> spawn(const Command& c) {
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

    set_nonblocking(in.write);
    set_nonblocking(out.read);
    set_nonblocking(err.read);
    return Spawned{pid, std::move(in.write), std::move(out.read), std::move(err.read)};
}

}  // namespace fracta::proc
