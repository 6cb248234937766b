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
#include "http/listen_socket.h"
#include "http/peer.h"
#include "http/tls.h"
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
    mutable std::mutex daemons_mu;  // guards daemon, tls and retired once started
    MHD_Daemon* daemon = nullptr;   // the one accepting
    TlsCredentials tls;            // daemon's, kept alive as long as it runs
    // Daemons replaced by set_tls: they accept no more, and serve the
    // connections they have until those end (or stop()).
    struct Retired {
        MHD_Daemon* daemon;
        TlsCredentials tls;
    };
    std::vector<Retired> retired;
    std::atomic<size_t> accepted{0};
    std::atomic<int> in_flight{0};  // requests begun and not yet completed (answer sent or dropped)
    std::mutex stop_mu;
    bool stopped = false;
    // The tokens in force: opts' until set_tokens.
    TokenSet tokens;
    std::unique_ptr<FailureLimiter> failures;

    // Owns `fd`, the socket listened on.
    Impl(Handler h, ServerOptions o, int fd)
        : handler(std::move(h)),
          opts(std::move(o)),
          listen_fd(fd),
          failures(std::make_unique<FailureLimiter>(opts.auth_limit)) {
        tokens.set(opts.bearer_token, opts.read_only_token);
    }
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

using Upgraded = std::function<void(int, std::string_view)>;

void on_upgrade(void* cls, MHD_Connection*, void*, const char* extra, size_t extra_size, MHD_socket sock,
                MHD_UpgradeResponseHandle* urh) {
    std::unique_ptr<Upgraded> run(static_cast<Upgraded*>(cls));
    try {
        (*run)(sock, std::string_view(extra ? extra : "", extra ? extra_size : 0));
    } catch (...) {
    }
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

MHD_Result send_response(MHD_Connection* c, Exchange& ex, Response resp) {
    ex.answered = true;
    MHD_Response* r;
    if (resp.upgraded) {
        // MHD hands the closure back once, to on_upgrade, which frees it.
        auto* run = new Upgraded(std::move(resp.upgraded));
        r = MHD_create_response_for_upgrade(on_upgrade, run);
        if (!r) delete run;
        resp.content_type.clear();
    } else if (resp.stream_next) {
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
std::optional<Response> authenticate(const Server::Impl& s, Request& req) {
    const std::string& peer = req.peer;
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

// Whether the daemon that accepted `c` was started with a client CA (a
// connection accepted before a reload keeps the rules it was accepted under).
bool needs_client_cert(const Server::Impl& s, MHD_Connection* c) {
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
    MHD_Daemon* d = info ? info->daemon : nullptr;
    std::lock_guard<std::mutex> lock(s.daemons_mu);
    if (d == s.daemon) return !s.tls.client_ca_pem.empty();
    for (const auto& r : s.retired)
        if (r.daemon == d) return !r.tls.client_ca_pem.empty();
    return true;  // unknown: refuse rather than let one through
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
    req.peer = peer_address(c);
    auto path = percent_decode(req.raw_path);
    if (!path.ok()) return Response::error(400, "malformed URL: " + path.error().message);
    req.path = std::move(*path);
    if (q != std::string::npos) {
        auto query = parse_query(uri.substr(q + 1));
        if (!query.ok()) return Response::error(400, "malformed query: " + query.error().message);
        req.query = std::move(*query);
    }
    if (s.opts.tls.enabled() && needs_client_cert(s, c))
        if (std::string problem = detail::client_certificate_problem(c); !problem.empty())
            return Response::error(403, problem);
    if (needs_auth(s.opts, s.tokens, req.path))
        if (auto refused = authenticate(s, req)) return refused;
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

// Set while this thread starts a daemon: MHD's reasons for refusing go here,
// into the one error line, instead of the log.
thread_local std::string* t_start_log = nullptr;

void on_log(void* cls, const char* fmt, va_list ap) {
    auto& s = *static_cast<Server::Impl*>(cls);
    if (!s.opts.error_log && !t_start_log) return;
    char buf[1024];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    std::string line = buf;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    for (auto& ch : line)
        if (ch == '\n') ch = ' ';
    if (t_start_log) {
        *t_start_log += (t_start_log->empty() ? "" : "; ") + line;
        return;
    }
    s.opts.error_log(line);
}

}  // namespace

std::function<bool()> peer_watch() {
    MHD_Connection* c = t_handling;
    if (!c) return {};
    return [c] { return connection_closed(c); };
}

namespace {

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

namespace {

// A daemon on the server's listen socket, speaking TLS with `tls` when set;
// nullptr when MHD refuses (for TLS: a certificate or key that does not
// load), with MHD's reasons in `why`.
MHD_Daemon* start_daemon(Server::Impl& s, int listen_fd, const TlsCredentials& tls, std::string& why) {
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;
    unsigned pool = 0;
    if (s.opts.thread_per_connection) {
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_ALLOW_UPGRADE;
    } else {
        flags |= MHD_USE_EPOLL;
        if (s.opts.threads > 1) pool = s.opts.threads;
    }
    flags |= MHD_USE_ERROR_LOG;  // on_log drops what has nowhere to go
    std::vector<MHD_OptionItem> options = {
        {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&on_log), &s},  // first, or MHD complains
        {MHD_OPTION_LISTEN_SOCKET, listen_fd, nullptr},
        {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(s.opts.idle_timeout.count()), nullptr},
        {MHD_OPTION_URI_LOG_CALLBACK, reinterpret_cast<intptr_t>(&on_uri), &s},
        {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&on_completed), &s},
        {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&on_connection), &s},
    };
    if (pool > 1) options.push_back({MHD_OPTION_THREAD_POOL_SIZE, pool, nullptr});
    if (tls.enabled()) {
        flags |= MHD_USE_TLS;
        options.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(tls.cert_pem.c_str())});
        options.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(tls.key_pem.c_str())});
        if (!tls.client_ca_pem.empty())
            options.push_back({MHD_OPTION_HTTPS_MEM_TRUST, 0, const_cast<char*>(tls.client_ca_pem.c_str())});
    }
    options.push_back({MHD_OPTION_END, 0, nullptr});
    t_start_log = &why;
    MHD_Daemon* d = MHD_start_daemon(flags, 0, nullptr, nullptr, &on_request, &s, MHD_OPTION_ARRAY, options.data(),
                                     MHD_OPTION_END);
    t_start_log = nullptr;
    if (why.empty()) why = "libmicrohttpd refused to start";
    return d;
}

// Whether `fd` is still open on the socket `like` is open on. A daemon that
// fails to start closes the listen socket it was given; this tells whether
// it did, without closing a number some other thread has opened since.
bool same_socket(int fd, int like) {
    struct stat a {}, b {};
    return fd >= 0 && like >= 0 && ::fstat(fd, &a) == 0 && ::fstat(like, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

size_t daemon_connections(MHD_Daemon* d) {
    const MHD_DaemonInfo* info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info ? info->num_connections : 1;
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(std::unique_ptr<Impl> impl) {
    Impl& s = *impl;
    if (s.opts.tls.enabled() && !tls_available()) {
        remove_socket_file(s);
        return usage_error("listen " + s.address +
                           ": TLS is not available in this build (the static binaries have no GnuTLS; "
                           "use the dynamically linked ones, or terminate TLS in front of fracta)");
    }
    s.tls = s.opts.tls;
    // A dup, so that a failed start closes only that.
    const int fd = ::fcntl(s.listen_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return failure("listen " + s.address + ": dup: " + io::errno_text(errno));
    std::string why;
    s.daemon = start_daemon(s, fd, s.tls, why);
    if (s.daemon) {
        ::close(s.listen_fd);
        s.listen_fd = fd;
    } else if (same_socket(fd, s.listen_fd)) {
        ::close(fd);
    }
    if (!s.daemon) {
        remove_socket_file(s);
        if (s.tls.enabled())
            return usage_error("listen " + s.address + ": cannot start the HTTPS server: " + why +
                               " (is tls.cert_file a certificate and tls.key_file its key?)");
        return failure("listen " + s.address + ": cannot start the HTTP server: " + why);
    }
    return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Status Server::set_tls(TlsCredentials tls) {
    Impl& s = *impl_;
    std::lock_guard<std::mutex> stop_lock(s.stop_mu);
    if (s.stopped) return failure("set_tls: the server is stopped");
    if (!s.tls.enabled() || !tls.enabled()) return usage_error("set_tls: TLS cannot be turned on or off while serving");
    // The new daemon gets a dup of the listen socket (a failed start closes
    // only that); once it runs, the old one is quiesced (accepts no more,
    // hands its descriptor back) and keeps its open connections.
    auto fresh = std::make_unique<TlsCredentials>(std::move(tls));
    const int fd = ::fcntl(s.listen_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return failure("set_tls: dup: " + io::errno_text(errno));
    std::string why;
    MHD_Daemon* next = start_daemon(s, fd, *fresh, why);
    if (!next && same_socket(fd, s.listen_fd)) ::close(fd);
    if (!next)
        return usage_error("the new certificate or key does not load: " + why +
                           " (is tls.cert_file a certificate and tls.key_file its key?)");
    std::vector<MHD_Daemon*> done;
    {
        std::lock_guard<std::mutex> lock(s.daemons_mu);
        const int old_fd = MHD_quiesce_daemon(s.daemon);
        if (old_fd >= 0) ::close(old_fd);
        s.listen_fd = fd;
        s.retired.push_back({s.daemon, std::move(s.tls)});
        s.daemon = next;
        s.tls = std::move(*fresh);
        // Retired daemons with nothing left to serve go now.
        for (auto it = s.retired.begin(); it != s.retired.end();) {
            if (daemon_connections(it->daemon) == 0) {
                done.push_back(it->daemon);
                it = s.retired.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (MHD_Daemon* d : done) MHD_stop_daemon(d);
    return {};
}

Result<std::unique_ptr<Server>> Server::listen_tcp(const std::string& addr, Handler h, ServerOptions o) {
    FRACTA_TRY_ASSIGN(parsed, detail::parse_tcp(addr));
    FRACTA_TRY_ASSIGN(fd, detail::open_tcp(addr, parsed));
    auto impl = std::make_unique<Impl>(std::move(h), std::move(o), fd);
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0)
        return failure("listen " + addr + ": getsockname: " + io::errno_text(errno));
    impl->address = detail::format_address(bound);
    impl->port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                                  : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    return start(std::move(impl));
}

Result<std::unique_ptr<Server>> Server::listen_unix(const std::string& path, Handler h, ServerOptions o) {
    auto p = detail::UnixPath::open(path);
    if (!p.ok()) return std::move(p).take_error().context("listen " + path);
    FRACTA_TRY_ASSIGN(fd, detail::open_unix(*p));
    auto impl = std::make_unique<Impl>(std::move(h), std::move(o), fd);
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
    std::vector<Impl::Retired> retired;
    {
        std::lock_guard<std::mutex> daemons(impl_->daemons_mu);
        retired.swap(impl_->retired);
    }
    MHD_stop_daemon(impl_->daemon);  // closes the listen socket, waits for the threads
    for (auto& r : retired) MHD_stop_daemon(r.daemon);  // quiesced: the socket is no longer theirs
    impl_->listen_fd = -1;
    remove_socket_file(*impl_);
}

}  // namespace fracta::http
