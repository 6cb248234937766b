#include "gw/gateway.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <variant>

#include "base/text.h"
#include "config/project.h"
#include "gw/api_tools.h"
#include "gw/auth.h"
#include "gw/origin.h"
#include "gw/policy.h"
#include "http/server.h"
#include "mcp/http_server.h"
#include "mcp/server.h"

namespace fracta::gw {
namespace {

using http::Request;
using http::Response;
using Clock = std::chrono::steady_clock;

// What one agent sees: fracta's tools as that agent, then the backends',
// both through the tool policies.
class AgentSource : public mcp::ToolSource {
public:
    AgentSource(const std::string& task, const ToolPolicy& global, const ToolPolicy& runtime, cpapi::Client& cp,
                Proxy* proxy)
        : own_(agent_tools(task), cp),
          global_(global),
          runtime_(runtime),
          proxy_(proxy) {}

    Result<std::vector<mcp::Tool>> list_tools(const mcp::CallContext& ctx) override {
        std::vector<mcp::Tool> out;
        FRACTA_TRY_ASSIGN(own, own_.list_tools(ctx));
        for (auto& t : own)
            if (allowed(t.name, global_, runtime_)) out.push_back(std::move(t));
        if (proxy_)
            for (auto& t : proxy_->tools())
                if (allowed(t.name, global_, runtime_)) out.push_back(std::move(t));
        return out;
    }

    Result<Json> call_tool(const std::string& name, const Json& arguments, const mcp::CallContext& ctx) override {
        // A tool the policy hides does not exist, as far as this agent can tell.
        if (!allowed(name, global_, runtime_)) return usage_error("unknown tool \"" + name + "\"");
        if (proxy_ && proxy_->owns(name)) return proxy_->call(name, arguments, ctx);
        return own_.call_tool(name, arguments, ctx);
    }

private:
    ApiToolSource own_;
    const ToolPolicy& global_;
    const ToolPolicy& runtime_;
    Proxy* proxy_;
};

// Latency buckets (seconds) of the request histograms.
constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

struct RouteStats {
    std::map<int, uint64_t> by_status;
    uint64_t buckets[std::size(kBuckets)] = {};
    uint64_t count = 0;
    double sum = 0;
};

}  // namespace

// The default source of the mcp::Server: never used, every request names
// its agent's own source.
class NoTools : public mcp::ToolSource {
public:
    Result<std::vector<mcp::Tool>> list_tools(const mcp::CallContext&) override { return std::vector<mcp::Tool>{}; }
    Result<Json> call_tool(const std::string& name, const Json&, const mcp::CallContext&) override {
        return usage_error("unknown tool \"" + name + "\"");
    }
};

Response too_many_failures(long retry_after) {
    Response r = Response::error(429, "too many failed authentications from this address; retry in " +
                                          std::to_string(retry_after) + "s");
    r.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return r;
}

struct Gateway::Impl {
    explicit Impl(GatewayOptions options, Proxy* p)
        : o(std::move(options)),
          proxy(p),
          cp(o.cp_url, o.cp_token, std::chrono::seconds(10), o.cp_ca_pem),
          failures(o.auth_limit),
          verifier(TokenVerifier::through(cp), o.token_cache),
          guard(o.allowed_hosts),
          server(mcp::ServerConfig{}, no_tools),
          endpoint(server) {}

    GatewayOptions o;
    Proxy* proxy;
    cpapi::Client cp;
    http::FailureLimiter failures;  // of agent tokens, per client address
    TokenVerifier verifier;
    OriginGuard guard;
    NoTools no_tools;
    mcp::Server server;
    mcp::HttpEndpoint endpoint;
    std::unique_ptr<http::Server> http;

    std::mutex stats_mu;
    std::map<std::string, RouteStats> stats;  // by route kind

    void record(const std::string& route, int status, double seconds) {
        std::lock_guard<std::mutex> lock(stats_mu);
        RouteStats& r = stats[route];
        ++r.by_status[status];
        ++r.count;
        r.sum += seconds;
        for (size_t i = 0; i < std::size(kBuckets); ++i)
            if (seconds <= kBuckets[i]) ++r.buckets[i];
    }

    const ToolPolicy& runtime_policy(const std::string& runtime) const {
        auto it = o.settings.runtime_policies.find(runtime);
        return it == o.settings.runtime_policies.end() ? empty_policy : it->second;
    }
    ToolPolicy empty_policy;

    // Each agent's view, built once per task and runtime and then shared by
    // its requests: fracta's tool definitions (their schemas) cost more to
    // build than a whole proxied call does. A view holds nothing that
    // changes (the backends' tools are asked for on every list), so sharing
    // it changes no answer. Bounded like the token cache.
    std::mutex sources_mu;
    std::map<std::string, std::shared_ptr<AgentSource>> sources;  // task + "\n" + runtime → view

    std::shared_ptr<AgentSource> source_for(const std::string& task, const std::string& runtime) {
        const std::string key = task + "\n" + runtime;
        std::lock_guard<std::mutex> lock(sources_mu);
        auto it = sources.find(key);
        if (it != sources.end()) return it->second;
        if (sources.size() >= 4096) sources.clear();
        auto view = std::make_shared<AgentSource>(task, o.settings.global_policy, runtime_policy(runtime), cp, proxy);
        sources.emplace(key, view);
        return view;
    }

    // Host, Origin, then the agent's token. Returns the refusal, or the
    // binding to serve the request with.
    std::variant<Response, mcp::Binding> admit(const Request& req) {
        if (!guard.host_ok(req.header("host"))) return Response::error(403, "forbidden Host");
        if (!guard.origin_ok(req.header("origin"))) return Response::error(403, "forbidden Origin");
        const std::string& task = req.params.at("task");
        const auto now = http::FailureLimiter::Clock::now();
        if (long wait = failures.blocked_for(req.peer, now); wait > 0) return too_many_failures(wait);
        auto who = verifier.check(task, req.header("authorization"));
        if (!who.ok()) return Response::error(503, who.error().message);
        if (who->verdict == Verdict::Forbidden) return Response::error(403, "this token is not agent \"" + task + "\"'s");
        if (who->verdict != Verdict::Allowed) {
            if (failures.failed(req.peer, now) && o.log)  // once per window, never with the token
                o.log("warn", "auth: " + std::to_string(o.auth_limit.failures) + " failed authentications from " +
                                  req.peer + " within " + std::to_string(o.auth_limit.window.count() / 1000) +
                                  "s: answering 429 until the window ends");
            Response r = Response::error(401, req.header("authorization").empty() ? "missing bearer token"
                                                                                  : "invalid token");
            r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"fracta\"");
            return r;
        }
        return mcp::Binding{task, source_for(task, who->runtime)};
    }

    Response serve(const std::string& route, const Request& req,
                   const std::function<Response(const mcp::Binding&)>& handle) {
        const auto t0 = Clock::now();
        auto admitted = admit(req);
        Response res = std::holds_alternative<Response>(admitted) ? std::get<Response>(admitted)
                                                                  : handle(std::get<mcp::Binding>(admitted));
        record(route, res.status, std::chrono::duration<double>(Clock::now() - t0).count());
        return res;
    }

    std::string metrics();
    Response readyz();
    Response debug_policy(const Request& req);
};

std::string Gateway::Impl::metrics() {
    std::ostringstream out;
    out << "# HELP fracta_gw_requests_total Requests answered, by route and status.\n"
           "# TYPE fracta_gw_requests_total counter\n";
    std::lock_guard<std::mutex> lock(stats_mu);
    for (const auto& [route, r] : stats)
        for (const auto& [status, n] : r.by_status)
            out << "fracta_gw_requests_total{route=\"" << route << "\",code=\"" << status << "\"} " << n << "\n";
    out << "# HELP fracta_gw_request_seconds Time to answer, by route (streams: until the answer began).\n"
           "# TYPE fracta_gw_request_seconds histogram\n";
    for (const auto& [route, r] : stats) {
        for (size_t i = 0; i < std::size(kBuckets); ++i)
            out << "fracta_gw_request_seconds_bucket{route=\"" << route << "\",le=\"" << kBuckets[i] << "\"} "
                << r.buckets[i] << "\n";
        out << "fracta_gw_request_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << r.count << "\n";
        out << "fracta_gw_request_seconds_sum{route=\"" << route << "\"} " << r.sum << "\n";
        out << "fracta_gw_request_seconds_count{route=\"" << route << "\"} " << r.count << "\n";
    }
    out << "# HELP fracta_gw_sessions Open legacy MCP sessions.\n# TYPE fracta_gw_sessions gauge\n"
        << "fracta_gw_sessions " << endpoint.session_count() << "\n";
    out << "# HELP fracta_gw_backend_up Whether a backend answered its last discovery (1) or not (0).\n"
           "# TYPE fracta_gw_backend_up gauge\n";
    out << "# HELP fracta_gw_backend_tools Tools a backend offers.\n# TYPE fracta_gw_backend_tools gauge\n";
    if (proxy)
        for (const Json& b : proxy->health()) {
            const std::string id = b.value("id", "");
            out << "fracta_gw_backend_up{backend=\"" << id << "\"} " << (b.value("up", false) ? 1 : 0) << "\n";
            out << "fracta_gw_backend_tools{backend=\"" << id << "\"} " << b.value("tools", 0) << "\n";
        }
    return out.str();
}

Response Gateway::Impl::readyz() {
    auto alive = cp.ask("GET", "/healthz");
    const bool cp_ok = alive.ok() && alive->ok();
    const bool discovered = !proxy || proxy->discovered();
    Json body = {{"control_plane", cp_ok}, {"backends_discovered", discovered}};
    if (proxy) body["backends"] = proxy->health();
    return Response::json(cp_ok && discovered ? 200 : 503, body);
}

// Which tools each policy shows: the global one alone, and with each
// runtime's. Loopback only: it lists every backend tool.
Response Gateway::Impl::debug_policy(const Request& req) {
    if (!req.peer_loopback) return Response::error(403, "/debug/policy answers loopback clients only");
    std::vector<std::string> names;
    for (const auto& t : agent_tools("debug")) names.push_back(t.tool.name);
    if (proxy)
        for (const auto& t : proxy->tools()) names.push_back(t.name);
    auto visible = [&](const ToolPolicy& runtime) {
        Json shown = Json::array(), hidden = Json::array();
        for (const auto& n : names) (allowed(n, o.settings.global_policy, runtime) ? shown : hidden).push_back(n);
        return Json{{"shown", shown}, {"hidden", hidden}};
    };
    Json out = {{"global", visible(empty_policy)}, {"runtimes", Json::object()}};
    for (const auto& [runtime, policy] : o.settings.runtime_policies) out["runtimes"][runtime] = visible(policy);
    return Response::json(200, out);
}

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gateway::~Gateway() { stop(); }

Result<std::unique_ptr<Gateway>> Gateway::start(GatewayOptions options, Proxy* proxy) {
    auto impl = std::make_unique<Impl>(std::move(options), proxy);
    Impl* g = impl.get();
    http::Router router;
    router.add("GET", "/healthz", [](const Request&) { return Response::json(200, {{"status", "ok"}}); });
    router.add("GET", "/readyz", [g](const Request&) { return g->readyz(); });
    router.add("GET", "/metrics", [g](const Request&) {
        return Response::text(200, g->metrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    router.add("GET", "/debug/policy", [g](const Request& r) { return g->debug_policy(r); });
    for (const char* method : {"POST", "GET", "DELETE"})
        router.add(method, "/agents/{task}/mcp", [g](const Request& r) {
            return g->serve("mcp", r, [&](const mcp::Binding& b) { return g->endpoint.handle(r, b); });
        });
    router.add("GET", "/agents/{task}/sse", [g](const Request& r) {
        return g->serve("sse", r, [&](const mcp::Binding& b) {
            return g->endpoint.handle_sse(r, b, "/agents/" + http::percent_encode(r.params.at("task")) + "/messages");
        });
    });
    router.add("POST", "/agents/{task}/messages", [g](const Request& r) {
        return g->serve("messages", r, [&](const mcp::Binding& b) { return g->endpoint.handle_messages(r, b); });
    });
    http::ServerOptions so;
    so.thread_per_connection = true;  // SSE streams and long tool calls hold their connection
    so.max_body = kMaxJsonInput;  // larger bodies: 413 before they are read
    so.idle_timeout = std::chrono::seconds(120);
    if (g->o.log) so.error_log = [log = g->o.log](const std::string& line) { log("warn", "http: " + line); };
    so.tls = g->o.tls;
    FRACTA_TRY_ASSIGN(http, http::Server::listen_tcp(g->o.listen, router.handler(), so));
    g->http = std::move(http);
    return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

std::string Gateway::url() const { return config::url_of_listen(impl_->http->address(), impl_->o.tls.enabled()); }

Status Gateway::set_tls(http::TlsCredentials tls) { return impl_->http->set_tls(std::move(tls)); }

void Gateway::tools_changed() { impl_->endpoint.notify_tools_changed(); }

void Gateway::stop() {
    if (!impl_ || !impl_->http) return;
    impl_->endpoint.close_streams();
    impl_->http->stop();
    impl_->http.reset();
}

std::set<std::string> own_hosts(const config::Config& config, const std::string& listen) {
    std::set<std::string> hosts;
    if (std::string h = OriginGuard::host_of(config.gateway.url); !h.empty()) hosts.insert(h);
    std::string l = OriginGuard::host_of(listen);
    if (!l.empty() && l != "0.0.0.0" && l != "::") hosts.insert(l);
    if (const char* extra = std::getenv("FRACTA_GATEWAY_ALLOWED_HOSTS")) {
        for (const std::string& item : split(extra, ','))
            if (!item.empty()) hosts.insert(OriginGuard::host_of(item));
    }
    return hosts;
}

}  // namespace fracta::gw
