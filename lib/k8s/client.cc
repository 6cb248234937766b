#include "k8s/client.h"

#include <algorithm>
#include <random>
#include <thread>

#include "k8s/credentials.h"

namespace fracta::k8s {
namespace {

constexpr size_t kMaxAnswer = size_t{64} << 20;  // a LIST of many pods is large
constexpr size_t kMaxErrorBody = 64 << 10;

std::string first_line(const std::string& body) {
    std::string line = body.substr(0, body.find('\n'));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.size() > 200) line = line.substr(0, 200) + "…";
    return line;
}

// A Kubernetes Status object (the API server's own answer), or null.
Json status_object(const std::string& body) {
    if (body.empty() || body[0] != '{') return nullptr;
    auto parsed = parse_json(body, kMaxErrorBody);
    if (!parsed.ok() || !parsed->is_object()) return nullptr;
    auto kind = parsed->find("kind");
    if (kind == parsed->end() || *kind != "Status") return nullptr;
    return std::move(parsed).value();
}

std::string string_of(const Json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool retryable(int code) { return code == 429 || code >= 500; }

// Retry-After in seconds (the HTTP-date form is rare from API servers and
// then the backoff alone applies).
std::optional<std::chrono::milliseconds> retry_after(const http::ClientResponse& r) {
    std::string v = r.header("retry-after");
    if (v.empty() || v.size() > 6 || !std::all_of(v.begin(), v.end(), ::isdigit)) return std::nullopt;
    return std::chrono::seconds(std::stol(v));
}

}  // namespace

std::chrono::milliseconds backoff_delay(int retry, const RetryPolicy& p, double jitter) {
    long long d = p.base.count();
    for (int i = 1; i < retry && d < p.cap.count(); ++i) d *= 2;
    d = std::min<long long>(d, p.cap.count());
    jitter = std::clamp(jitter, 0.0, 1.0);
    return std::chrono::milliseconds(d / 2 + static_cast<long long>(jitter * static_cast<double>(d - d / 2)));
}

ApiError api_error(const Call& call, const std::string& ns, int code, const std::string& body) {
    ApiError e;
    e.code = code;
    Json status = status_object(body);
    if (!status.is_null()) {
        e.reason = string_of(status, "reason");
        e.message = string_of(status, "message");
    }
    if (e.message.empty()) e.message = first_line(body);
    if (e.message.empty()) e.message = "HTTP " + std::to_string(code);

    std::string what = call.verb + " " + call.resource;
    if (code == 401 || code == 403) {
        std::string why = e.message;
        if (!e.reason.empty() && why != e.reason) why = e.reason + ": " + why;
        std::string where = ns.empty() ? "" : " in namespace \"" + ns + "\"";
        e.error = failure("cannot " + what + where + ": " + why);
        return e;
    }
    if (!call.name.empty() && status.is_null()) what += " \"" + call.name + "\"";
    ErrorKind kind = ErrorKind::Failed;
    if (code == 400 || code == 422) kind = ErrorKind::Usage;
    if (retryable(code)) kind = ErrorKind::Temporary;
    e.error = Error{kind, what + ": " + e.message};
    return e;
}

struct Client::Impl {
    Config config;
    ClientOptions o;
    Credentials creds;
    http::Client http;
    std::string cert_in_use, key_in_use;
    int sent = 0;
    std::mt19937_64 rng{std::random_device{}()};

    Impl(Config c, ClientOptions opts)
        : config(std::move(c)), o(std::move(opts)), creds(config, o.clock ? o.clock : Credentials::Clock(now)),
          http(config.server, http_options()) {
        cert_in_use = config.client_cert_pem;
        key_in_use = config.client_key_pem;
    }

    http::ClientOptions http_options() const {
        http::ClientOptions h;
        h.timeout = o.timeout;
        h.connect_timeout = o.connect_timeout;
        h.max_response = kMaxAnswer;
        h.use_proxy_env = true;  // as kubectl: HTTPS_PROXY / NO_PROXY
        h.ca_pem = config.ca_pem;
        h.insecure_skip_verify = config.insecure_skip_tls_verify;
        h.client_cert_pem = config.client_cert_pem;
        h.client_key_pem = config.client_key_pem;
        return h;
    }

    // Waits, giving up early when the caller cancels.
    void pause(std::chrono::milliseconds d, const std::function<bool()>& cancelled) {
        auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until) {
            if (cancelled && cancelled()) return;
            auto left = until - std::chrono::steady_clock::now();
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(100)));
        }
    }

    std::chrono::milliseconds backoff(int retry) {
        return backoff_delay(retry, o.retry, std::uniform_real_distribution<double>(0.0, 1.0)(rng));
    }

    ApiResult<http::ClientResponse> perform(const Call& call, const std::function<bool(std::string_view)>* on_data,
                                            const http::RequestExtras& extras);
};

ApiResult<http::ClientResponse> Client::Impl::perform(const Call& call,
                                                      const std::function<bool(std::string_view)>* on_data,
                                                      const http::RequestExtras& extras) {
    std::string what = call.verb + " " + call.resource;
    bool auth_retried = false;
    int attempts = call.retry ? std::max(1, o.retry.attempts) : 1;
    for (int attempt = 1;; ++attempt) {
        auto auth = creds.current();
        if (!auth.ok()) {
            Error e = auth.error().context(what);
            return ApiError{0, "", auth.error().message, std::move(e)};
        }
        if (auth->cert_pem != cert_in_use || auth->key_pem != key_in_use) {
            cert_in_use = auth->cert_pem;
            key_in_use = auth->key_pem;
            http.set_client_certificate(cert_in_use, key_in_use);
        }
        http::RequestExtras x = extras;
        x.headers = call.headers;
        x.headers.emplace_back("Accept", "application/json, */*");
        if (!auth->token.empty()) x.headers.emplace_back("Authorization", "Bearer " + auth->token);
        int head = 0;
        x.on_head = [&](const http::ClientResponse& r) {
            head = r.status;
            if (extras.on_head) extras.on_head(r);
        };
        std::string error_body;
        std::function<bool(std::string_view)> sink;
        if (on_data) {
            // Only a 2xx body is the caller's; an error's body is a Status for us.
            sink = [&](std::string_view data) {
                if (head >= 200 && head < 300) return (*on_data)(data);
                if (error_body.size() < kMaxErrorBody) error_body.append(data);
                return true;
            };
        }
        ++sent;
        auto r = on_data ? http.stream(call.method, call.path, sink, call.body, call.content_type, x)
                         : http.request(call.method, call.path, call.body, call.content_type, x);
        if (!r.ok()) {
            Error e = r.error();
            bool began = on_data && head >= 200 && head < 300;
            bool cancelled = extras.cancelled && extras.cancelled();
            if (e.kind == ErrorKind::Temporary && !began && !cancelled && attempt < attempts) {
                pause(backoff(attempt), extras.cancelled);
                continue;
            }
            if (attempt > 1) e.message += " (after " + std::to_string(attempt) + " attempts)";
            return ApiError{0, "", r.error().message, std::move(e).context(what)};
        }
        int code = r->status;
        if (code >= 200 && code < 300) return std::move(r).value();
        std::string body = on_data ? error_body : r->body;
        if (call.passthrough && status_object(body).is_null()) {
            if (on_data) r->body = std::move(error_body);
            return std::move(r).value();
        }
        if (code == 401 && !auth_retried && creds.invalidate()) {
            auth_retried = true;  // a fresh credential, once; not counted as a retry
            --attempt;
            continue;
        }
        if (retryable(code) && attempt < attempts) {
            auto wait = backoff(attempt);
            if (auto ra = retry_after(*r)) wait = std::max(wait, std::min(*ra, o.retry.max_retry_after));
            pause(wait, extras.cancelled);
            if (!(extras.cancelled && extras.cancelled())) continue;
        }
        ApiError e = api_error(call, config.ns, code, body);
        if (retryable(code) && attempt > 1) e.error.message += " (after " + std::to_string(attempt) + " attempts)";
        return e;
    }
}

Client::Client(Config c, ClientOptions o) : impl_(std::make_unique<Impl>(std::move(c), std::move(o))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const Config& Client::config() const { return impl_->config; }
const std::string& Client::ns() const { return impl_->config.ns; }
void Client::set_namespace(std::string ns) { impl_->config.ns = std::move(ns); }
int Client::requests_sent() const { return impl_->sent; }
int Client::retry_attempts() const { return std::max(1, impl_->o.retry.attempts); }
void Client::pause_for_retry(int retry, const std::function<bool()>& cancelled) {
    impl_->pause(impl_->backoff(retry), cancelled);
}

ApiResult<http::ClientResponse> Client::send(const Call& c) {
    return impl_->perform(c, nullptr, {});
}

ApiResult<http::ClientResponse> Client::stream(const Call& c, const std::function<bool(std::string_view)>& on_data,
                                               const http::RequestExtras& extras) {
    return impl_->perform(c, &on_data, extras);
}

ApiResult<std::unique_ptr<http::ByteStream>> Client::proxy_upgrade(
    const std::string& pod, int port, const std::string& sub_path, const std::string& protocol,
    const std::vector<std::pair<std::string, std::string>>& headers) {
    Impl& m = *impl_;
    Call call{.path = proxy_path(ns(), pod, port, sub_path), .verb = "get", .resource = "pods/proxy", .name = pod};
    const std::string what = call.verb + " " + call.resource;
    for (bool auth_retried = false;; auth_retried = true) {
        auto auth = m.creds.current();
        if (!auth.ok()) return ApiError{0, "", auth.error().message, auth.error().context(what)};
        if (auth->cert_pem != m.cert_in_use || auth->key_pem != m.key_in_use) {
            m.cert_in_use = auth->cert_pem;
            m.key_in_use = auth->key_pem;
            m.http.set_client_certificate(m.cert_in_use, m.key_in_use);
        }
        http::RequestExtras x;
        x.headers = headers;
        if (!auth->token.empty()) x.headers.emplace_back("Authorization", "Bearer " + auth->token);
        ++m.sent;
        auto r = m.http.upgrade(call.path, protocol, x);
        if (!r.ok()) return ApiError{0, "", r.error().message, r.error().context(what)};
        if (r->stream) return std::move(r->stream);
        const int code = r->response.status;
        if (code == 401 && !auth_retried && m.creds.invalidate()) continue;
        // The target's own refusal ({"error": …}) reads better than its JSON.
        ApiError e = api_error(call, ns(), code, r->response.body);
        auto body = parse_json(r->response.body, kMaxErrorBody);
        if (status_object(r->response.body).is_null() && body.ok() && body->is_object() &&
            body->value("error", Json()).is_string())
            e.error.message = what + " " + pod + ": " + (*body)["error"].get<std::string>();
        return e;
    }
}

namespace {

ApiResult<Json> json_answer(const Call& call, ApiResult<http::ClientResponse> r) {
    if (!r.ok()) return r.api_error();
    if (r->body.empty()) return Json::object();
    auto parsed = parse_json(r->body, kMaxAnswer);
    if (!parsed.ok())
        return ApiError{r->status, "", "invalid JSON",
                        failure(call.verb + " " + call.resource + ": the answer is not JSON: " +
                                parsed.error().message)};
    return std::move(parsed).value();
}

std::string name_of(const Json& object) {
    if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) return "";
    const Json& m = object["metadata"];
    if (auto n = m.find("name"); n != m.end() && n->is_string()) return n->get<std::string>();
    return "";
}

}  // namespace

ApiResult<Json> Client::get(const Resource& r, const std::string& name) {
    Call c{.path = path(r, ns(), name), .verb = "get", .resource = r.qualified(), .name = name};
    return json_answer(c, send(c));
}

ApiResult<Json> Client::list(const Resource& r, const Query& q) {
    Call c{.path = path(r, ns(), "", "", q), .verb = q.watch ? "watch" : "list", .resource = r.qualified()};
    return json_answer(c, send(c));
}

ApiResult<Json> Client::create(const Resource& r, const Json& object) {
    Call c{.method = "POST", .path = path(r, ns()), .body = to_line(object), .verb = "create",
           .resource = r.qualified(), .name = name_of(object)};
    return json_answer(c, send(c));
}

ApiResult<Json> Client::replace(const Resource& r, const std::string& name, const Json& object) {
    Call c{.method = "PUT", .path = path(r, ns(), name), .body = to_line(object), .verb = "update",
           .resource = r.qualified(), .name = name};
    return json_answer(c, send(c));
}

ApiResult<Json> Client::del(const Resource& r, const std::string& name, const std::string& propagation) {
    Json options = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
    if (!propagation.empty()) options["propagationPolicy"] = propagation;
    Call c{.method = "DELETE", .path = path(r, ns(), name), .body = to_line(options), .verb = "delete",
           .resource = r.qualified(), .name = name};
    return json_answer(c, send(c));
}

}  // namespace fracta::k8s
