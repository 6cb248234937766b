#include "gw/backends.h"

#include <algorithm>

#include "gw/api_tools.h"
#include "mcp/client_http.h"
#include "mcp/client_sse.h"
#include "mcp/client_stdio.h"

namespace fracta::gw {
namespace {

using Clock = std::chrono::steady_clock;

// A down backend is retried this often at most (each call or list asks).
constexpr auto kRetryEvery = std::chrono::seconds(2);

}  // namespace

Backends::Backends(std::vector<Backend> specs, Log log) : log_(std::move(log)) {
    if (!log_) log_ = [](const std::string&, const std::string&) {};
    for (auto& s : specs) {
        Conn c;
        c.spec = std::move(s);
        conns_[c.spec.id] = std::move(c);
    }
}

Backends::~Backends() { stop(); }

void Backends::on_tools_changed(std::function<void()> callback) {
    std::lock_guard<std::mutex> lock(mu_);
    changed_ = std::move(callback);
}

void Backends::start() {
    std::lock_guard<std::mutex> lock(mu_);
    std::chrono::milliseconds longest{0};
    for (auto& [id, c] : conns_) {
        wanted_.insert(id);
        longest = std::max(longest, c.spec.list_timeout);
    }
    discovery_deadline_ = Clock::now() + longest * 2 + std::chrono::seconds(1);
    if (conns_.empty()) discovered_ = true;
    thread_ = std::thread([this] { loop(); });
}

void Backends::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, c] : conns_)
        if (c.client) c.client->close();
}

void Backends::request_refresh(const std::string& id) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        wanted_.insert(id);
    }
    cv_.notify_all();
}

// One thread connects and lists: backends are few, and a slow one is cut
// off by its own timeouts, so the others wait at most that long.
void Backends::loop() {
    std::map<std::string, Clock::time_point> last_try;
    for (;;) {
        std::string id;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_ || !wanted_.empty(); });
            if (stopping_) return;
            if (!discovered_) {
                bool all_tried = std::all_of(conns_.begin(), conns_.end(), [](const auto& kv) { return kv.second.tried; });
                if (all_tried || Clock::now() > discovery_deadline_) discovered_ = true;
            }
            for (auto it = wanted_.begin(); it != wanted_.end(); ++it) {
                auto tried = last_try.find(*it);
                const Conn& c = conns_.at(*it);
                const bool healthy = c.client && c.client->alive();
                // Refreshing a healthy backend is always allowed; reconnecting is rate-limited.
                if (healthy || tried == last_try.end() || Clock::now() - tried->second >= kRetryEvery) {
                    id = *it;
                    wanted_.erase(it);
                    break;
                }
            }
            if (id.empty()) continue;
        }
        last_try[id] = Clock::now();
        refresh(id);
    }
}

Result<std::unique_ptr<mcp::Client>> Backends::connect(const Backend& b) {
    std::unique_ptr<mcp::Transport> transport;
    if (b.local) {
        mcp::StdioTransportOptions o;
        o.command = b.command;
        o.args = b.args;
        o.env = b.env;
        transport = std::make_unique<mcp::StdioTransport>(o);
    } else if (b.transport == "sse") {
        mcp::SseTransportOptions o;
        o.url = b.url;
        o.headers = b.headers;
        o.endpoint_timeout = b.list_timeout;
        FRACTA_TRY_ASSIGN(t, mcp::SseTransport::create(o));
        transport = std::move(t);
    } else {
        mcp::HttpTransportOptions o;
        o.url = b.url;
        o.headers = b.headers;
        FRACTA_TRY_ASSIGN(t, mcp::HttpTransport::create(o));
        transport = std::move(t);
    }
    mcp::ClientOptions co;
    co.name = b.id;
    co.timeout = b.timeout;
    const std::string id = b.id;
    co.on_notification = [this, id](const std::string& method, const Json&) {
        if (method == "notifications/tools/list_changed") request_refresh(id);
    };
    co.on_log = [this, id](const std::string& line) { log_("debug", "backend " + id + ": " + line); };
    co.on_closed = [this, id](const Error& why) {
        log_("warn", "backend " + id + ": " + why.message);
        request_refresh(id);
    };
    auto client = std::make_unique<mcp::Client>(std::move(transport), co);
    FRACTA_TRY(client->connect());
    return client;
}

void Backends::refresh(const std::string& id) {
    Backend spec;
    std::shared_ptr<mcp::Client> client;
    {
        std::lock_guard<std::mutex> lock(mu_);
        spec = conns_.at(id).spec;
        client = conns_.at(id).client;
    }
    std::string error;
    if (!client || !client->alive()) {
        if (client) client->close();
        auto made = connect(spec);
        if (made.ok()) {
            client = std::shared_ptr<mcp::Client>(std::move(*made));
        } else {
            client.reset();
            error = made.error().message;
        }
    }
    std::vector<Json> listed;
    if (client) {
        mcp::RequestOptions ro;
        ro.timeout = spec.list_timeout;
        auto tools = client->list_tools(ro);
        if (tools.ok()) listed = std::move(*tools);
        else error = tools.error().message;
    }
    std::function<void()> changed;
    {
        std::lock_guard<std::mutex> lock(mu_);
        Conn& c = conns_.at(id);
        const bool was_up = c.up;
        const auto before = c.tools;
        c.client = client;
        c.tried = true;
        c.up = client && error.empty();
        c.error = error;
        if (c.up) c.tools = std::move(listed);
        if (c.up != was_up) log_(c.up ? "info" : "warn", "backend " + id + (c.up ? " is up" : " is down: " + error));
        if (c.up != was_up || c.tools != before) {
            rename();
            changed = changed_;
        }
    }
    if (changed) changed();
}

void Backends::rename() {
    std::vector<NamedTool> all;
    std::map<std::pair<std::string, std::string>, const Json*> source;
    for (const auto& [id, c] : conns_)
        for (const Json& t : c.tools) {
            if (!t.contains("name") || !t["name"].is_string()) continue;
            all.push_back({id, t["name"].get<std::string>(), ""});
            source[{id, all.back().tool}] = &t;
        }
    std::vector<std::string> reserved;
    for (const auto& t : agent_tools("x")) reserved.push_back(t.tool.name);
    by_exposed_.clear();
    exposed_tools_.clear();
    for (auto& named : expose(std::move(all), reserved)) {
        by_exposed_[named.exposed] = named;
        if (!conns_.at(named.backend).up) continue;
        auto tool = mcp::Tool::from_json(*source.at({named.backend, named.tool}));
        if (!tool.ok()) continue;
        tool->name = named.exposed;
        exposed_tools_.push_back(std::move(*tool));
    }
}

std::vector<mcp::Tool> Backends::tools() {
    std::vector<std::string> down;
    std::vector<mcp::Tool> out;
    {
        std::lock_guard<std::mutex> lock(mu_);
        out = exposed_tools_;
        for (const auto& [id, c] : conns_)
            if (!c.up && c.tried) down.push_back(id);
    }
    for (const auto& id : down) request_refresh(id);  // try again, in the background
    return out;
}

bool Backends::owns(const std::string& exposed) {
    std::lock_guard<std::mutex> lock(mu_);
    return by_exposed_.count(exposed) != 0;
}

Result<Json> Backends::call(const std::string& exposed, const Json& arguments, const mcp::CallContext& ctx) {
    NamedTool named;
    std::shared_ptr<mcp::Client> client;
    std::chrono::milliseconds timeout;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = by_exposed_.find(exposed);
        if (it == by_exposed_.end()) return usage_error("unknown tool \"" + exposed + "\"");
        named = it->second;
        const Conn& c = conns_.at(named.backend);
        client = c.client;
        timeout = c.spec.timeout;
    }
    if (!client || !client->alive()) {
        request_refresh(named.backend);
        return text_result("backend \"" + named.backend + "\" is down; it is being restarted, try again shortly", true);
    }
    mcp::RequestOptions ro;
    ro.timeout = timeout;
    ro.cancelled = ctx.cancelled;  // the agent's cancellation reaches the backend under the backend-side id
    if (ctx.progress)
        ro.on_progress = [&ctx](const Json& p) {
            std::optional<double> total;
            if (p.contains("total") && p["total"].is_number()) total = p["total"].get<double>();
            ctx.progress(p.value("progress", 0.0), total, p.value("message", std::string()));
        };
    auto answer = client->call_tool(named.tool, arguments, ro);
    if (!answer.ok()) {
        if (!client->alive()) request_refresh(named.backend);
        return text_result("backend \"" + named.backend + "\": " + answer.error().message, true);
    }
    if (answer->kind == mcp::Kind::Error)
        return text_result("backend \"" + named.backend + "\": " + answer->error.message, true);
    return answer->result;
}

Json Backends::health() {
    std::lock_guard<std::mutex> lock(mu_);
    Json out = Json::array();
    for (const auto& [id, c] : conns_) {
        Json b = {{"id", id}, {"up", c.up}, {"tools", c.tools.size()}};
        if (!c.error.empty()) b["error"] = c.error;
        out.push_back(b);
    }
    return out;
}

bool Backends::discovered() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!discovered_ && Clock::now() > discovery_deadline_) discovered_ = true;
    return discovered_;
}

}  // namespace fracta::gw
