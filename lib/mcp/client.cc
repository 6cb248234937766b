// client.cc — the MCP client session (see client.h).
#include "mcp/client.h"

#include <algorithm>

namespace fracta::mcp {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxPages = 10000;  // tools/list pages before we call the server broken

std::string ms(std::chrono::milliseconds d) {
    return std::to_string(d.count()) + " ms";
}

}  // namespace

// One request in flight. Guarded by Client::mu_, except `callback_mu`, which
// is held while on_progress runs so that the request can wait it out before
// returning (the callback may hold references into the caller's frame).
struct Client::Pending {
    std::condition_variable cv;
    std::optional<Result<Message>> outcome;
    Clock::time_point deadline, hard_deadline;
    std::chrono::milliseconds timeout{0};
    bool extend = false;
    std::function<void(const Json&)> on_progress;
    std::mutex callback_mu;
    bool finished = false;  // under callback_mu: no more on_progress
};

Client::Client(std::unique_ptr<Transport> transport, ClientOptions options)
    : transport_(std::move(transport)), options_(std::move(options)) {
    name_ = options_.name.empty() ? transport_->describe() : "backend " + options_.name;
}

Client::~Client() {
    close();
}

Error Client::error(const std::string& what, const std::string& why, ErrorKind kind) const {
    return Error{kind, name_ + ": " + what + ": " + why};
}

Status Client::connect() {
    {
        std::lock_guard lock(mu_);
        if (opened_) return error("connect", "already connected", ErrorKind::Usage);
        opened_ = true;
    }
    TransportEvents events;
    events.message = [this](Json m) { on_message(std::move(m)); };
    events.request_failed = [this](const Id& id, Error why) { on_request_failed(id, std::move(why)); };
    events.closed = [this](Error why) { on_closed(std::move(why)); };
    events.log = [this](const std::string& line) {
        if (options_.on_log) options_.on_log(line);
    };
    if (auto opened = transport_->open(std::move(events)); !opened.ok())
        return error("connect", opened.error().message, opened.error().kind);

    Json params = {{"protocolVersion", options_.protocol_version},
                   {"capabilities", options_.capabilities},
                   {"clientInfo", options_.client_info}};
    auto answer = exchange("initialize", std::move(params), {}, /*cancellable=*/false);
    if (!answer.ok()) return std::move(answer).take_error();
    if (answer->kind == Kind::Error)
        return error("initialize", answer->error.message + " (" + std::to_string(answer->error.code) + ")",
                     ErrorKind::Failed);
    const Json& r = answer->result;
    if (!r.is_object() || !r.contains("protocolVersion") || !r["protocolVersion"].is_string())
        return error("initialize", "the answer has no protocolVersion", ErrorKind::Failed);
    std::string version = r["protocolVersion"].get<std::string>();
    if (!is_legacy_version(version)) {
        transport_->close();
        return error("initialize", "the server speaks protocol " + version + ", which this client does not",
                     ErrorKind::Failed);
    }
    version_ = version;
    if (r.contains("serverInfo") && r["serverInfo"].is_object()) server_info_ = r["serverInfo"];
    if (r.contains("capabilities") && r["capabilities"].is_object()) server_caps_ = r["capabilities"];
    if (r.contains("instructions") && r["instructions"].is_string()) instructions_ = r["instructions"];
    transport_->negotiated(version_);
    FRACTA_TRY(notify("notifications/initialized"));
    transport_->ready();
    std::lock_guard lock(mu_);
    connected_ = true;
    return {};
}

Result<Message> Client::request(const std::string& method, Json params, const RequestOptions& o) {
    {
        std::lock_guard lock(mu_);
        if (!connected_ && !dead_ && !closed_) return error(method, "not connected", ErrorKind::Usage);
    }
    return exchange(method, std::move(params), o, /*cancellable=*/true);
}

bool Client::await(Pending& p, std::unique_lock<std::mutex>& lock, const RequestOptions& o, bool cancellable) {
    // The cancel flag belongs to the caller's caller, who cannot wake this
    // wait: look at it every kCancelPoll (only requests that have one).
    while (!p.outcome) {
        if (cancellable && o.cancelled && o.cancelled->load()) return true;
        auto until = std::min(p.deadline, p.hard_deadline);
        if (cancellable && o.cancelled) until = std::min(until, Clock::now() + kCancelPoll);
        if (p.cv.wait_until(lock, until) == std::cv_status::timeout && !p.outcome &&
            Clock::now() >= std::min(p.deadline, p.hard_deadline))
            return false;
    }
    return false;
}

Result<Message> Client::exchange(const std::string& method, Json params, const RequestOptions& o, bool cancellable) {
    auto p = std::make_shared<Pending>();
    p->timeout = o.timeout.count() > 0 ? o.timeout : options_.timeout;
    const auto start = Clock::now();
    p->deadline = start + p->timeout;
    p->hard_deadline = o.max_total.count() > 0 ? start + o.max_total : Clock::time_point::max();
    p->extend = o.progress_extends_timeout;
    p->on_progress = o.on_progress;

    // _meta: what the caller passes through, with our own progress token.
    Json meta = o.meta.is_object() ? o.meta : Json::object();
    meta.erase(kMetaProgressToken);

    Id id;
    std::string token;
    {
        std::lock_guard lock(mu_);
        if (closed_) return error(method, "the client is closed");
        if (dead_) return error(method, dead_->message);
        id = Id(static_cast<long long>(next_id_++));
        pending_[id] = p;
        if (p->on_progress) {
            token = "fracta-" + std::to_string(id.as_int());
            by_token_[token] = p;
            meta[kMetaProgressToken] = token;
        }
    }
    if (!meta.empty()) {
        if (!params.is_object()) params = Json::object();
        params["_meta"] = meta;
    }

    auto forget = [&] {  // with mu_ held
        pending_.erase(id);
        if (!token.empty()) by_token_.erase(token);
    };
    auto finish = [&] {  // no on_progress may run after we return
        std::lock_guard callback(p->callback_mu);
        p->finished = true;
    };

    if (auto sent = transport_->send(make_request(id, method, params)); !sent.ok()) {
        {
            std::lock_guard lock(mu_);
            forget();
        }
        finish();
        return error(method, sent.error().message, sent.error().kind);
    }

    std::unique_lock lock(mu_);
    const bool cancelled = await(*p, lock, o, cancellable);
    if (p->outcome) {
        auto outcome = std::move(*p->outcome);
        forget();
        lock.unlock();
        finish();
        if (!outcome.ok()) return error(method, outcome.error().message, outcome.error().kind);
        return outcome;
    }
    // Cancelled or out of time: stop waiting, and tell the server to stop
    // working (it must not answer a cancelled request, and we would drop it).
    forget();
    lock.unlock();
    finish();
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    if (cancellable) {
        std::string reason = cancelled ? "cancelled by the client" : "timed out after " + ms(waited);
        Json why = {{"requestId", id.to_json()}, {"reason", reason}};
        (void)transport_->send(make_notification("notifications/cancelled", why));
    }
    transport_->abandon(id);
    if (cancelled) return error(method, "cancelled after " + ms(waited));
    return error(method, "no answer within " + ms(waited) + (cancellable ? " (cancelled)" : ""));
}

Status Client::notify(const std::string& method, Json params) {
    {
        std::lock_guard lock(mu_);
        if (closed_) return error(method, "the client is closed");
        if (dead_) return error(method, dead_->message);
    }
    if (auto sent = transport_->send(make_notification(method, params)); !sent.ok())
        return error(method, sent.error().message, sent.error().kind);
    return {};
}

Result<std::vector<Json>> Client::list_tools(const RequestOptions& o) {
    std::vector<Json> tools;
    std::string cursor;
    for (size_t page = 0;; ++page) {
        if (page == kMaxPages)
            return error("tools/list", "more than " + std::to_string(kMaxPages) + " pages", ErrorKind::Failed);
        Json params = Json::object();
        if (!cursor.empty()) params["cursor"] = cursor;
        FRACTA_TRY_ASSIGN(answer, request("tools/list", std::move(params), o));
        if (answer.kind == Kind::Error)
            return error("tools/list", answer.error.message + " (" + std::to_string(answer.error.code) + ")",
                         ErrorKind::Failed);
        const Json& r = answer.result;
        if (!r.is_object() || !r.contains("tools") || !r["tools"].is_array())
            return error("tools/list", "the answer has no tools array", ErrorKind::Failed);
        for (const auto& t : r["tools"]) {
            if (!t.is_object() || !t.contains("name") || !t["name"].is_string())
                return error("tools/list", "a tool without a name", ErrorKind::Failed);
            tools.push_back(t);
        }
        if (!r.contains("nextCursor") || r["nextCursor"].is_null()) return tools;
        if (!r["nextCursor"].is_string()) return error("tools/list", "nextCursor is not a string", ErrorKind::Failed);
        std::string next = r["nextCursor"].get<std::string>();
        if (next == cursor) return error("tools/list", "the server repeats cursor " + next, ErrorKind::Failed);
        cursor = std::move(next);
    }
}

Result<Message> Client::call_tool(const std::string& name, const Json& arguments, const RequestOptions& o) {
    Json params = {{"name", name}};
    if (!arguments.is_null()) params["arguments"] = arguments;
    return request("tools/call", std::move(params), o);
}

Status Client::ping(std::chrono::milliseconds timeout) {
    RequestOptions o;
    o.timeout = timeout;
    FRACTA_TRY_ASSIGN(answer, request("ping", Json::object(), o));
    if (answer.kind == Kind::Error)
        return error("ping", answer.error.message + " (" + std::to_string(answer.error.code) + ")", ErrorKind::Failed);
    return {};
}

bool Client::alive() const {
    std::lock_guard lock(mu_);
    if (closed_ || dead_ || !connected_) return false;
    return transport_->alive();
}

void Client::close() {
    {
        std::lock_guard lock(mu_);
        if (closed_) return;
        closed_ = true;
    }
    transport_->close();  // no event arrives after this
    std::lock_guard lock(mu_);
    for (auto& [id, p] : pending_) {
        if (p->outcome) continue;
        p->outcome = Result<Message>(failure("the client is closed"));
        p->cv.notify_all();
    }
}

// --- what the server sends ------------------------------------------------------

void Client::on_message(Json message) {
    auto parsed = parse_message(message);
    if (!parsed.ok()) {
        if (options_.on_log) options_.on_log("dropped a malformed message: " + parsed.error().message);
        return;
    }
    Message& m = *parsed;
    if (m.is_response()) {
        std::lock_guard lock(mu_);
        auto it = pending_.find(m.id);
        if (it == pending_.end() || it->second->outcome) return;  // we gave up on it
        it->second->outcome = Result<Message>(std::move(m));
        it->second->cv.notify_all();  // the waiter removes its entries
        return;
    }
    if (m.is_request()) {
        answer_server_request(m);
        return;
    }
    if (m.method == "notifications/progress") {
        route_progress(m.params);
        return;
    }
    if (options_.on_notification) options_.on_notification(m.method, m.params);
}

void Client::route_progress(const Json& params) {
    if (!params.is_object() || !params.contains(kMetaProgressToken)) return;
    const Json& token = params[kMetaProgressToken];
    if (!token.is_string()) return;
    std::shared_ptr<Pending> p;
    {
        std::lock_guard lock(mu_);
        auto it = by_token_.find(token.get<std::string>());
        if (it == by_token_.end()) return;
        p = it->second;
        if (p->extend) {
            p->deadline = std::min(Clock::now() + p->timeout, p->hard_deadline);
            p->cv.notify_all();
        }
    }
    std::lock_guard callback(p->callback_mu);
    if (!p->finished && p->on_progress) p->on_progress(params);
}

// The server may ask us things. We offer no capabilities, so only ping has
// an answer; anything else is a method we do not have.
void Client::answer_server_request(const Message& m) {
    Json reply = m.method == "ping" ? make_result(m.id, Json::object())
                                    : make_error(m.id, kMethodNotFound, "method not found: " + m.method);
    (void)transport_->send(reply);
}

void Client::on_request_failed(const Id& id, Error why) {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end() || it->second->outcome) return;
    it->second->outcome = Result<Message>(std::move(why));
    it->second->cv.notify_all();
}

void Client::on_closed(Error why) {
    {
        std::lock_guard lock(mu_);
        if (closed_ || dead_) return;
        dead_ = why;
        for (auto& [id, p] : pending_) {
            if (p->outcome) continue;
            p->outcome = Result<Message>(why);
            p->cv.notify_all();
        }
    }
    if (options_.on_closed) options_.on_closed(Error{why.kind, name_ + ": " + why.message});
}

}  // namespace fracta::mcp
