#include "session/supervisor.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "base/io.h"
#include "base/memory.h"
#include "base/time.h"
#include "http/server.h"
#include "session/attach.h"
#include "session/control_api.h"
#include "session/session_dir.h"
#include "session/terminal_input.h"

namespace fracta::session {
namespace {

using Clock = std::chrono::steady_clock;

void say_ready(int& fd, const std::string& line) {
    if (fd < 0) return;
    ssize_t ignored = ::write(fd, line.data(), line.size());
    (void)ignored;
    ::close(fd);
    fd = -1;
}

bool group_alive(int pgid) { return pgid > 0 && ::kill(-pgid, 0) == 0; }

// The session's output: a pty master or the read end of a pipe.
struct Child {
    pid_t pid = -1;
    int output = -1;        // read side
    int terminal = -1;      // pty master for writing input (stream), else -1
    int peer = -1;          // our own handle on the pty's terminal side (stream), else -1
};

// The child's side of spawn(): standard streams on the pty's terminal side
// (which becomes its controlling terminal) or on /dev/null and the output
// pipe, nothing else open, default signals, the work directory, then exec.
// Only async-signal-safe calls; an errno goes back through err_w.
[[noreturn]] void exec_child(const SuperviseOptions& o, const std::string& slave_name, int out_w, int err_w,
                             char* const* argv) {
    ::setsid();
    if (!slave_name.empty()) {
        int slave = ::open(slave_name.c_str(), O_RDWR);
        if (slave < 0) ::_exit(126);
        ::ioctl(slave, TIOCSCTTY, 0);
        ::dup2(slave, 0);
        ::dup2(slave, 1);
        ::dup2(slave, 2);
        if (slave > 2) ::close(slave);
    } else {
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        ::dup2(out_w, 1);
        ::dup2(out_w, 2);
    }
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // the command gets 0, 1, 2 and nothing else
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD}) ::signal(s, SIG_DFL);
    if (o.work_dir.empty() || ::chdir(o.work_dir.c_str()) == 0) ::execvp(argv[0], argv);
    int e = errno;
    ssize_t ignored = ::write(err_w, &e, sizeof e);
    (void)ignored;
    ::_exit(127);
}

// Fork the command in a new session (its own process group) with the pty or
// pipe as its standard streams. Exec failures come back through a CLOEXEC pipe.
Result<Child> spawn(const SuperviseOptions& o) {
    const bool stream = o.mode == "stream";
    int master = -1, out_pipe[2] = {-1, -1};
    std::string slave_name;
    if (stream) {
        master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0)
            return failure("open pty: " + io::errno_text(errno));
        slave_name = ::ptsname(master);
        struct winsize ws = {50, 200, 0, 0};
        ::ioctl(master, TIOCSWINSZ, &ws);
    } else if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
        return failure("pipe: " + io::errno_text(errno));
    }
    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) return failure("pipe: " + io::errno_text(errno));

    std::vector<char*> argv;
    for (const std::string& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) return temporary_error("fork: " + io::errno_text(errno));
    if (pid == 0) exec_child(o, slave_name, out_pipe[1], err_pipe[1], argv.data());
    ::close(err_pipe[1]);
    int child_errno = 0;
    ssize_t n;
    do n = ::read(err_pipe[0], &child_errno, sizeof child_errno);
    while (n < 0 && errno == EINTR);
    ::close(err_pipe[0]);
    if (n > 0) {
        ::waitpid(pid, nullptr, 0);
        return failure("cannot run " + o.argv[0] + ": " + io::errno_text(child_errno));
    }
    Child c;
    c.pid = pid;
    if (stream) {
        c.output = master;
        c.terminal = master;
        // Only to see whether typed input has been read (terminal_input.h);
        // never a controlling terminal of ours.
        c.peer = ::open(slave_name.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    } else {
        ::close(out_pipe[1]);
        c.output = out_pipe[0];
    }
    ::fcntl(c.output, F_SETFL, ::fcntl(c.output, F_GETFL) | O_NONBLOCK);
    return c;
}

// output.log: appended to as output arrives; keeps the newest half when full.
// With copy, every byte goes to stdout too (a pod's container log).
class Log {
public:
    Log(std::string path, uint64_t cap, bool copy) : path_(std::move(path)), cap_(cap), copy_(copy) { open(); }
    ~Log() {
        if (fd_ >= 0) ::close(fd_);
    }

    void append(const char* data, size_t n) {
        std::lock_guard<std::mutex> lock(mu_);
        if (copy_) (void)io::write_stdout(std::string_view(data, n));
        if (fd_ < 0) return;
        ssize_t w = ::write(fd_, data, n);
        if (w > 0) size_ += static_cast<uint64_t>(w);
        if (size_ > cap_) rotate();
    }

    void clear() {
        std::lock_guard<std::mutex> lock(mu_);
        if (fd_ >= 0 && ::ftruncate(fd_, 0) == 0) size_ = 0;
    }

private:
    void open() {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        struct stat st;
        size_ = fd_ >= 0 && ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    }
    void rotate() {
        int in = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (in < 0) return;
        std::string keep(cap_ / 2, '\0');
        ssize_t n = ::pread(in, keep.data(), keep.size(), static_cast<off_t>(size_ - keep.size()));
        ::close(in);
        if (n <= 0) return;
        keep.resize(static_cast<size_t>(n));
        if (!io::write_file_atomic(path_, keep, 0600).ok()) return;
        ::close(fd_);
        open();
    }

    std::string path_;
    uint64_t cap_;
    bool copy_;
    int fd_ = -1;
    uint64_t size_ = 0;
    std::mutex mu_;
};

// Signals arrive through a signalfd; they are blocked before any thread
// starts, so no thread of ours ever takes one.
int signal_fd() {
    sigset_t handled;
    sigemptyset(&handled);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&handled, s);
    ::sigprocmask(SIG_BLOCK, &handled, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    return ::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
}

// The session's lock: the one our parent holds for us, or taken here.
// Ours alone: the command must not inherit it.
Result<int> session_lock(const SuperviseOptions& o, const SessionDir& dir) {
    int lock_fd = o.lock_fd;
    if (lock_fd < 0) {
        auto taken = take_lock(dir.file("lock"), std::chrono::milliseconds(200));
        if (!taken.ok()) return usage_error(o.name + ": " + taken.error().message).context("supervise");
        lock_fd = *taken;
    }
    ::fcntl(lock_fd, F_SETFD, FD_CLOEXEC);
    return lock_fd;
}

// A start that failed after the state was first written: the state says
// the session ended with `code`.
void record_failed_start(const SessionDir& dir, State& state, int code) {
    state.phase = "exited";
    state.exit_code = code;
    state.ended_at = format_rfc3339(now());
    (void)dir.write_state(state);
}

// The control API (control_api.h) on the session's socket, or on o.control's
// TCP address in an agent pod.
Result<std::unique_ptr<http::Server>> serve_control(const SuperviseOptions& o, const SessionDir& dir,
                                                    TerminalInput& input, Log& log, pid_t pgid) {
    SessionControl control;
    control.dir = &dir;
    control.work_dir = o.work_dir.empty() ? "." : o.work_dir;
    control.type = [&input](const std::string& bytes) { return input.type(bytes); };
    control.nudge = [&input](const std::string& text, std::chrono::milliseconds wait) {
        return input.nudge(text, wait);
    };
    control.signal_group = [pgid](int sig) { ::kill(-pgid, sig); };
    control.request_stop = [] { ::kill(::getpid(), SIGTERM); };
    control.clear_log = [&log] { log.clear(); };
    control.session_id = pgid;  // the command leads its own session

    http::ServerOptions server_options;
    server_options.bearer_token = o.control_token;
    server_options.token_header = "X-Fracta-Token";  // through the pod proxy, which drops Authorization
    server_options.thread_per_connection = true;     // a nudge waiting for its reaction holds up nobody
    return o.control.empty()
               ? http::Server::listen_unix(dir.file("control.sock"), control_handler(control), server_options)
               : http::Server::listen_tcp(o.control, control_handler(control), server_options);
}

// Where the command's output goes: the log, the attached terminals, and the
// input's count of what the program has printed since a nudge.
struct OutputSinks {
    Log& log;
    TerminalInput& input;
    AttachHub* hub;

    void take(const char* data, size_t n, bool live) const {
        log.append(data, n);
        if (live) input.saw_output(data, n);
        if (hub) hub->broadcast(data, n);
    }
};

// The loop: copy output, react to signals, until the command has exited.
// A first TERM, INT, HUP or QUIT stops the session: TERM to the group (and
// HUP under a terminal), KILL after o.stop_grace. Returns the wait status.
int run_until_exit(const SuperviseOptions& o, Child& child, int sig_fd, const OutputSinks& sinks, State& state) {
    const pid_t pgid = child.pid;
    int wait_status = 0;
    bool exited = false, stopping = false;
    Clock::time_point kill_at;
    char buf[65536];
    while (!exited) {
        int timeout = -1;
        if (stopping) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(kill_at - Clock::now()).count();
            timeout = static_cast<int>(std::max<long long>(0, left));
        }
        struct pollfd fds[2] = {{sig_fd, POLLIN, 0}, {child.output, POLLIN, 0}};
        int n = ::poll(fds, child.output >= 0 ? 2 : 1, timeout);
        if (n < 0 && errno != EINTR) break;
        if (stopping && Clock::now() >= kill_at) {
            ::kill(-pgid, SIGKILL);
            kill_at = Clock::now() + std::chrono::hours(24);
        }
        if (child.output >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = ::read(child.output, buf, sizeof buf);
            if (r > 0) {
                sinks.take(buf, static_cast<size_t>(r), true);
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                // Pipe closed, or EIO from a pty whose other side is gone.
                if (child.terminal < 0) ::close(child.output);
                child.output = -1;
            }
        }
        struct signalfd_siginfo si;
        while (::read(sig_fd, &si, sizeof si) == sizeof si) {
            if (si.ssi_signo == SIGCHLD) {
                if (::waitpid(pgid, &wait_status, WNOHANG) == pgid) exited = true;
            } else if (!stopping) {
                stopping = true;
                state.stopped = true;
                ::kill(-pgid, SIGTERM);
                if (child.terminal >= 0) ::kill(-pgid, SIGHUP);
                kill_at = Clock::now() + o.stop_grace;
            }
        }
    }
    return wait_status;
}

// After the command's exit: whatever it wrote last is still in the pipe or
// pty: drain it without waiting for grandchildren that may hold the pipe
// open; then nothing of the session outlives it.
void drain_and_end_group(Child& child, const OutputSinks& sinks) {
    char buf[65536];
    while (child.output >= 0) {
        ssize_t r = ::read(child.output, buf, sizeof buf);
        if (r <= 0) break;
        sinks.take(buf, static_cast<size_t>(r), false);
    }
    const pid_t pgid = child.pid;
    if (group_alive(pgid)) {
        ::kill(-pgid, SIGTERM);
        for (int i = 0; i < 20 && group_alive(pgid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
        if (group_alive(pgid)) ::kill(-pgid, SIGKILL);
    }
}

// The exit code of a wait status (128 + signal when a signal ended it),
// recorded in the state with the end time.
int record_exit(const SessionDir& dir, State& state, int wait_status) {
    state.phase = "exited";
    state.ended_at = format_rfc3339(now());
    int code = 0;
    if (WIFEXITED(wait_status)) {
        code = WEXITSTATUS(wait_status);
    } else if (WIFSIGNALED(wait_status)) {
        state.signal = WTERMSIG(wait_status);
        code = 128 + state.signal;
    }
    state.exit_code = code;
    (void)dir.write_state(state);
    return code;
}

}  // namespace

Result<int> supervise(const SuperviseOptions& o) {
    FRACTA_TRY(validate_name(o.name));
    if (o.argv.empty()) return usage_error("no command to supervise");
    SessionDir dir(o.root, o.name);
    int ready_fd = o.ready_fd;
    auto fail_start = [&](Error e) -> Error {
        say_ready(ready_fd, "error: " + e.message + "\n");
        return e;
    };

    if (Status made = io::make_dirs(dir.path(), 0700); !made.ok()) return fail_start(made.error());
    auto lock = session_lock(o, dir);
    if (!lock.ok()) return fail_start(lock.error());
    const int lock_fd = *lock;
    if (ready_fd >= 0) ::fcntl(ready_fd, F_SETFD, FD_CLOEXEC);  // the command must not inherit it either
    int sig_fd = signal_fd();

    State state;
    state.name = o.name;
    state.mode = o.mode;
    state.supervisor_pid = ::getpid();
    state.work_dir = o.work_dir;
    state.started_at = format_rfc3339(now());
    if (Status w = dir.write_state(state); !w.ok()) return fail_start(w.error());

    Log log(dir.file("output.log"), o.log_cap, o.copy_output);
    auto child = spawn(o);
    if (!child.ok()) {
        record_failed_start(dir, state, 127);
        return fail_start(child.error());
    }
    const pid_t pgid = child->pid;
    state.pgid = pgid;

    TerminalInput input(child->terminal, child->peer, o.nudge_keys);
    auto server = serve_control(o, dir, input, log, pgid);
    if (!server.ok()) {
        ::kill(-pgid, SIGKILL);
        ::waitpid(pgid, nullptr, 0);
        record_failed_start(dir, state, 126);
        return fail_start(server.error().context("control API"));
    }

    // A terminal can be attached to (attach.h); without the socket a session
    // still runs, only attach is refused.
    std::unique_ptr<AttachHub> hub;
    if (child->terminal >= 0) {
        auto started = AttachHub::start(dir.file("attach.sock"), dir, input, child->terminal);
        if (started.ok()) hub = std::move(*started);
    }

    state.phase = "running";
    state.control = (*server)->address();
    (void)dir.write_state(state);
    say_ready(ready_fd, "ready\n");
    // From here on the supervisor mostly sleeps in poll(): let go of the
    // code that starting up touched (issue: idle RSS per session).
    memory::release_clean_code_pages();

    const OutputSinks sinks{log, input, hub.get()};
    int wait_status = run_until_exit(o, *child, sig_fd, sinks, state);
    input.ended();
    drain_and_end_group(*child, sinks);
    // A nudge the program answered by ending (`exit`) still gets its answer.
    (void)(*server)->wait_idle(std::chrono::seconds(2));
    int code = record_exit(dir, state, wait_status);
    // After the state: an attached client may read it next. Before the
    // control API stops: that waits for the attach relays (/v1/attach),
    // which end when the hub closes their connections.
    if (hub) hub->finish(code);
    (*server)->stop();
    ::unlink(dir.file("control.sock").c_str());
    ::unlink(dir.file("attach.sock").c_str());
    if (child->terminal >= 0) ::close(child->terminal);
    if (child->peer >= 0) ::close(child->peer);
    ::close(sig_fd);
    ::close(lock_fd);  // last: from here on the session reads as ended
    return code;
}

}  // namespace fracta::session
