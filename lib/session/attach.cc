// attach.cc — the supervisor's side of attach (attach.h): a thread that
// accepts clients on attach.sock and moves frames between them and the pty.
#include "session/attach.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <mutex>
#include <thread>
#include <vector>

#include "base/io.h"
#include "http/unix_path.h"
#include "session/attach_wire.h"

namespace fracta::session {
namespace {

constexpr size_t kBehindLimit = 4u << 20;
constexpr size_t kReplay = 8192;

struct Client {
    int fd = -1;
    std::string in, out;
    bool dead = false;
};

class Hub final : public AttachHub {
public:
    Hub(int listen_fd, int wake_fd, const SessionDir& dir, TerminalInput& input, int master)
        : listen_(listen_fd), wake_(wake_fd), dir_(dir), input_(input), master_(master) {
        thread_ = std::thread([this] { run(); });
    }
    ~Hub() override { finish(-1); }

    void broadcast(const char* data, size_t n) override {
        std::lock_guard<std::mutex> lock(mu_);
        if (clients_.empty()) return;
        const std::string frame = attach_frame('o', std::string_view(data, n));
        for (Client& c : clients_) {
            c.out += frame;
            if (c.out.size() > kBehindLimit) c.dead = true;
        }
        wake();
    }

    void finish(int exit_code) override {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (finished_) return;
            finished_ = true;
            if (exit_code >= 0)
                for (Client& c : clients_) c.out += attach_frame('x', std::to_string(exit_code));
            wake();
        }
        if (thread_.joinable()) thread_.join();
        ::close(listen_);
        ::close(wake_);
    }

private:
    void wake() {
        uint64_t one = 1;
        ssize_t ignored = ::write(wake_, &one, sizeof one);
        (void)ignored;
    }

    // The end of the recent output, from a line start when there is one, so
    // that a shell's prompt shows at once.
    std::string replay() const {
        int fd = ::open(dir_.file("output.log").c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return "";
        struct stat st;
        std::string data;
        if (::fstat(fd, &st) == 0 && st.st_size > 0) {
            off_t from = st.st_size > static_cast<off_t>(kReplay) ? st.st_size - static_cast<off_t>(kReplay) : 0;
            data.resize(static_cast<size_t>(st.st_size - from));
            ssize_t n = ::pread(fd, data.data(), data.size(), from);
            data.resize(n > 0 ? static_cast<size_t>(n) : 0);
            size_t nl = data.find('\n');
            if (from > 0 && nl != std::string::npos) data.erase(0, nl + 1);
        }
        ::close(fd);
        return data;
    }

    void resize(uint16_t rows, uint16_t cols) {
        if (master_ < 0 || rows == 0 || cols == 0) return;
        struct winsize now = {};
        ::ioctl(master_, TIOCGWINSZ, &now);
        if (now.ws_row == rows && now.ws_col == cols) {
            // Same size: change it for an instant, so the program still
            // gets its SIGWINCH and redraws for the newcomer.
            struct winsize nudge_size = {rows, static_cast<unsigned short>(cols > 1 ? cols - 1 : cols + 1), 0, 0};
            ::ioctl(master_, TIOCSWINSZ, &nudge_size);
        }
        struct winsize ws = {rows, cols, 0, 0};
        ::ioctl(master_, TIOCSWINSZ, &ws);
    }

    // Frames a client sent; false: it broke the protocol.
    bool consume(Client& c) {
        for (;;) {
            auto frame = take_attach_frame(c.in);
            if (!frame.ok()) return false;
            if (!*frame) return true;
            const auto& [type, payload] = **frame;
            if (type == 'i') {
                if (!input_.type(payload).ok()) return true;  // the session stopped reading: drop it
            } else if (type == 'w' && payload.size() == 4) {
                auto byte = [&p = payload](size_t i) { return static_cast<uint16_t>(static_cast<unsigned char>(p[i])); };
                resize(static_cast<uint16_t>(byte(0) << 8 | byte(1)), static_cast<uint16_t>(byte(2) << 8 | byte(3)));
            }
        }
    }

    void accept_client() {
        int fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) return;
        Client c;
        c.fd = fd;
        std::string recent = replay();
        if (!recent.empty()) c.out = attach_frame('o', recent);
        std::lock_guard<std::mutex> lock(mu_);
        clients_.push_back(std::move(c));
    }

    void run() {
        for (;;) {
            std::vector<struct pollfd> fds = {{wake_, POLLIN, 0}, {listen_, POLLIN, 0}};
            bool finishing;
            {
                std::lock_guard<std::mutex> lock(mu_);
                finishing = finished_;
                for (const Client& c : clients_)
                    fds.push_back({c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
            }
            if (finishing) break;
            if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
            uint64_t drained;
            while (::read(wake_, &drained, sizeof drained) > 0) {
            }
            if (fds[1].revents & POLLIN) accept_client();
            std::lock_guard<std::mutex> lock(mu_);
            for (size_t i = 2; i < fds.size(); ++i) {
                Client* c = nullptr;
                for (Client& each : clients_)
                    if (each.fd == fds[i].fd) c = &each;
                if (!c) continue;
                if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                    char buf[16384];
                    ssize_t n = ::read(c->fd, buf, sizeof buf);
                    if (n > 0) {
                        c->in.append(buf, static_cast<size_t>(n));
                        if (!consume(*c)) c->dead = true;
                    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                        c->dead = true;
                    }
                }
                flush_some(*c);
            }
            drop_dead();
        }
        // The end: hand every client its last frames (bounded), then close.
        std::lock_guard<std::mutex> lock(mu_);
        for (Client& c : clients_) {
            int flags = ::fcntl(c.fd, F_GETFL);
            ::fcntl(c.fd, F_SETFL, flags & ~O_NONBLOCK);
            struct timeval tv = {1, 0};
            ::setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            write_fully(c.fd, c.out);
            ::close(c.fd);
        }
        clients_.clear();
    }

    void flush_some(Client& c) {
        while (!c.out.empty() && !c.dead) {
            ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
            if (n > 0) c.out.erase(0, static_cast<size_t>(n));
            else if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
            else c.dead = true;
        }
    }

    void drop_dead() {
        for (auto it = clients_.begin(); it != clients_.end();) {
            if (it->dead) {
                ::close(it->fd);
                it = clients_.erase(it);
            } else {
                ++it;
            }
        }
    }

    int listen_, wake_;
    const SessionDir& dir_;
    TerminalInput& input_;
    int master_;
    std::mutex mu_;
    std::vector<Client> clients_;
    bool finished_ = false;
    std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<AttachHub>> AttachHub::start(const std::string& socket_path, const SessionDir& dir,
                                                    TerminalInput& input, int master) {
    FRACTA_TRY_ASSIGN(where, http::detail::UnixPath::open(socket_path));
    ::unlinkat(where.at_dir(), where.at_name().c_str(), 0);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return failure("attach socket: " + io::errno_text(errno));
    // The state directory is the owner's alone (0700): whoever can attach
    // can type into the session.
    if (::bind(fd, where.addr(), where.addr_len()) != 0 || ::listen(fd, 16) != 0) {
        int err = errno;
        ::close(fd);
        return failure("attach socket " + socket_path + ": " + io::errno_text(err));
    }
    int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake < 0) {
        ::close(fd);
        return failure("eventfd: " + io::errno_text(errno));
    }
    return std::unique_ptr<AttachHub>(new Hub(fd, wake, dir, input, master));
}

}  // namespace fracta::session
