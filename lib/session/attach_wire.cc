#include "session/attach_wire.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

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

}  // namespace fracta::session
