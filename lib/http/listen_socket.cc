#include "http/listen_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/io.h"

namespace fracta::http::detail {

Result<TcpAddress> parse_tcp(const std::string& text) {
    auto bad = [&](const std::string& why) { return usage_error("bad listen address \"" + text + "\": " + why); };
    std::string host, port;
    if (!text.empty() && text[0] == '[') {
        auto close = text.find(']');
        if (close == std::string::npos) return bad("missing ']'");
        host = text.substr(1, close - 1);
        if (close + 1 >= text.size() || text[close + 1] != ':') return bad("expected [host]:port");
        port = text.substr(close + 2);
        if (host.empty()) return bad("empty IPv6 address");
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos) return bad("expected host:port");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string::npos) return bad("IPv6 addresses go in brackets: [::1]:port");
    }
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), digit))
        return bad("port must be a number from 0 to 65535");
    unsigned long p = std::stoul(port);
    if (p > 65535) return bad("port must be a number from 0 to 65535");
    auto nport = htons(static_cast<uint16_t>(p));

    TcpAddress a;
    if (host == "localhost") host = "127.0.0.1";
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.addr);
    if (host.empty()) {
        a.wildcard = true;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_any;
        v6->sin6_port = nport;
        a.len = sizeof(sockaddr_in6);
    } else if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = nport;
        a.len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = nport;
        a.len = sizeof(sockaddr_in6);
    } else {
        return bad("host must be an IP address or localhost");
    }
    return a;
}

std::string format_address(const sockaddr_storage& ss) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET) {
        auto* v4 = reinterpret_cast<const sockaddr_in*>(&ss);
        inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
        return std::string(buf) + ":" + std::to_string(ntohs(v4->sin_port));
    }
    auto* v6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
    return std::string("[").append(buf).append("]:").append(std::to_string(ntohs(v6->sin6_port)));
}

namespace {

Error bind_error(const std::string& what, int err) {
    if (err == EINVAL || err == EAFNOSUPPORT) return usage_error(what + ": " + io::errno_text(err));
    return failure(what + ": " + io::errno_text(err));
}

// A listening, non-blocking, close-on-exec TCP socket.
}  // namespace

Result<int> open_tcp(const std::string& text, TcpAddress a) {
    int fd = ::socket(a.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 && a.wildcard && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
        // No IPv6 here: every IPv4 interface instead.
        auto port = reinterpret_cast<sockaddr_in6*>(&a.addr)->sin6_port;
        a.addr = {};
        auto* v4 = reinterpret_cast<sockaddr_in*>(&a.addr);
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_ANY);
        v4->sin_port = port;
        a.len = sizeof(sockaddr_in);
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    }
    if (fd < 0) return failure("listen " + text + ": socket: " + io::errno_text(errno));
    int one = 1, zero = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (a.addr.ss_family == AF_INET6)
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, a.wildcard ? &zero : &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0 || ::listen(fd, SOMAXCONN) != 0) {
        int err = errno;
        ::close(fd);
        return bind_error("listen " + text, err);
    }
    return fd;
}

// Whether a socket file answers: true (someone listens), false (stale).
namespace {

bool socket_answers(const UnixPath& p) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return false;
    int rc = ::connect(fd, p.addr(), p.addr_len());
    int err = errno;
    ::close(fd);
    // EAGAIN: a listener whose backlog is full is still a listener.
    return rc == 0 || err == EAGAIN || err == EINPROGRESS;
}

}  // namespace

Result<int> open_unix(const UnixPath& p) {
    const std::string& path = p.path();
    int dir = p.at_dir();
    const std::string& rel = p.at_name();
    struct stat st {};
    if (::fstatat(dir, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISSOCK(st.st_mode)) return failure("listen " + path + ": exists and is not a socket");
        if (socket_answers(p)) return failure("listen " + path + ": address already in use");
        if (::unlinkat(dir, rel.c_str(), 0) != 0 && errno != ENOENT)
            return failure("listen " + path + ": remove stale socket: " + io::errno_text(errno));
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return failure("listen " + path + ": socket: " + io::errno_text(errno));
    // Clients cannot connect before listen(), so the mode is set before anyone can.
    if (::bind(fd, p.addr(), p.addr_len()) != 0) {
        int err = errno;
        ::close(fd);
        return bind_error("listen " + path, err);
    }
    if (::fchmodat(dir, rel.c_str(), 0600, 0) != 0 || ::listen(fd, SOMAXCONN) != 0) {
        int err = errno;
        ::close(fd);
        ::unlinkat(dir, rel.c_str(), 0);
        return failure("listen " + path + ": " + io::errno_text(err));
    }
    return fd;
}

}  // namespace fracta::http::detail
