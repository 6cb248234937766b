#include "http/client.h"

#include <curl/curl.h>
#include <sys/un.h>

#include <algorithm>
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
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
        std::string name = lower(trim(line.substr(0, colon)));
        std::string value = trim(line.substr(colon + 1));
        auto [it, fresh] = sink.response.headers.emplace(name, value);
        if (!fresh) it->second += ", " + value;
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

}  // namespace fracta::http
