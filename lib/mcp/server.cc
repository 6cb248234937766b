// server.cc — the MCP server core (see server.h): lifecycle, discovery,
// tools/list pagination, tools/call with progress and cancellation.
#include "mcp/server.h"

#include <condition_variable>
#include <cstdio>
#include <exception>
#include <list>
#include <system_error>
#include <thread>

namespace fracta::mcp {

namespace {

const Json* find_member(const Json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

const Json* params_meta(const Message& m) {
    return find_member(m.params, "_meta");
}

Json invalid_params(const Id& id, const std::string& why) {
    return make_error(id, kInvalidParams, why);
}

// Opaque tools/list cursors: "c" and the offset in hex. Only we read them.
std::string encode_cursor(size_t offset) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "c%zx", offset);
    return buf;
}

std::optional<size_t> decode_cursor(const std::string& cursor) {
    if (cursor.size() < 2 || cursor.size() > 17 || cursor[0] != 'c') return std::nullopt;
    size_t v = 0;
    for (size_t i = 1; i < cursor.size(); i++) {
        char c = cursor[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return std::nullopt;
        v = v * 16 + static_cast<size_t>(d);
    }
    return v;
}

// Shared by a call's progress callback and the code that ends the call, so
// that nothing is reported once the response is on its way.
struct ProgressState {
    std::mutex mu;
    bool done = false;
    bool any = false;
    double last = 0;
};

}  // namespace

// --- Tool -------------------------------------------------------------------------------

Json Tool::to_json() const {
    Json j = Json::object();
    j["name"] = name;
    if (!title.empty()) j["title"] = title;
    if (!description.empty()) j["description"] = description;
    j["inputSchema"] = input_schema.is_null() ? Json{{"type", "object"}} : input_schema;
    if (!output_schema.is_null()) j["outputSchema"] = output_schema;
    if (!annotations.is_null()) j["annotations"] = annotations;
    if (extra.is_object())
        for (const auto& [k, v] : extra.items())
            if (!j.contains(k)) j[k] = v;
    return j;
}

Result<Tool> Tool::from_json(const Json& value) {
    if (!value.is_object()) return usage_error("a tool must be an object");
    Tool t;
    for (const auto& [k, v] : value.items()) {
        if (k == "name") {
            if (!v.is_string()) return usage_error("tool name must be a string");
            t.name = v.get<std::string>();
        } else if (k == "title" && v.is_string()) {
            t.title = v.get<std::string>();
        } else if (k == "description" && v.is_string()) {
            t.description = v.get<std::string>();
        } else if (k == "inputSchema") {
            t.input_schema = v;
        } else if (k == "outputSchema") {
            t.output_schema = v;
        } else if (k == "annotations") {
            t.annotations = v;
        } else {
            if (!t.extra.is_object()) t.extra = Json::object();
            t.extra[k] = v;
        }
    }
    if (t.name.empty()) return usage_error("a tool needs a name");
    return t;
}

// --- Session ----------------------------------------------------------------------------

std::string Session::protocol_version() const {
    std::lock_guard lock(mu_);
    return version_;
}

bool Session::initialized() const {
    std::lock_guard lock(mu_);
    return initialized_;
}

bool Session::ready() const {
    std::lock_guard lock(mu_);
    return ready_;
}

Json Session::client_info() const {
    std::lock_guard lock(mu_);
    return client_info_;
}

void Session::cancel_all() {
    std::lock_guard lock(mu_);
    for (auto& [id, call] : calls_) call.cancelled->store(true);
}

size_t Session::in_flight() const {
    std::lock_guard lock(mu_);
    return calls_.size();
}

// --- Server ------------------------------------------------------------------------------

Server::Server(ServerConfig config, ToolSource& tools) : config_(std::move(config)), tools_(tools) {}

Json Server::server_info() const {
    Json j = Json::object();
    j["name"] = config_.name;
    j["version"] = config_.version.empty() ? std::string(FRACTA_VERSION) : config_.version;
    if (!config_.title.empty()) j["title"] = config_.title;
    return j;
}

Json Server::tools_list_changed() {
    return make_notification("notifications/tools/list_changed");
}

bool Server::is_modern(const Message& m) {
    const Json* meta = params_meta(m);
    return meta && meta->is_object() && meta->contains(kMetaProtocolVersion);
}

std::string Server::modern_version(const Message& m) {
    const Json* meta = params_meta(m);
    const Json* v = meta ? find_member(*meta, kMetaProtocolVersion) : nullptr;
    return v && v->is_string() ? v->get<std::string>() : std::string();
}

std::optional<RpcError> Server::check_modern(const Message& m) const {
    const Json* meta = params_meta(m);
    const Json* v = meta ? find_member(*meta, kMetaProtocolVersion) : nullptr;
    if (!v) return RpcError{kInvalidParams, std::string("missing _meta ") + kMetaProtocolVersion, nullptr};
    if (!v->is_string())
        return RpcError{kInvalidParams, std::string("_meta ") + kMetaProtocolVersion + " must be a string", nullptr};
    std::string requested = v->get<std::string>();
    if (!is_modern_version(requested)) {
        Json data = {{"supported", modern_versions()}, {"requested", requested}};
        return RpcError{kUnsupportedProtocolVersion, "unsupported protocol version: " + requested, data};
    }
    const Json* caps = find_member(*meta, kMetaClientCapabilities);
    if (!caps) return RpcError{kInvalidParams, std::string("missing _meta ") + kMetaClientCapabilities, nullptr};
    if (!caps->is_object())
        return RpcError{kInvalidParams, std::string("_meta ") + kMetaClientCapabilities + " must be an object",
                        nullptr};
    return std::nullopt;
}

std::optional<Json> Server::handle(Session& session, const Message& m, ToolSource& tools, const Emit& emit) const {
    if (m.is_response()) return std::nullopt;  // we send no requests, so there is nothing to match
    if (m.is_notification()) {
        handle_notification(session, m);
        return std::nullopt;
    }
    if (!m.params.is_null() && !m.params.is_object()) return invalid_params(m.id, "params must be an object");
    if (is_modern(m)) return handle_modern(session, m, tools, emit);
    return handle_legacy(session, m, tools, emit);
}

void Server::handle_notification(Session& s, const Message& m) const {
    if (m.method == "notifications/initialized") {
        std::lock_guard lock(s.mu_);
        if (s.initialized_) s.ready_ = true;
    } else if (m.method == "notifications/cancelled") {
        const Json* rid = find_member(m.params, "requestId");
        if (!rid) return;
        auto id = Id::from_json(*rid);
        if (!id) return;
        std::lock_guard lock(s.mu_);
        auto it = s.calls_.find(*id);
        if (it != s.calls_.end()) it->second.cancelled->store(true);  // unknown or finished: a harmless race
    }
    // Any other notification is none of our business.
}

std::optional<Json> Server::handle_legacy(Session& s, const Message& m, ToolSource& tools, const Emit& emit) const {
    if (m.method == "initialize") return initialize(s, m);
    if (m.method == "ping") return make_result(m.id, Json::object());
    bool initialized;
    std::string version;
    {
        std::lock_guard lock(s.mu_);
        initialized = s.initialized_;
        version = s.version_;
    }
    if (m.method == "server/discover")
        return make_error(m.id, kInvalidParams, std::string("missing _meta ") + kMetaProtocolVersion);
    if (m.method != "tools/list" && m.method != "tools/call")
        return make_error(m.id, kMethodNotFound, "method not found: " + m.method);
    if (!initialized) return make_error(m.id, kInvalidRequest, "not initialized: send initialize first");
    if (m.method == "tools/list") return list_tools(s, m, tools, version);
    return call_tool(s, m, tools, version, emit);
}

std::optional<Json> Server::handle_modern(Session& s, const Message& m, ToolSource& tools, const Emit& emit) const {
    if (auto bad = check_modern(m)) return make_error(m.id, bad->code, bad->message, bad->data);
    std::string version = modern_version(m);
    if (m.method == "server/discover") return make_result(m.id, discover());
    if (m.method == "tools/list") return list_tools(s, m, tools, version);
    if (m.method == "tools/call") return call_tool(s, m, tools, version, emit);
    return make_error(m.id, kMethodNotFound, "method not found: " + m.method);
}

Json Server::initialize(Session& s, const Message& m) const {
    const Json* v = find_member(m.params, "protocolVersion");
    if (!v || !v->is_string()) return invalid_params(m.id, "initialize needs params.protocolVersion");
    std::string requested = v->get<std::string>();
    std::string chosen = is_legacy_version(requested) ? requested : std::string(kLatestLegacyVersion);
    {
        std::lock_guard lock(s.mu_);
        if (s.initialized_) return make_error(m.id, kInvalidRequest, "already initialized");
        s.initialized_ = true;
        s.version_ = chosen;
        if (const Json* info = find_member(m.params, "clientInfo"); info && info->is_object()) s.client_info_ = *info;
    }
    Json tools_cap = Json::object();
    if (config_.tools_list_changed) tools_cap["listChanged"] = true;
    Json result = Json::object();
    result["protocolVersion"] = chosen;
    result["capabilities"] = {{"tools", tools_cap}};
    result["serverInfo"] = server_info();
    if (!config_.instructions.empty()) result["instructions"] = config_.instructions;
    return make_result(m.id, result);
}

namespace {

// What every modern result carries: resultType and who answered.
void decorate_modern(Json& result, const Json& server_info) {
    result["resultType"] = "complete";
    if (!result.contains("_meta") || !result["_meta"].is_object()) result["_meta"] = Json::object();
    result["_meta"][kMetaServerInfo] = server_info;
}

}  // namespace

Json Server::discover() const {
    Json result = Json::object();
    result["supportedVersions"] = modern_versions();
    result["capabilities"] = {{"tools", Json::object()}};
    if (!config_.instructions.empty()) result["instructions"] = config_.instructions;
    result["ttlMs"] = config_.ttl_ms;
    result["cacheScope"] = config_.cache_scope;
    decorate_modern(result, server_info());
    return result;
}

Json Server::list_tools(Session& s, const Message& m, ToolSource& tools, const std::string& version) const {
    size_t offset = 0;
    if (const Json* c = find_member(m.params, "cursor"); c && !c->is_null()) {
        std::optional<size_t> decoded;
        if (c->is_string()) decoded = decode_cursor(c->get<std::string>());
        if (!decoded) return invalid_params(m.id, "invalid cursor");
        offset = *decoded;
    }
    CallContext ctx;
    ctx.session_id = s.id();
    ctx.protocol_version = version;
    if (const Json* meta = params_meta(m)) ctx.meta = *meta;
    ctx.progress = [](double, std::optional<double>, std::string) {};
    ctx.cancelled = std::make_shared<std::atomic<bool>>(false);

    Result<std::vector<Tool>> listed = failure("no tools");
    try {
        listed = tools.list_tools(ctx);
    } catch (const std::exception& e) {
        return make_error(m.id, kInternalError, std::string("listing tools: ") + e.what());
    }
    if (!listed) return make_error(m.id, kInternalError, "listing tools: " + listed.error().message);
    const auto& all = *listed;
    if (offset > all.size()) return invalid_params(m.id, "invalid cursor");
    size_t end = config_.page_size == 0 ? all.size() : std::min(all.size(), offset + config_.page_size);

    Json page = Json::array();
    for (size_t i = offset; i < end; i++) page.push_back(all[i].to_json());
    Json result = Json::object();
    result["tools"] = std::move(page);
    if (end < all.size()) result["nextCursor"] = encode_cursor(end);
    if (is_modern_version(version)) {
        result["ttlMs"] = config_.ttl_ms;
        result["cacheScope"] = config_.cache_scope;
        decorate_modern(result, server_info());
    }
    return make_result(m.id, result);
}

Json progress_token(const Message& m) {
    const Json* meta = params_meta(m);
    const Json* token = meta ? find_member(*meta, kMetaProgressToken) : nullptr;
    if (!token || !(token->is_string() || token->is_number_integer())) return nullptr;
    return *token;
}

std::optional<Json> Server::call_tool(Session& s, const Message& m, ToolSource& tools, const std::string& version,
                                      const Emit& emit) const {
    const Json* name = find_member(m.params, "name");
    if (!name || !name->is_string()) return invalid_params(m.id, "tools/call needs params.name");
    Json arguments = Json::object();
    if (const Json* a = find_member(m.params, "arguments"); a && !a->is_null()) {
        if (!a->is_object()) return invalid_params(m.id, "params.arguments must be an object");
        arguments = *a;
    }

    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    {
        std::lock_guard lock(s.mu_);
        if (!s.calls_.emplace(m.id, Session::Call{cancelled}).second)
            return make_error(m.id, kInvalidRequest, "request id " + m.id.str() + " is already in flight");
    }

    CallContext ctx;
    ctx.session_id = s.id();
    ctx.protocol_version = version;
    if (const Json* meta = params_meta(m)) ctx.meta = *meta;
    ctx.cancelled = cancelled;
    auto progress = std::make_shared<ProgressState>();
    Json token = progress_token(m);
    bool with_message = version != kVersion20241105;
    if (!token.is_null() && emit) {
        ctx.progress = [progress, token, emit, with_message](double p, std::optional<double> total,
                                                             std::string message) {
            std::lock_guard lock(progress->mu);
            if (progress->done || (progress->any && p <= progress->last)) return;
            progress->any = true;
            progress->last = p;
            Json params = {{"progressToken", token}, {"progress", p}};
            if (total) params["total"] = *total;
            if (with_message && !message.empty()) params["message"] = std::move(message);
            emit(make_notification("notifications/progress", params));
        };
    } else {
        ctx.progress = [](double, std::optional<double>, std::string) {};
    }

    Result<Json> outcome = failure("tool call did not run");
    try {
        outcome = tools.call_tool(name->get<std::string>(), arguments, ctx);
    } catch (const std::exception& e) {
        outcome = failure(std::string("tool threw: ") + e.what());
    }
    {
        std::lock_guard lock(progress->mu);
        progress->done = true;
    }
    {
        std::lock_guard lock(s.mu_);
        s.calls_.erase(m.id);
    }
    if (cancelled->load()) return std::nullopt;

    Json result;
    if (!outcome) {
        const Error& e = outcome.error();
        if (e.kind == ErrorKind::Usage) return invalid_params(m.id, e.message);
        result = Json::object();
        result["content"] = Json::array({{{"type", "text"}, {"text", e.message}}});
        result["isError"] = true;
    } else {
        result = std::move(outcome).value();
        if (!result.is_object()) return make_error(m.id, kInternalError, "the tool returned a non-object result");
        if (!result.contains("content") || !result["content"].is_array()) result["content"] = Json::array();
    }
    if (is_modern_version(version)) decorate_modern(result, server_info());
    return make_result(m.id, result);
}

// --- CallThreads -----------------------------------------------------------------------------

struct CallThreads::State {
    std::mutex mu;
    std::condition_variable cv;
    size_t running = 0;                     // jobs that have not returned
    size_t max = 0;
    std::list<std::thread> threads;         // every thread not joined yet
    std::vector<std::thread::id> finished;  // of those, the ones whose job returned
};

CallThreads::CallThreads(size_t max_threads) : state_(std::make_unique<State>()) {
    state_->max = max_threads;
}

CallThreads::~CallThreads() {
    wait_idle();
}

void CallThreads::run(std::function<void()> job) {
    reap();
    // Shared, so that the job is still ours to run when no thread can be had.
    auto fn = std::make_shared<std::function<void()>>(std::move(job));
    {
        std::lock_guard lock(state_->mu);
        if (state_->running < state_->max) {
            try {
                // Started under the lock, so the thread is in the list before it can say it finished.
                state_->threads.emplace_back([state = state_.get(), fn]() mutable {
                    (*fn)();
                    fn.reset();  // the job's captures go before anyone hears it is done
                    std::lock_guard lock(state->mu);
                    state->finished.push_back(std::this_thread::get_id());
                    state->running--;
                    state->cv.notify_all();
                });
                state_->running++;
                return;
            } catch (const std::system_error&) {
                // no thread to be had: run it here
            }
        }
    }
    (*fn)();
}

void CallThreads::reap() {
    std::vector<std::thread> done;
    {
        std::lock_guard lock(state_->mu);
        for (auto id : state_->finished)
            for (auto it = state_->threads.begin(); it != state_->threads.end(); ++it)
                if (it->get_id() == id) {
                    done.push_back(std::move(*it));
                    state_->threads.erase(it);
                    break;
                }
        state_->finished.clear();
    }
    // Their jobs have returned: each join waits only for the thread's own
    // exit (its thread-local state, OpenSSL's among it, freed).
    for (auto& t : done) t.join();
}

void CallThreads::wait_idle() {
    {
        std::unique_lock lock(state_->mu);
        state_->cv.wait(lock, [&] { return state_->running == 0; });
    }
    reap();
}

size_t CallThreads::running() const {
    std::lock_guard lock(state_->mu);
    return state_->running;
}

size_t CallThreads::threads() const {
    std::lock_guard lock(state_->mu);
    return state_->threads.size();
}

// --- decode_payload ------------------------------------------------------------------------

Incoming decode_payload(std::string_view text, std::string_view version, size_t max_bytes) {
    Incoming in;
    auto payload = parse_payload(text, max_bytes);
    if (!payload) {
        in.parse_error = true;
        in.errors.push_back(make_error(Id(), kParseError, "Parse error: " + payload.error().message));
        return in;
    }
    auto one = [&in](const Json& value) {
        auto m = parse_message(value);
        if (m)
            in.messages.push_back(std::move(m).value());
        else
            in.errors.push_back(
                make_error(id_for_error(value), kInvalidRequest, "Invalid Request: " + m.error().message));
    };
    if (!is_batch(*payload)) {
        one(*payload);
        return in;
    }
    in.batch = true;
    auto members = batch_members(*payload, version);
    if (!members) {
        in.errors.push_back(make_error(Id(), kInvalidRequest, "Invalid Request: " + members.error().message));
        return in;
    }
    for (const auto& member : *members) one(member);
    return in;
}

}  // namespace fracta::mcp
