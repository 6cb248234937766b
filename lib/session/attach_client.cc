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

#include <cerrno>
#include <csignal>
#include <cstdlib>

#include "base/cli.h"
#include "base/io.h"
#include "session/attach.h"
#include "session/attach_wire.h"
#include "session/keys.h"

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

// attach.sock as a stream: a plain socket, read without blocking.
class SocketStream final : public http::ByteStream {
public:
    explicit SocketStream(int fd) : fd_(fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }
    ~SocketStream() override { ::close(fd_); }
    int fd() const override { return fd_; }
    Result<std::optional<std::string>> receive() override {
        std::string got;
        char buf[16384];
        for (;;) {
            ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n > 0) {
                got.append(buf, static_cast<size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) return std::optional<std::string>(std::move(got));
            if (got.empty()) return std::optional<std::string>();
            return std::optional<std::string>(std::move(got));  // the close shows on the next call
        }
    }
    Status send(std::string_view data) override {
        if (!write_fully(fd_, data)) return failure("the supervisor went away");
        return {};
    }

private:
    int fd_;
};

// Frames from the session: 'o' to the screen; 'x' its end (the code).
Result<std::optional<int>> show(std::string& from_session, int out) {
    for (;;) {
        FRACTA_TRY_ASSIGN(frame, take_attach_frame(from_session));
        if (!frame) return std::optional<int>();
        if (frame->first == 'o' && !write_fully(out, frame->second)) return failure("attach: output closed");
        if (frame->first == 'x') return std::optional<int>(std::atoi(frame->second.c_str()));
    }
}

}  // namespace

Result<AttachOptions> attach_options(const std::vector<std::string>& options) {
    static const cli::Command kAttach = {
        "attach",
        "NAME [--detach-key KEY]",
        "connect this terminal to the session's terminal",
        {{"detach-key", 0, "KEY", "the key that detaches: C-<letter> or one of C-\\ C-] C-^ C-_ (default C-\\)"}},
        {},
        ""};
    std::vector<std::string> words = {"attach"};
    words.insert(words.end(), options.begin(), options.end());
    FRACTA_TRY_ASSIGN(a, cli::parse(kAttach, words));
    AttachOptions o;
    if (a.has("detach-key")) {
        const std::string key = key_bytes(a.get("detach-key"));
        if (key.size() != 1 || static_cast<unsigned char>(key[0]) >= 0x20)
            return usage_error("--detach-key: use a control key such as C-\\, C-] or C-q");
        o.detach_key = key[0];
    }
    return o;
}

Result<int> attach_terminal(const SessionDir& dir, const AttachOptions& o) {
    std::optional<State> state;
    const std::string st = dir.status(&state);
    if (st == "absent") return failure("no session \"" + dir.name() + "\"");
    if (st != "running" && st != "starting")
        return failure("session \"" + dir.name() + "\" has ended (" + st + ")");
    if (state && state->mode != "stream")
        return usage_error("session \"" + dir.name() + "\" has no terminal (batch mode): nothing to attach to");
    auto sock = connect_attach(dir.file("attach.sock"));
    if (!sock.ok()) return failure("attach " + dir.name() + ": " + sock.error().message);
    SocketStream stream(*sock);
    return attach_stream(stream, dir.name(), o, [&dir] { return recorded_exit(dir); });
}

Result<int> attach_stream(http::ByteStream& stream, const std::string& name, const AttachOptions& o,
                          const std::function<int()>& closed_status) {
    sigset_t sigs;
    sigemptyset(&sigs);
    for (int s : {SIGWINCH, SIGTERM, SIGHUP, SIGINT}) sigaddset(&sigs, s);
    ::sigprocmask(SIG_BLOCK, &sigs, nullptr);
    int sig_fd = ::signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } sig_closer{sig_fd};

    RawMode raw(o.in);
    std::string window = window_frame(o.in, o.out);
    if (!window.empty() && !stream.send(window).ok()) return failure("attach: the supervisor went away");

    std::string from_session;
    bool stdin_open = true;
    bool check_stream = true;  // bytes may have come with the connection's set-up
    char buf[16384];
    for (;;) {
        struct pollfd fds[3] = {{stream.fd(), POLLIN, 0}, {sig_fd, POLLIN, 0}, {o.in, POLLIN, 0}};
        if (!check_stream && ::poll(fds, stdin_open ? 3 : 2, -1) < 0) {
            if (errno == EINTR) continue;
            return failure("poll: " + io::errno_text(errno));
        }
        struct signalfd_siginfo si;
        while (::read(sig_fd, &si, sizeof si) == sizeof si) {
            if (si.ssi_signo == SIGWINCH) {
                std::string w = window_frame(o.in, o.out);
                if (!w.empty()) (void)stream.send(w);
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
                if (!typed.substr(0, key).empty()) (void)stream.send(attach_frame('i', typed.substr(0, key)));
                if (key != std::string_view::npos) {
                    std::string note = "\r\n[detached from " + name + "]\r\n";
                    (void)write_fully(o.out, note);
                    return 0;
                }
            }
        }
        if (check_stream || (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            check_stream = false;
            auto got = stream.receive();
            if (!got.ok() || !*got) return closed_status();
            from_session += **got;
            FRACTA_TRY_ASSIGN(ended, show(from_session, o.out));
            if (ended) return *ended;
        }
    }
}

}  // namespace fracta::session
