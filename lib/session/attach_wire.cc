#include "session/attach_wire.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/io.h"
#include "http/unix_path.h"

namespace fracta::session {

std::string attach_frame(char type, std::string_view payload) {
    const uint32_t n = static_cast<uint32_t>(payload.size());
    std::string f(5, '\0');
    f[0] = type;
    for (int i = 0; i < 4; ++i) f[1 + i] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
    f.append(payload);
    return f;
}

Result<std::optional<std::pair<char, std::string>>> take_attach_frame(std::string& buffer) {
    if (buffer.size() < 5) return std::optional<std::pair<char, std::string>>();
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = n << 8 | static_cast<unsigned char>(buffer[1 + i]);
    if (n > (1u << 20)) return failure("attach: frame too large");
    if (buffer.size() < 5 + size_t{n}) return std::optional<std::pair<char, std::string>>();
    std::pair<char, std::string> frame{buffer[0], buffer.substr(5, n)};
    buffer.erase(0, 5 + size_t{n});
    return std::optional<std::pair<char, std::string>>(std::move(frame));
}

bool write_fully(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n > 0) {
            data.remove_prefix(static_cast<size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {fd, POLLOUT, 0};
            if (::poll(&p, 1, 1000) <= 0) return false;
        } else {
            return false;
        }
    }
    return true;
}

Result<int> connect_attach(const std::string& socket_path) {
    FRACTA_TRY_ASSIGN(where, http::detail::UnixPath::open(socket_path));
    int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return failure("socket: " + io::errno_text(errno));
    if (::connect(sock, where.addr(), where.addr_len()) != 0) {
        int err = errno;
        ::close(sock);
        return failure(io::errno_text(err));
    }
    return sock;
}

void relay_attach(int client, int session, std::string_view early) {
    if (!early.empty() && !write_fully(session, early)) {
        ::close(session);
        return;
    }
    char buf[16384];
    for (;;) {
        struct pollfd fds[2] = {{client, POLLIN, 0}, {session, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        bool done = false;
        for (int i = 0; i < 2 && !done; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            done = n <= 0 || !write_fully(fds[1 - i].fd, std::string_view(buf, static_cast<size_t>(n)));
        }
        if (done) break;
    }
    ::close(session);
}

}  // namespace fracta::session
