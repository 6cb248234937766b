// listen_socket.h — the listen sockets under http::Server (internal to
// lib/http): TCP addresses parsed and bound, Unix sockets created with mode
// 0600 and stale ones replaced.
#pragma once

#include <sys/socket.h>

#include <string>

#include "base/result.h"
#include "http/unix_path.h"

namespace fracta::http::detail {

struct TcpAddress {
    sockaddr_storage addr{};
    socklen_t len = 0;
    bool wildcard = false;
};

// "127.0.0.1:9090", "[::1]:0", ":9090", "localhost:9090"; else a usage error.
Result<TcpAddress> parse_tcp(const std::string& text);
// "127.0.0.1:43123" / "[::1]:43123".
std::string format_address(const sockaddr_storage& ss);
// A listening, non-blocking, close-on-exec TCP socket (a wildcard falls back
// to IPv4 where there is no IPv6).
Result<int> open_tcp(const std::string& text, TcpAddress a);
// A listening Unix socket at `p`: a stale socket file is replaced, a live
// one is "address in use", anything else is left alone and reported.
Result<int> open_unix(const UnixPath& p);

}  // namespace fracta::http::detail
