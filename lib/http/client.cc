#include "http/client.h"

#include <curl/curl.h>
#include <poll.h>
#include <sys/un.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <mutex>
#include <optional>

#include "base/text.h"
#include "http/unix_path.h"

namespace fracta::http {

std::string ClientResponse::header(const std::string& lower_name, const std::string& fallback) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? fallback : it->second;
}

namespace {

std::once_flag g_curl_once;

void init_curl() {
    std::call_once(g_curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return std::string(s);
}

// What one transfer writes into.
struct Sink {
    ClientResponse response;
    size_t max = 0;
    bool too_large = false;
    const std::function<bool(std::string_view)>* on_data = nullptr;
    bool stopped = false;  // on_data said stop
    const RequestExtras* extras = nullptr;
    CURL* curl = nullptr;
    bool cancelled = false;  // extras->cancelled said stop
};

size_t on_body(char* data, size_t size, size_t n, void* cls) {
    auto& sink = *static_cast<Sink*>(cls);
    size_t len = size * n;
    if (sink.on_data) {
        if (!(*sink.on_data)(std::string_view(data, len))) {
            sink.stopped = true;
            return 0;
        }
        return len;
    }
    if (sink.response.body.size() + len > sink.max) {
        sink.too_large = true;
        return 0;
    }
    sink.response.body.append(data, len);
    return len;
}

// One "Name: value" line of a response head: the name lower-cased, a
// repeated header's values joined with ", " (as ClientResponse promises).
void add_header(std::map<std::string, std::string>& headers, std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    std::string value = trim(line.substr(colon + 1));
    auto [it, fresh] = headers.emplace(lower(trim(line.substr(0, colon))), value);
    if (!fresh) it->second += ", " + value;
}

size_t on_header(char* data, size_t size, size_t n, void* cls) {
    auto& sink = *static_cast<Sink*>(cls);
    size_t len = size * n;
    std::string_view line(data, len);
    if (line == "\r\n" || line == "\n") {  // the end of one header block
        long status = 0;
        curl_easy_getinfo(sink.curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && sink.extras && sink.extras->on_head) {
            sink.response.status = static_cast<int>(status);
            sink.extras->on_head(sink.response);
        }
    } else if (line.rfind("HTTP/", 0) == 0) {
        sink.response.headers.clear();  // a new response (after 100 Continue)
    } else {
        add_header(sink.response.headers, line);
    }
    return len;
}

int on_progress(void* cls, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto& sink = *static_cast<Sink*>(cls);
    if (sink.extras && sink.extras->cancelled && sink.extras->cancelled()) {
        sink.cancelled = true;
        return 1;
    }
    return 0;
}

ErrorKind kind_of(CURLcode code) {
    switch (code) {
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
            return ErrorKind::Usage;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:  // our own client certificate or key is unusable
        case CURLE_TOO_MANY_REDIRECTS:
            return ErrorKind::Failed;
        default:
            return ErrorKind::Temporary;  // refused, timeout, DNS, reset, ...
    }
}

}  // namespace

struct Client::Impl {
    std::string base;
    ClientOptions o;
    CURL* curl = nullptr;
    std::optional<detail::UnixPath> long_socket;  // for socket paths longer than sun_path
    char errbuf[CURL_ERROR_SIZE] = {};

    ~Impl() {
        if (curl) curl_easy_cleanup(curl);
    }

    std::string target(const std::string& method, const std::string& path) const {
        if (o.unix_socket.empty()) return method + " " + base + path;
        return method + " " + path + " via " + o.unix_socket;
    }

    // curl copies blobs (CURL_BLOB_COPY), so the PEM strings may change later.
    void set_tls() {
        auto blob = [this](CURLoption opt, const std::string& pem) {
            curl_blob b{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
            curl_easy_setopt(curl, opt, &b);
        };
        if (!o.ca_pem.empty()) blob(CURLOPT_CAINFO_BLOB, o.ca_pem);
        if (o.insecure_skip_verify) {
            curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (!o.client_cert_pem.empty()) {
            curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
            blob(CURLOPT_SSLCERT_BLOB, o.client_cert_pem);
        }
        if (!o.client_key_pem.empty()) {
            curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
            blob(CURLOPT_SSLKEY_BLOB, o.client_key_pem);
        }
    }

    Result<ClientResponse> perform(const std::string& method, const std::string& path, const std::string& body,
                                   const std::string& content_type,
                                   const std::function<bool(std::string_view)>* on_data,
                                   const RequestExtras& extras);
    // The URL, timeouts, proxy, TLS and socket of the next request.
    Status set_target(const std::string& method, const std::string& path, bool stream, const RequestExtras& extras);
    // Its method, headers and body; the header list (curl copies each
    // line) must live until the transfer ends, the body too.
    curl_slist* set_request(const std::string& method, const std::string& body, const std::string& content_type,
                            const RequestExtras& extras);
    // A failed transfer as one line naming the target.
    Error transfer_error(CURLcode code, const Sink& sink, const std::string& method, const std::string& path);
};

Client::Client(std::string base_url, ClientOptions o) : impl_(std::make_unique<Impl>()) {
    init_curl();
    while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
    impl_->base = std::move(base_url);
    impl_->o = std::move(o);
    impl_->curl = curl_easy_init();
}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const std::string& Client::base_url() const {
    return impl_->base;
}

void Client::set_client_certificate(std::string cert_pem, std::string key_pem) {
    impl_->o.client_cert_pem = std::move(cert_pem);
    impl_->o.client_key_pem = std::move(key_pem);
}

Result<ClientResponse> Client::request(const std::string& method, const std::string& path_and_query,
                                       const std::string& body, const std::string& content_type,
                                       const RequestExtras& extras) {
    return impl_->perform(method, path_and_query, body, content_type, nullptr, extras);
}

Result<ClientResponse> Client::get(const std::string& path_and_query) {
    return request("GET", path_and_query);
}

Result<ClientResponse> Client::post_json(const std::string& path_and_query, const Json& body) {
    return request("POST", path_and_query, to_line(body), "application/json");
}

Result<ClientResponse> Client::stream(const std::string& method, const std::string& path_and_query,
                                      const std::function<bool(std::string_view)>& on_data, const std::string& body,
                                      const std::string& content_type, const RequestExtras& extras) {
    return impl_->perform(method, path_and_query, body, content_type, &on_data, extras);
}

Status Client::Impl::set_target(const std::string& method, const std::string& path, bool stream,
                                const RequestExtras& extras) {
    std::string url = base + path;
    curl_easy_reset(curl);  // keeps the live connections
    errbuf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
    std::chrono::milliseconds timeout = extras.timeout.value_or(o.timeout);
    if (stream) {
        // A stream may last forever; only silence ends it.
        if (timeout.count() > 0) {
            curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
            curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                             std::max(1L, static_cast<long>((timeout.count() + 999) / 1000)));
        }
    } else {
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    }
    if (!o.use_proxy_env) curl_easy_setopt(curl, CURLOPT_PROXY, "");
    set_tls();

    std::string socket_path = o.unix_socket;
    if (!socket_path.empty() && socket_path.size() >= sizeof(sockaddr_un{}.sun_path)) {
        if (!long_socket) {
            auto p = detail::UnixPath::open(socket_path);
            if (!p.ok()) return Error{ErrorKind::Temporary, target(method, path) + ": " + p.error().message};
            long_socket.emplace(std::move(*p));
        }
        socket_path = long_socket->usable();
    }
    if (!socket_path.empty()) curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_path.c_str());
    return {};
}

curl_slist* Client::Impl::set_request(const std::string& method, const std::string& body,
                                      const std::string& content_type, const RequestExtras& extras) {
    curl_slist* headers = nullptr;
    if (!o.bearer_token.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + o.bearer_token).c_str());
    bool sends_body = !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
    if (sends_body && !content_type.empty())
        headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
    for (const auto& [name, value] : extras.headers)
        headers = curl_slist_append(headers, (name + ": " + value).c_str());  // curl copies it
    if (headers) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    if (method == "GET" && !sends_body) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (method == "HEAD") {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (method != "POST") {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    if (sends_body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    return headers;
}

Error Client::Impl::transfer_error(CURLcode code, const Sink& sink, const std::string& method,
                                   const std::string& path) {
    if (sink.cancelled) return temporary_error(target(method, path) + ": cancelled");
    if (sink.too_large)
        return failure(target(method, path) + ": response too large (more than " + std::to_string(o.max_response) +
                       " bytes)");
    if (code == CURLE_COULDNT_CONNECT && long_socket) long_socket.reset();  // reopen the directory next time
    std::string why = errbuf[0] ? errbuf : curl_easy_strerror(code);
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
    long os_errno = 0;
    curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
    if (os_errno != 0) {
        std::string os = std::strerror(static_cast<int>(os_errno));
        if (why.find(os) == std::string::npos) why += " (" + os + ")";
    }
    return Error{kind_of(code), target(method, path) + ": " + why};
}

Result<ClientResponse> Client::Impl::perform(const std::string& method, const std::string& path,
                                             const std::string& body, const std::string& content_type,
                                             const std::function<bool(std::string_view)>* on_data,
                                             const RequestExtras& extras) {
    if (!curl) return failure(target(method, path) + ": cannot initialise libcurl");
    FRACTA_TRY(set_target(method, path, on_data != nullptr, extras));
    curl_slist* headers = set_request(method, body, content_type, extras);

    Sink sink;
    sink.max = o.max_response;
    sink.on_data = on_data;
    sink.extras = &extras;
    sink.curl = curl;
    if (extras.cancelled) {
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &sink);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sink);

    CURLcode code = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    // The token must not outlive the request in curl's handle either.
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);

    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (code == CURLE_WRITE_ERROR && sink.stopped) code = CURLE_OK;
    if (code != CURLE_OK) return transfer_error(code, sink, method, path);
    sink.response.status = static_cast<int>(status);
    return std::move(sink.response);
}

namespace {

// The upgraded connection: curl keeps the socket and its TLS session
// (CURLOPT_CONNECT_ONLY), we move the bytes.
class CurlStream final : public ByteStream {
public:
    explicit CurlStream(std::unique_ptr<Client::Impl> impl, CURL* curl) : impl_(std::move(impl)), curl_(curl) {}

    int fd() const override {
        curl_socket_t s = CURL_SOCKET_BAD;
        curl_easy_getinfo(curl_, CURLINFO_ACTIVESOCKET, &s);
        return static_cast<int>(s);
    }

    Result<std::optional<std::string>> receive() override {
        std::string got = std::move(pending_);
        pending_.clear();
        while (!closed_) {
            char buf[16384];
            size_t n = 0;
            CURLcode rc = curl_easy_recv(curl_, buf, sizeof buf, &n);
            if (rc == CURLE_AGAIN) break;
            if (rc != CURLE_OK) return temporary_error(std::string("receive: ") + curl_easy_strerror(rc));
            if (n == 0) closed_ = true;
            got.append(buf, n);
        }
        if (got.empty() && closed_) return std::optional<std::string>();
        return std::optional<std::string>(std::move(got));
    }

    Status send(std::string_view data) override {
        while (!data.empty()) {
            size_t n = 0;
            CURLcode rc = curl_easy_send(curl_, data.data(), data.size(), &n);
            if (rc == CURLE_AGAIN) {
                struct pollfd p = {fd(), POLLOUT, 0};
                if (::poll(&p, 1, 10000) <= 0) return temporary_error("send: the peer takes nothing");
                continue;
            }
            if (rc != CURLE_OK) return temporary_error(std::string("send: ") + curl_easy_strerror(rc));
            data.remove_prefix(n);
        }
        return {};
    }

    // Bytes that came with the 101's head.
    void keep(std::string data) { pending_ = std::move(data); }

private:
    std::unique_ptr<Client::Impl> impl_;
    CURL* curl_;
    std::string pending_;
    bool closed_ = false;
};

// "https://host:6443/prefix" → {"host:6443", "/prefix"}.
std::pair<std::string, std::string> authority_and_prefix(const std::string& base) {
    size_t start = base.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    size_t slash = base.find('/', start);
    if (slash == std::string::npos) return {base.substr(start), ""};
    return {base.substr(start, slash - start), base.substr(slash)};
}

// The status line and headers of `head` (up to the blank line), as curl's
// header callback would have filled them.
ClientResponse parse_head(std::string_view head) {
    ClientResponse r;
    size_t eol = head.find("\r\n");
    std::string_view status_line = head.substr(0, eol);
    if (size_t sp = status_line.find(' '); sp != std::string_view::npos) {
        std::from_chars(status_line.data() + sp + 1, status_line.data() + status_line.size(), r.status);
    }
    while (eol != std::string_view::npos) {
        size_t next = head.find("\r\n", eol + 2);
        add_header(r.headers, head.substr(eol + 2, next == std::string_view::npos ? next : next - eol - 2));
        eol = next;
    }
    return r;
}

}  // namespace

Result<Upgrade> Client::upgrade(const std::string& path, const std::string& protocol, const RequestExtras& extras) {
    auto impl = std::make_unique<Impl>();
    impl->base = impl_->base;
    impl->o = impl_->o;
    impl->o.use_proxy_env = false;
    impl->curl = curl_easy_init();
    CURL* curl = impl->curl;
    if (!curl) return failure(impl->target("GET", path) + ": cannot initialise libcurl");
    FRACTA_TRY(impl->set_target("GET", path, true, extras));
    curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
    Sink none;
    if (CURLcode rc = curl_easy_perform(curl); rc != CURLE_OK) return impl->transfer_error(rc, none, "GET", path);
    const std::string target = impl->target("GET", path);
    const auto [authority, prefix] = authority_and_prefix(impl->base);
    std::string request = "GET " + prefix + path + " HTTP/1.1\r\nHost: " + authority +
                          "\r\nConnection: Upgrade\r\nUpgrade: " + protocol + "\r\n";
    if (!impl->o.bearer_token.empty()) request += "Authorization: Bearer " + impl->o.bearer_token + "\r\n";
    for (const auto& [name, value] : extras.headers) request += name + ": " + value + "\r\n";
    request += "\r\n";

    auto stream = std::make_unique<CurlStream>(std::move(impl), curl);
    if (auto sent = stream->send(request); !sent.ok()) return temporary_error(target + ": " + sent.error().message);
    // The head, then (not switching) the body, within the request timeout.
    const auto limit = extras.timeout.value_or(impl_->o.timeout);
    const auto until = std::chrono::steady_clock::now() + (limit.count() > 0 ? limit : std::chrono::hours(1));
    std::string got;
    std::optional<ClientResponse> head;
    size_t body_at = 0, length = std::string::npos;
    for (;;) {
        if (!head) {
            if (size_t end = got.find("\r\n\r\n"); end != std::string::npos) {
                head = parse_head(std::string_view(got).substr(0, end));
                body_at = end + 4;
                if (head->status == 101) {
                    stream->keep(got.substr(body_at));
                    return Upgrade{std::move(*head), std::move(stream)};
                }
                std::string cl = head->header("content-length");
                if (!cl.empty()) length = std::strtoull(cl.c_str(), nullptr, 10);
            } else if (got.size() > (64u << 10)) {
                return failure(target + ": the answer's head is too large");
            }
        }
        if (head && (length == std::string::npos ? false : got.size() - body_at >= length)) break;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0) return temporary_error(target + ": no answer in time");
        struct pollfd p = {stream->fd(), POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        FRACTA_TRY_ASSIGN(more, stream->receive());
        if (!more) break;
        got += *more;
        if (got.size() > impl_->o.max_response) return failure(target + ": response too large");
    }
    if (!head) return temporary_error(target + ": the connection closed before an answer");
    head->body = got.substr(body_at, length);
    return Upgrade{std::move(*head), nullptr};
}

}  // namespace fracta::http
