// resolve.h — host name lookup with c-ares.
//
// glibc's getaddrinfo loads NSS modules at run time, which a static binary in
// a scratch container does not have. c-ares reads /etc/hosts and
// /etc/resolv.conf itself, so the static binaries resolve names anywhere.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"

namespace fracta::net {

// True for an IPv4 or IPv6 literal.
bool is_ip_literal(const std::string& host);

// Numeric addresses of `host`, IPv4 first. No address: a temporary error
// (DNS may come back), naming the host.
Result<std::vector<std::string>> resolve_host(const std::string& host,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace fracta::net
