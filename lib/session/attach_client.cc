// attach_client.cc — the caller's side of attach (attach.h): the terminal in
// raw mode, keys to the session, its output to the screen, window sizes
// forwarded, until the detach key or the session's end.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include "base/io.h"
#include "http/unix_path.h"
#include "session/attach.h"
#include "session/attach_wire.h"

namespace fracta::session {
namespace {

// Raw mode for as long as it lives; the terminal as it was afterwards,
// whatever way attach ends.
class RawMode {
public:
    explicit RawMode(int fd) : fd_(fd) {
        if (!::isatty(fd) || ::tcgetattr(fd, &saved_) != 0) return;
        struct termios raw = saved_;
        ::cfmakeraw(&raw);
        active_ = ::tcsetattr(fd, TCSADRAIN, &raw) == 0;
    }
    ~RawMode() {
        if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
    }

private:
    int fd_;
    struct termios saved_ = {};
    bool active_ = false;
};

std::string window_frame(int in, int out) {
    struct winsize ws = {};
    if (::ioctl(out, TIOCGWINSZ, &ws) != 0 && ::ioctl(in, TIOCGWINSZ, &ws) != 0) return "";
    if (ws.ws_row == 0 || ws.ws_col == 0) return "";
    const char p[4] = {static_cast<char>(ws.ws_row >> 8), static_cast<char>(ws.ws_row & 0xff),
                       static_cast<char>(ws.ws_col >> 8), static_cast<char>(ws.ws_col & 0xff)};
    return attach_frame('w', std::string_view(p, 4));
}

// The exit status the supervisor recorded, for a connection that closed
// without saying (a supervisor killed outright).
int recorded_exit(const SessionDir& dir) {
    std::optional<State> s;
    std::string st = dir.status(&s);
    if (st == "exited" && s && s->exit_code) return *s->exit_code;
    return 1;
}

}  // namespace

Result<int> attach_terminal(const SessionDir& dir, const AttachOptions& o) {
    std::optional<State> state;
    const std::string st = dir.status(&state);
    if (st == "absent") return failure("no session \"" + dir.name() + "\"");
    if (st != "running" && st != "starting")
        return failure("session \"" + dir.name() + "\" has ended (" + st + ")");
    if (state && state->mode != "stream")
        return usage_error("session \"" + dir.name() + "\" has no terminal (batch mode): nothing to attach to");

    FRACTA_TRY_ASSIGN(where, http::detail::UnixPath::open(dir.file("attach.sock")));
    int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return failure("socket: " + io::errno_text(errno));
    if (::connect(sock, where.addr(), where.addr_len()) != 0) {
        int err = errno;
        ::close(sock);
        return failure("attach " + dir.name() + ": " + io::errno_text(err));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{sock};

    sigset_t sigs;
    sigemptyset(&sigs);
    for (int s : {SIGWINCH, SIGTERM, SIGHUP, SIGINT}) sigaddset(&sigs, s);
    ::sigprocmask(SIG_BLOCK, &sigs, nullptr);
    int sig_fd = ::signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    struct Closer sig_closer{sig_fd};

    RawMode raw(o.in);
    std::string window = window_frame(o.in, o.out);
    if (!window.empty() && !write_fully(sock, window)) return failure("attach: the supervisor went away");

    std::string from_session;
    bool stdin_open = true;
    char buf[16384];
    for (;;) {
        struct pollfd fds[3] = {{sock, POLLIN, 0}, {sig_fd, POLLIN, 0}, {o.in, POLLIN, 0}};
        if (::poll(fds, stdin_open ? 3 : 2, -1) < 0) {
            if (errno == EINTR) continue;
            return failure("poll: " + io::errno_text(errno));
        }
        struct signalfd_siginfo si;
        while (::read(sig_fd, &si, sizeof si) == sizeof si) {
            if (si.ssi_signo == SIGWINCH) {
                std::string w = window_frame(o.in, o.out);
                if (!w.empty()) (void)write_fully(sock, w);
            } else {
                return 128 + static_cast<int>(si.ssi_signo);  // the attach itself was ended
            }
        }
        if (stdin_open && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = ::read(o.in, buf, sizeof buf);
            if (n <= 0) {
                stdin_open = false;  // keep showing the session until it ends
            } else {
                std::string_view typed(buf, static_cast<size_t>(n));
                size_t key = typed.find(o.detach_key);
                if (!typed.substr(0, key).empty()) (void)write_fully(sock, attach_frame('i', typed.substr(0, key)));
                if (key != std::string_view::npos) {
                    std::string note = "\r\n[detached from " + dir.name() + "]\r\n";
                    (void)write_fully(o.out, note);
                    return 0;
                }
            }
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(sock, buf, sizeof buf);
            if (n <= 0) return recorded_exit(dir);
            from_session.append(buf, static_cast<size_t>(n));
            for (;;) {
                FRACTA_TRY_ASSIGN(frame, take_attach_frame(from_session));
                if (!frame) break;
                if (frame->first == 'o' && !write_fully(o.out, frame->second)) return failure("attach: output closed");
                if (frame->first == 'x') return std::atoi(frame->second.c_str());
            }
        }
    }
}

}  // namespace fracta::session
