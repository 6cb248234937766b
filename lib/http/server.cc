#include "http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "base/io.h"
#include "base/sha256.h"
#include "base/text.h"
#include "http/peer.h"
#include "http/unix_path.h"

namespace fracta::http {

// --- the server ----------------------------------------------------------------

struct Server::Impl {
    Handler handler;
    ServerOptions opts;
    int listen_fd = -1;
    std::string address;
    int port = 0;
    std::optional<detail::UnixPath> unix_path;  // set for Unix sockets
    dev_t unix_dev = 0;
    ino_t unix_ino = 0;
    MHD_Daemon* daemon = nullptr;
    std::atomic<size_t> accepted{0};
    std::atomic<int> in_flight{0};  // requests begun and not yet completed (answer sent or dropped)
    std::mutex stop_mu;
    bool stopped = false;
    // The tokens in force: opts' until set_tokens.
    TokenSet tokens;
    std::unique_ptr<FailureLimiter> failures;

    ~Impl() {
        if (!daemon && listen_fd >= 0) ::close(listen_fd);
    }
};

namespace {

// One request in flight: created when MHD has read the request line, freed
// when MHD is done with the request.
struct Exchange {
    std::string raw_uri;
    bool started = false;
    bool answered = false;
    bool too_large = false;
    Request req;
};

bool needs_auth(const ServerOptions& o, const TokenSet& tokens, const std::string& path) {
    if (!tokens.enabled()) return false;
    if (o.auth_prefixes.empty()) return true;
    for (const auto& p : o.auth_prefixes)
        if (path.compare(0, p.size(), p) == 0) return true;
    return false;
}

// The token of "Bearer <token>" (the scheme in any case, per RFC 7235);
// nullopt for another scheme.
std::optional<std::string> bearer_of(const std::string& header) {
    static const std::string kScheme = "bearer ";
    if (header.size() < kScheme.size()) return std::nullopt;
    for (size_t i = 0; i < kScheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return std::nullopt;
    return header.substr(kScheme.size());
}

MHD_Result collect_header(void* cls, MHD_ValueKind, const char* key, const char* value) {
    auto& headers = *static_cast<std::map<std::string, std::string>*>(cls);
    std::string name = lower(key ? key : "");
    std::string v = value ? value : "";
    auto [it, fresh] = headers.emplace(name, v);
    if (!fresh) it->second += ", " + v;
    return MHD_YES;
}

struct StreamState {
    StreamNext next;
    std::string buf;
    size_t off = 0;
    bool done = false;
};

ssize_t stream_read(void* cls, uint64_t, char* out, size_t max) {
    auto* s = static_cast<StreamState*>(cls);
    while (s->off >= s->buf.size()) {
        if (s->done) return MHD_CONTENT_READER_END_OF_STREAM;
        s->buf.clear();
        s->off = 0;
        try {
            if (!s->next(s->buf)) s->done = true;
        } catch (...) {
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    size_t n = std::min(max, s->buf.size() - s->off);
    std::memcpy(out, s->buf.data() + s->off, n);
    s->off += n;
    return static_cast<ssize_t>(n);
}

void stream_free(void* cls) {
    delete static_cast<StreamState*>(cls);
}

MHD_Result send_response(MHD_Connection* c, Exchange& ex, Response resp) {
    ex.answered = true;
    MHD_Response* r;
    if (resp.stream_next) {
        auto* state = new StreamState{std::move(resp.stream_next), {}, 0, false};
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, state, stream_free);
        if (!r) delete state;
    } else {
        r = MHD_create_response_from_buffer(resp.body.size(), resp.body.data(), MHD_RESPMEM_MUST_COPY);
    }
    if (!r) return MHD_NO;
    if (!resp.content_type.empty()) MHD_add_response_header(r, "Content-Type", resp.content_type.c_str());
    for (const auto& [name, value] : resp.headers) MHD_add_response_header(r, name.c_str(), value.c_str());
    int status = resp.status >= 100 && resp.status <= 999 ? resp.status : 500;
    MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(status), r);
    MHD_destroy_response(r);
    return ok;
}

Response unauthorized(const std::string& why) {
    Response r = Response::error(401, why);
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
}

Response too_large(const ServerOptions& o) {
    return Response::error(413, "request body too large (limit " + std::to_string(o.max_body) + " bytes)");
}

// The client's address, "192.0.2.1" or "2001:db8::1" (a v4-mapped one as
// v4); "local" for a Unix socket.
std::string peer_address(MHD_Connection* c) {
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr) return "local";
    const sockaddr* sa = info->client_addr;
    char buf[INET6_ADDRSTRLEN] = {0};
    if (sa->sa_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
    } else if (sa->sa_family == AF_INET6) {
        const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&a))
            ::inet_ntop(AF_INET, &a.s6_addr[12], buf, sizeof buf);
        else
            ::inet_ntop(AF_INET6, &a, buf, sizeof buf);
    } else {
        return "local";
    }
    return buf;
}

Response too_many_failures(long retry_after) {
    Response r = Response::error(429, "too many failed authentications from this address; retry in " +
                                          std::to_string(retry_after) + "s");
    r.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return r;
}

// The bearer check of a request that needs one: nullopt when it may go on
// (Request::read_only set for the read-only token), else the refusal.
std::optional<Response> authenticate(const Server::Impl& s, MHD_Connection* c, Request& req) {
    const std::string peer = peer_address(c);
    const auto now = FailureLimiter::Clock::now();
    if (long wait = s.failures->blocked_for(peer, now); wait > 0) return too_many_failures(wait);
    std::string auth = req.header("authorization");
    std::string alt = s.opts.token_header.empty() ? "" : req.header(lower(s.opts.token_header));
    std::optional<std::string> presented = auth.empty() && !alt.empty() ? std::optional<std::string>(alt) : bearer_of(auth);
    Access access = presented ? s.tokens.check(*presented) : Access::None;
    if (access == Access::ReadOnly) req.read_only = true;
    if (access != Access::None) return std::nullopt;
    if (s.failures->failed(peer, now) && s.opts.error_log)
        s.opts.error_log("auth: " + std::to_string(s.opts.auth_limit.failures) + " failed authentications from " +
                         peer + " within " + std::to_string(s.opts.auth_limit.window.count() / 1000) +
                         "s: answering 429 until the window ends");
    if (auth.empty() && alt.empty()) return unauthorized("missing bearer token");
    return unauthorized(auth.empty() ? "invalid token" : "invalid bearer token");
}

// Whether the client connected over loopback (or a Unix socket).
bool peer_is_loopback(MHD_Connection* c) {
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr) return true;  // Unix sockets carry no address
    const sockaddr* sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        return (ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
        return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
    }
    return sa->sa_family == AF_UNIX;
}

// The connection whose handler runs on this thread (see http/peer.h).
thread_local MHD_Connection* t_handling = nullptr;

// Whether the client closed its end: a read would see end of file (or the
// connection broke). Bytes of a pipelined request mean it is still there.
bool connection_closed(MHD_Connection* c) {
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!info) return false;
    char byte;
    ssize_t n = ::recv(info->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

// First call for a request: the request line and headers are in. Fill in
// the Request; answer right away when the request can be refused unread.
std::optional<Response> begin_request(const Server::Impl& s, MHD_Connection* c, Exchange& ex, const char* method) {
    Request& req = ex.req;
    req.method = method;
    std::string uri = ex.raw_uri;
    auto q = uri.find('?');
    req.raw_path = uri.substr(0, q);
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &req.headers);
    req.peer_loopback = peer_is_loopback(c);
    auto path = percent_decode(req.raw_path);
    if (!path.ok()) return Response::error(400, "malformed URL: " + path.error().message);
    req.path = std::move(*path);
    if (q != std::string::npos) {
        auto query = parse_query(uri.substr(q + 1));
        if (!query.ok()) return Response::error(400, "malformed query: " + query.error().message);
        req.query = std::move(*query);
    }
    if (needs_auth(s.opts, s.tokens, req.path))
        if (auto refused = authenticate(s, c, req)) return refused;
    std::string length = req.header("content-length");
    if (!length.empty()) {
        errno = 0;
        char* end = nullptr;
        unsigned long long n = std::strtoull(length.c_str(), &end, 10);
        if (errno == 0 && end && *end == '\0' && n > s.opts.max_body) return too_large(s.opts);
    }
    return std::nullopt;
}

Response call_handler(const Server::Impl& s, MHD_Connection* c, const Request& req) {
    struct Handling {
        explicit Handling(MHD_Connection* c) { t_handling = c; }
        ~Handling() { t_handling = nullptr; }
    } handling(c);
    try {
        return s.handler(req);
    } catch (const std::exception& e) {
        if (s.opts.error_log) s.opts.error_log("handler for " + req.method + " " + req.path + " threw: " + e.what());
        return Response::error(500, std::string("internal error: ") + e.what());
    } catch (...) {
        if (s.opts.error_log) s.opts.error_log("handler for " + req.method + " " + req.path + " threw");
        return Response::error(500, "internal error");
    }
}

MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                      const char* upload_data, size_t* upload_data_size, void** con_cls) {
    auto& s = *static_cast<Server::Impl*>(cls);
    auto* ex = static_cast<Exchange*>(*con_cls);
    if (!ex) {  // not announced by the URI callback (should not happen)
        ex = new Exchange;
        ex->raw_uri = url ? url : "/";
        *con_cls = ex;
        s.in_flight++;
    }
    if (!ex->started) {
        ex->started = true;
        if (auto refusal = begin_request(s, c, *ex, method)) return send_response(c, *ex, std::move(*refusal));
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!ex->answered && !ex->too_large) {
            if (ex->req.body.size() + *upload_data_size > s.opts.max_body) {
                ex->too_large = true;
                std::string().swap(ex->req.body);
            } else {
                ex->req.body.append(upload_data, *upload_data_size);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (ex->answered) return MHD_YES;
    if (ex->too_large) return send_response(c, *ex, too_large(s.opts));
    return send_response(c, *ex, call_handler(s, c, ex->req));
}

void* on_uri(void* cls, const char* uri, MHD_Connection*) {
    static_cast<Server::Impl*>(cls)->in_flight++;
    auto* ex = new Exchange;
    ex->raw_uri = uri ? uri : "/";
    return ex;
}

void on_completed(void* cls, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
    if (*con_cls) static_cast<Server::Impl*>(cls)->in_flight--;
    delete static_cast<Exchange*>(*con_cls);
    *con_cls = nullptr;
}

void on_connection(void* cls, MHD_Connection*, void**, MHD_ConnectionNotificationCode code) {
    if (code == MHD_CONNECTION_NOTIFY_STARTED) static_cast<Server::Impl*>(cls)->accepted++;
}

void on_log(void* cls, const char* fmt, va_list ap) {
    auto& s = *static_cast<Server::Impl*>(cls);
    if (!s.opts.error_log) return;
    char buf[1024];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    std::string line = buf;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    for (auto& ch : line)
        if (ch == '\n') ch = ' ';
    s.opts.error_log(line);
}

}  // namespace

std::function<bool()> peer_watch() {
    MHD_Connection* c = t_handling;
    if (!c) return {};
    return [c] { return connection_closed(c); };
}

namespace {

// --- listen sockets ------------------------------------------------------------

struct TcpAddress {
    sockaddr_storage addr{};
    socklen_t len = 0;
    bool wildcard = false;
};

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

Error bind_error(const std::string& what, int err) {
    if (err == EINVAL || err == EAFNOSUPPORT) return usage_error(what + ": " + io::errno_text(err));
    return failure(what + ": " + io::errno_text(err));
}

// A listening, non-blocking, close-on-exec TCP socket.
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
bool socket_answers(const detail::UnixPath& p) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return false;
    int rc = ::connect(fd, p.addr(), p.addr_len());
    int err = errno;
    ::close(fd);
    // EAGAIN: a listener whose backlog is full is still a listener.
    return rc == 0 || err == EAGAIN || err == EINPROGRESS;
}

Result<int> open_unix(const detail::UnixPath& p) {
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

// Remove a Unix server's socket file, unless someone has replaced it since.
void remove_socket_file(const Server::Impl& s) {
    if (!s.unix_path) return;
    const auto& p = *s.unix_path;
    int dir = p.at_dir();
    const std::string& rel = p.at_name();
    struct stat st {};
    if (::fstatat(dir, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == s.unix_dev &&
        st.st_ino == s.unix_ino)
        ::unlinkat(dir, rel.c_str(), 0);
}

}  // namespace

// --- Server ----------------------------------------------------------------------

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
    stop();
}

Result<std::unique_ptr<Server>> Server::start(std::unique_ptr<Impl> impl) {
    Impl& s = *impl;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;
    unsigned pool = 0;
    if (s.opts.thread_per_connection) {
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    } else {
        flags |= MHD_USE_EPOLL;
        if (s.opts.threads > 1) pool = s.opts.threads;
    }
    if (s.opts.error_log) flags |= MHD_USE_ERROR_LOG;
    std::vector<MHD_OptionItem> options = {
        {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&on_log), &s},  // first, or MHD complains
        {MHD_OPTION_LISTEN_SOCKET, s.listen_fd, nullptr},
        {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(s.opts.idle_timeout.count()), nullptr},
        {MHD_OPTION_URI_LOG_CALLBACK, reinterpret_cast<intptr_t>(&on_uri), &s},
        {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&on_completed), &s},
        {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&on_connection), &s},
    };
    if (pool > 1) options.push_back({MHD_OPTION_THREAD_POOL_SIZE, pool, nullptr});
    options.push_back({MHD_OPTION_END, 0, nullptr});
    s.daemon =
        MHD_start_daemon(flags, 0, nullptr, nullptr, &on_request, &s, MHD_OPTION_ARRAY, options.data(), MHD_OPTION_END);
    if (!s.daemon) {
        remove_socket_file(s);
        return failure("listen " + s.address + ": cannot start the HTTP server");
    }
    return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Result<std::unique_ptr<Server>> Server::listen_tcp(const std::string& addr, Handler h, ServerOptions o) {
    FRACTA_TRY_ASSIGN(parsed, parse_tcp(addr));
    FRACTA_TRY_ASSIGN(fd, open_tcp(addr, parsed));
    auto impl = std::make_unique<Impl>();
    impl->handler = std::move(h);
    impl->tokens.set(o.bearer_token, o.read_only_token);
    impl->failures = std::make_unique<FailureLimiter>(o.auth_limit);
    impl->opts = std::move(o);
    impl->listen_fd = fd;
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0)
        return failure("listen " + addr + ": getsockname: " + io::errno_text(errno));
    impl->address = format_address(bound);
    impl->port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                                  : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    return start(std::move(impl));
}

Result<std::unique_ptr<Server>> Server::listen_unix(const std::string& path, Handler h, ServerOptions o) {
    auto p = detail::UnixPath::open(path);
    if (!p.ok()) return std::move(p).take_error().context("listen " + path);
    FRACTA_TRY_ASSIGN(fd, open_unix(*p));
    auto impl = std::make_unique<Impl>();
    impl->handler = std::move(h);
    impl->tokens.set(o.bearer_token, o.read_only_token);
    impl->failures = std::make_unique<FailureLimiter>(o.auth_limit);
    impl->opts = std::move(o);
    impl->listen_fd = fd;
    impl->address = path;
    struct stat st {};
    int dir = p->at_dir();
    const std::string& rel = p->at_name();
    if (::fstatat(dir, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        impl->unix_dev = st.st_dev;
        impl->unix_ino = st.st_ino;
    }
    impl->unix_path.emplace(std::move(*p));
    return start(std::move(impl));
}

std::string Server::address() const {
    return impl_->address;
}

int Server::port() const {
    return impl_->port;
}

size_t Server::connections_accepted() const {
    return impl_->accepted.load();
}

void Server::set_tokens(const std::string& token, const std::string& read_only_token) {
    impl_->tokens.set(token, read_only_token);
}

bool Server::wait_idle(std::chrono::milliseconds limit) {
    if (!impl_) return true;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (impl_->in_flight.load() > 0) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

void Server::stop() {
    if (!impl_) return;
    std::lock_guard<std::mutex> lock(impl_->stop_mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
    MHD_stop_daemon(impl_->daemon);  // closes the listen socket, waits for the threads
    impl_->listen_fd = -1;
    remove_socket_file(*impl_);
}

}  // namespace fracta::http
