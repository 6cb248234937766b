#include "net/resolve.h"

#include <arpa/inet.h>
#include <ares.h>
#include <netdb.h>
#include <poll.h>

#include <mutex>

namespace fracta::net {

bool is_ip_literal(const std::string& host) {
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

namespace {

struct Lookup {
    bool done = false;
    int status = ARES_SUCCESS;
    std::vector<std::string> v4, v6;
};

void on_result(void* arg, int status, int, struct ares_addrinfo* info) {
    auto* lookup = static_cast<Lookup*>(arg);
    lookup->done = true;
    lookup->status = status;
    if (status != ARES_SUCCESS || !info) return;
    for (auto* node = info->nodes; node; node = node->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        if (node->ai_family == AF_INET) {
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(node->ai_addr)->sin_addr, text, sizeof text);
            lookup->v4.push_back(text);
        } else if (node->ai_family == AF_INET6) {
            inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(node->ai_addr)->sin6_addr, text, sizeof text);
            lookup->v6.push_back(text);
        }
    }
    ares_freeaddrinfo(info);
}

}  // namespace

Result<std::vector<std::string>> resolve_host(const std::string& host, std::chrono::milliseconds timeout) {
    if (is_ip_literal(host)) return std::vector<std::string>{host};
    static std::once_flag init;
    std::call_once(init, [] { ares_library_init(ARES_LIB_INIT_ALL); });

    ares_channel channel;
    if (ares_init(&channel) != ARES_SUCCESS) return temporary_error("resolve " + host + ": cannot start resolver");
    Lookup lookup;
    struct ares_addrinfo_hints hints = {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    ares_getaddrinfo(channel, host.c_str(), nullptr, &hints, on_result, &lookup);

    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!lookup.done) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        int bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
        std::vector<struct pollfd> fds;
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
            short events = 0;
            if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
            if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
            if (events) fds.push_back({socks[i], events, 0});
        }
        if (fds.empty()) break;
        int wait_ms = static_cast<int>(std::min<long long>(left.count(), 100));
        int ready = ::poll(fds.data(), fds.size(), wait_ms);
        if (ready <= 0) ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts, retries
        for (const auto& f : fds) {
            if (!f.revents) continue;
            ares_socket_t r = (f.revents & (POLLIN | POLLERR | POLLHUP)) ? f.fd : ARES_SOCKET_BAD;
            ares_socket_t w = (f.revents & POLLOUT) ? f.fd : ARES_SOCKET_BAD;
            ares_process_fd(channel, r, w);
        }
    }
    if (!lookup.done) {
        ares_cancel(channel);  // runs the callback with ARES_ECANCELLED
        ares_destroy(channel);
        return temporary_error("resolve " + host + ": timed out");
    }
    ares_destroy(channel);
    if (lookup.status != ARES_SUCCESS)
        return temporary_error("resolve " + host + ": " + ares_strerror(lookup.status));
    std::vector<std::string> all = lookup.v4;
    all.insert(all.end(), lookup.v6.begin(), lookup.v6.end());
    if (all.empty()) return temporary_error("resolve " + host + ": no address");
    return all;
}

}  // namespace fracta::net
