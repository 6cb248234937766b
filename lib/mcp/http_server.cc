// http_server.cc — the MCP HTTP endpoint (see http_server.h): request
// validation per era, the legacy session table, SSE streams and the worker
// threads behind streamed answers.
#include "mcp/http_server.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/sha256.h"
#include "base/text.h"
#include "http/peer.h"
#include "http/sse.h"

namespace fracta::mcp {

namespace {

using Clock = std::chrono::steady_clock;

// --- small HTTP helpers ---------------------------------------------------------------

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t");
    return s.substr(b, e - b + 1);
}

// The media types an Accept or Content-Type header lists, lower-cased,
// parameters dropped.
std::vector<std::string> media_types(const std::string& header) {
    std::vector<std::string> out;
    for (std::string item : split(header, ',')) {
        item = lower(trim(item.substr(0, item.find(';'))));
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

bool accepts(const std::string& accept, const std::string& type) {
    std::string family = type.substr(0, type.find('/')) + "/*";
    for (const auto& t : media_types(accept))
        if (t == type || t == family || t == "*/*") return true;
    return false;
}

bool is_json_content(const std::string& content_type) {
    auto types = media_types(content_type);
    return types.size() == 1 && types[0] == "application/json";
}

http::Response rpc_status(int status, const Json& body) {
    return http::Response::json(status, body);
}

http::Response rpc_reject(int status, int code, const std::string& message, const Json& data = nullptr) {
    return rpc_status(status, make_error(Id(), code, message, data));
}

http::Response empty(int status) {
    http::Response r;
    r.status = status;
    r.content_type.clear();
    return r;
}

http::Response not_allowed(const std::string& allow) {
    http::Response r = rpc_reject(405, kConnectionClosed, "Method Not Allowed");
    r.headers.emplace_back("Allow", allow);
    return r;
}

std::string sse_frame(const Json& message) {
    return http::sse_frame("message", to_line(message));
}

// "=?base64?…?=" header values (non-ASCII or space-padded ones) decoded;
// anything else as it is. A malformed encoding stays as sent (and mismatches).
std::string decode_header_value(const std::string& v) {
    static const std::string prefix = "=?base64?", suffix = "?=";
    if (v.size() < prefix.size() + suffix.size() || v.compare(0, prefix.size(), prefix) != 0 ||
        v.compare(v.size() - suffix.size(), suffix.size(), suffix) != 0)
        return v;
    std::string in = v.substr(prefix.size(), v.size() - prefix.size() - suffix.size());
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : in) {
        int d;
        if (c >= 'A' && c <= 'Z')
            d = c - 'A';
        else if (c >= 'a' && c <= 'z')
            d = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            d = c - '0' + 52;
        else if (c == '+' || c == '-')
            d = 62;
        else if (c == '/' || c == '_')
            d = 63;
        else if (c == '=')
            break;
        else
            return v;
        acc = (acc << 6) | static_cast<unsigned>(d);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    return out;
}

// --- streams ----------------------------------------------------------------------------

// The frames waiting for one SSE response, filled by whoever produces them
// and drained by the http::Server's stream callback.
struct Channel {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> frames;
    size_t max_frames = 1024;
    bool ended = false;   // the producer is done: end the body once drained
    bool closed = false;  // the response is gone (client left, or it ended)

    // False when nobody will read it any more.
    bool push(std::string frame) {
        std::lock_guard lock(mu);
        if (closed || ended) return false;
        if (frames.size() < max_frames) frames.push_back(std::move(frame));
        cv.notify_all();
        return true;
    }
    void end() {
        std::lock_guard lock(mu);
        ended = true;
        cv.notify_all();
    }
    bool open() {
        std::lock_guard lock(mu);
        return !closed && !ended;
    }
};

// Runs `on_close` once: when the client is seen to have left, or else when
// the last copy of the stream callback is gone (the http::Server frees it
// when the response ends or the client leaves).
struct CloseGuard {
    CloseGuard(std::shared_ptr<Channel> c, std::function<void()> f) : ch(std::move(c)), on_close(std::move(f)) {}
    CloseGuard(const CloseGuard&) = delete;
    CloseGuard& operator=(const CloseGuard&) = delete;

    std::shared_ptr<Channel> ch;
    std::function<void()> on_close;
    std::once_flag once;
    void fire() {
        std::call_once(once, [this] {
            {
                std::lock_guard lock(ch->mu);
                ch->closed = true;
            }
            if (on_close) on_close();
        });
    }
    ~CloseGuard() { fire(); }
};

// How often a waiting response looks whether its client is still there
// (http::Request::peer_gone): the delay before a gone client's call is
// cancelled.
constexpr std::chrono::milliseconds kPeerPoll{200};

http::Response sse_response(std::shared_ptr<Channel> ch, std::chrono::milliseconds heartbeat,
                            std::function<void()> on_close, std::string first = "",
                            std::function<bool()> peer_gone = {}) {
    auto guard = std::make_shared<CloseGuard>(ch, std::move(on_close));
    auto next = [ch, guard, heartbeat, peer_gone = std::move(peer_gone),
                 first = std::move(first)](std::string& chunk) mutable -> bool {
        if (!first.empty()) {
            chunk = std::move(first);
            first.clear();
            return true;
        }
        const auto ping_at = Clock::now() + heartbeat;
        std::unique_lock lock(ch->mu);
        for (;;) {
            auto until = peer_gone ? std::min(ping_at, Clock::now() + kPeerPoll) : ping_at;
            if (ch->cv.wait_until(lock, until, [&] { return !ch->frames.empty() || ch->ended; })) break;
            if (peer_gone) {
                lock.unlock();
                bool gone = peer_gone();
                if (gone) guard->fire();  // now, not whenever the server frees this callback
                lock.lock();
                if (gone) return false;
            }
            if (Clock::now() >= ping_at) {
                chunk = ": ping\n\n";
                return true;
            }
        }
        while (!ch->frames.empty()) {
            chunk += ch->frames.front();
            ch->frames.pop_front();
        }
        return !ch->ended;
    };
    http::Response r = http::Response::stream(std::move(next));
    r.headers.emplace_back("X-Accel-Buffering", "no");
    return r;
}

}  // namespace

// --- the endpoint -----------------------------------------------------------------------

struct HttpEndpoint::Impl : std::enable_shared_from_this<HttpEndpoint::Impl> {
    struct HttpSession {
        Session core;
        std::string scope;
        bool sse_transport = false;       // made by GET /sse: lives as long as its stream
        std::shared_ptr<Channel> stream;  // the open GET / SSE stream, if any (under Impl::mu)
        Clock::time_point last_used;
        std::list<std::string>::iterator lru;

        explicit HttpSession(std::string id) : core(std::move(id)) {}
    };

    Impl(Server& s, HttpEndpointOptions o) : server(s), opts(o), workers(o.max_workers) {}

    Server& server;
    HttpEndpointOptions opts;
    CallThreads workers;
    mutable std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<HttpSession>> sessions;
    std::list<std::string> lru;  // most recently used first

    // -- session table --

    void drop_locked(const std::string& id) {
        auto it = sessions.find(id);
        if (it == sessions.end()) return;
        auto s = it->second;
        lru.erase(s->lru);
        sessions.erase(it);
        s->core.cancel_all();
        if (s->stream) s->stream->end();
    }

    Result<std::shared_ptr<HttpSession>> create(const std::string& scope, bool sse_transport) {
        FRACTA_TRY_ASSIGN(id, random_token_hex(16));
        auto s = std::make_shared<HttpSession>(id);
        s->scope = scope;
        s->sse_transport = sse_transport;
        std::lock_guard lock(mu);
        auto now = Clock::now();
        // Expire idle sessions from the cold end (those with a stream open
        // are in use however long ago they were touched), then make room.
        for (auto it = lru.end(); it != lru.begin();) {
            --it;
            auto& cold = sessions.at(*it);
            if (now - cold->last_used < opts.session_idle) break;
            if (cold->stream && cold->stream->open()) continue;
            auto dead = *it;
            it = std::next(it);
            drop_locked(dead);
        }
        while (!lru.empty() && sessions.size() >= std::max<size_t>(1, opts.max_sessions)) drop_locked(lru.back());
        lru.push_front(id);
        s->lru = lru.begin();
        s->last_used = now;
        sessions.emplace(id, s);
        return s;
    }

    std::shared_ptr<HttpSession> find(const std::string& id, const std::string& scope, bool sse_transport) {
        std::lock_guard lock(mu);
        auto it = sessions.find(id);
        if (it == sessions.end()) return nullptr;
        auto s = it->second;
        if (s->scope != scope || s->sse_transport != sse_transport) return nullptr;
        lru.splice(lru.begin(), lru, s->lru);
        s->last_used = Clock::now();
        return s;
    }

    void drop(const std::string& id) {
        std::lock_guard lock(mu);
        drop_locked(id);
    }

    // -- streams --

    std::mutex streams_mu;
    std::unordered_map<Channel*, std::weak_ptr<Channel>> streams;  // every SSE response still open

    http::Response open_stream(std::shared_ptr<Channel> ch, std::function<void()> on_close, std::string first = "",
                               std::function<bool()> peer_gone = {}) {
        ch->max_frames = opts.max_queued_frames;
        {
            std::lock_guard lock(streams_mu);
            streams[ch.get()] = ch;
        }
        std::weak_ptr<Impl> weak = shared_from_this();
        Channel* key = ch.get();
        auto closed = [weak, key, on_close = std::move(on_close)] {
            if (auto self = weak.lock()) {
                std::lock_guard lock(self->streams_mu);
                self->streams.erase(key);
            }
            if (on_close) on_close();
        };
        return sse_response(std::move(ch), opts.heartbeat, std::move(closed), std::move(first), std::move(peer_gone));
    }

    // -- running messages --

    std::optional<Json> run(Session& session, const Message& m, const Binding& b, const Emit& emit = {}) {
        return b.tools ? server.handle(session, m, *b.tools, emit) : server.handle(session, m, emit);
    }

    // Answer one request as an SSE stream, the call running on a worker:
    // its notifications, then its response, then the end of the body. With
    // `close_cancels` (a stateless request, whose stream is its only link to
    // the client) a client that leaves cancels the call.
    http::Response stream_reply(std::shared_ptr<Session> session, Message m, const Binding& b, bool close_cancels,
                                std::function<bool()> peer_gone = {}) {
        auto ch = std::make_shared<Channel>();
        auto self = shared_from_this();
        Binding binding = b;
        std::function<void()> on_close;
        if (close_cancels) on_close = [session] { session->cancel_all(); };
        http::Response r = open_stream(ch, std::move(on_close), "", close_cancels ? std::move(peer_gone) : nullptr);
        workers.run([self, session, m = std::move(m), binding, ch] {
            auto reply = self->run(*session, m, binding, [&ch](const Json& n) { ch->push(sse_frame(n)); });
            if (reply) ch->push(sse_frame(*reply));
            ch->end();
        });
        return r;
    }

    // Answer one stateless request with one JSON body, the call running on a
    // worker while this thread watches the client: one that leaves (closing
    // the connection is how a 2026-07-28 client cancels) cancels the call.
    http::Response watched_reply(std::shared_ptr<Session> session, Message m, const Binding& b,
                                 const std::function<bool()>& peer_gone) {
        struct Outcome {
            std::mutex mu;
            std::condition_variable cv;
            bool done = false;
            std::optional<Json> reply;
        };
        auto out = std::make_shared<Outcome>();
        auto self = shared_from_this();
        workers.run([self, session, m = std::move(m), binding = b, out] {
            auto reply = self->run(*session, m, binding);
            std::lock_guard lock(out->mu);
            out->reply = std::move(reply);
            out->done = true;
            out->cv.notify_all();
        });
        std::unique_lock lock(out->mu);
        while (!out->cv.wait_for(lock, kPeerPoll, [&] { return out->done; })) {
            if (!peer_gone || !peer_gone()) continue;
            session->cancel_all();
            return rpc_reject(499, kRequestTimeout, "Client Closed Request: the call was cancelled");
        }
        if (!out->reply) return empty(202);
        return rpc_status(modern_status(*out->reply), *out->reply);
    }

    // 2026-07-28 answers a method it does not have with 404.
    static int modern_status(const Json& reply) {
        return reply.contains("error") && reply["error"].value("code", 0) == kMethodNotFound ? 404 : 200;
    }

    // -- streamable HTTP --

    http::Response post(const http::Request& r, const Binding& b);
    http::Response post_modern(const http::Request& r, const Binding& b, const Message& m);
    http::Response post_legacy(const http::Request& r, const Binding& b, const Json& payload);
    http::Response get(const http::Request& r, const Binding& b);
    http::Response del(const http::Request& r, const Binding& b);
};

namespace {

// An MCP-Protocol-Version header, when sent, must name a revision we know.
bool protocol_header_ok(const http::Request& r) {
    std::string v = r.header(kHeaderProtocolVersion);
    return v.empty() || is_legacy_version(v) || is_modern_version(v);
}

}  // namespace

http::Response HttpEndpoint::Impl::post(const http::Request& r, const Binding& b) {
    std::string accept = r.header("accept");
    if (!accepts(accept, "application/json") || !accepts(accept, "text/event-stream"))
        return rpc_reject(406, kConnectionClosed,
                          "Not Acceptable: the client must accept both application/json and text/event-stream");
    if (!is_json_content(r.header("content-type")))
        return rpc_reject(415, kConnectionClosed, "Unsupported Media Type: the body must be application/json");
    if (r.body.size() > opts.max_body)
        return rpc_reject(413, kInvalidRequest,
                          "Payload Too Large: the body exceeds " + std::to_string(opts.max_body) + " bytes");
    auto payload = parse_payload(r.body, opts.max_body);
    if (!payload) return rpc_reject(400, kParseError, "Parse error: " + payload.error().message);
    if (payload->is_array()) {
        // Only a 2025-03-26 session takes batches; initialize is never batched,
        // so a batch without a session, or under a later revision, is refused.
        std::string header_version = r.header(kHeaderProtocolVersion);
        if (r.header(kHeaderSessionId).empty())
            return rpc_reject(400, kInvalidRequest,
                              "Invalid Request: batches are only accepted in a 2025-03-26 session");
        if (!header_version.empty() && !batch_allowed(header_version))
            return rpc_reject(400, kInvalidRequest,
                              "Invalid Request: batches are not supported in protocol " + header_version);
    }
    if (!payload->is_object() && !payload->is_array())
        return rpc_reject(400, kInvalidRequest, "Invalid Request: a message must be a JSON object");
    if (payload->is_object()) {
        auto m = parse_message(*payload);
        if (!m)
            return rpc_status(
                400, make_error(id_for_error(*payload), kInvalidRequest, "Invalid Request: " + m.error().message));
        if (Server::is_modern(*m)) return post_modern(r, b, *m);
    }
    return post_legacy(r, b, *payload);
}

http::Response HttpEndpoint::Impl::post_modern(const http::Request& r, const Binding& b, const Message& m) {
    auto session = std::make_shared<Session>();
    if (!m.is_request()) {
        run(*session, m, b);
        return empty(202);
    }
    if (auto bad = server.check_modern(m)) return rpc_status(400, make_error(m.id, bad->code, bad->message, bad->data));

    // The headers must say what the body says.
    auto mismatch = [&](const std::string& header, const std::string& expected) -> std::optional<http::Response> {
        std::string key = lower(header);
        auto it = r.headers.find(key);
        if (it != r.headers.end() && decode_header_value(it->second) == expected) return std::nullopt;
        Json data = {{"header", header}, {"expected", expected}};
        if (it != r.headers.end()) data["received"] = it->second;
        std::string why =
            it == r.headers.end() ? "missing header " + header : "header " + header + " does not match the body";
        return rpc_status(400, make_error(m.id, kHeaderMismatch, why, data));
    };
    if (auto bad = mismatch("MCP-Protocol-Version", Server::modern_version(m))) return *bad;
    if (auto bad = mismatch("Mcp-Method", m.method)) return *bad;
    if (m.method == "tools/call" || m.method == "prompts/get" || m.method == "resources/read") {
        const char* key = m.method == "resources/read" ? "uri" : "name";
        auto it = m.params.find(key);
        std::string name = it != m.params.end() && it->is_string() ? it->get<std::string>() : "";
        if (auto bad = mismatch("Mcp-Name", name)) return *bad;
    }

    if (!progress_token(m).is_null()) return stream_reply(session, m, b, /*close_cancels=*/true, http::peer_watch());
    if (m.method == "tools/call") return watched_reply(session, m, b, http::peer_watch());
    auto reply = run(*session, m, b);
    if (!reply) return empty(202);
    return rpc_status(modern_status(*reply), *reply);
}

http::Response HttpEndpoint::Impl::post_legacy(const http::Request& r, const Binding& b, const Json& payload) {
    // initialize opens a session (whatever session id came with it).
    if (payload.is_object() && payload.value("method", "") == "initialize" && payload.contains("id")) {
        auto m = parse_message(payload);  // valid: post() checked
        auto created = create(b.scope, false);
        if (!created) return rpc_reject(500, kInternalError, "cannot create a session: " + created.error().message);
        auto s = *created;
        auto reply = run(s->core, *m, b);
        if (!reply || reply->contains("error") || !s->core.initialized()) {
            drop(s->core.id());
            return reply ? rpc_status(200, *reply) : empty(202);
        }
        http::Response resp = rpc_status(200, *reply);
        resp.headers.emplace_back("Mcp-Session-Id", s->core.id());
        return resp;
    }

    std::string sid = r.header(kHeaderSessionId);
    if (sid.empty()) return rpc_reject(400, kConnectionClosed, "Bad Request: Mcp-Session-Id header is required");
    auto s = find(sid, b.scope, false);
    if (!s) return rpc_reject(404, kRequestTimeout, "Session not found");
    if (!protocol_header_ok(r))
        return rpc_reject(400, kConnectionClosed,
                          "Bad Request: unsupported protocol version " + r.header(kHeaderProtocolVersion));

    std::vector<Message> messages;
    std::vector<Json> replies;
    bool batch = payload.is_array();
    if (batch) {
        auto members = batch_members(payload, s->core.protocol_version());
        if (!members) return rpc_reject(400, kInvalidRequest, "Invalid Request: " + members.error().message);
        for (const auto& member : *members) {
            auto m = parse_message(member);
            if (!m) {
                replies.push_back(
                    make_error(id_for_error(member), kInvalidRequest, "Invalid Request: " + m.error().message));
            } else if (m->method == "initialize") {
                replies.push_back(
                    make_error(m->id, kInvalidRequest, "Invalid Request: initialize must not be batched"));
            } else {
                messages.push_back(std::move(m).value());
            }
        }
    } else {
        messages.push_back(parse_message(payload).value());
    }

    std::vector<Message> requests;
    for (auto& m : messages) {
        if (m.is_request())
            requests.push_back(std::move(m));
        else
            run(s->core, m, b);
    }
    if (!batch && requests.size() == 1 && !progress_token(requests[0]).is_null())
        return stream_reply(std::shared_ptr<Session>(s, &s->core), std::move(requests[0]), b, /*close_cancels=*/false);
    for (const auto& m : requests)
        if (auto reply = run(s->core, m, b)) replies.push_back(std::move(*reply));
    if (replies.empty()) return empty(202);
    if (!batch) return rpc_status(200, replies[0]);
    bool all_invalid = requests.empty() && messages.empty();
    return rpc_status(all_invalid ? 400 : 200, Json(replies));
}

http::Response HttpEndpoint::Impl::get(const http::Request& r, const Binding& b) {
    std::string sid = r.header(kHeaderSessionId);
    if (sid.empty()) return not_allowed("POST");  // modern clients, and legacy ones before a session
    if (!accepts(r.header("accept"), "text/event-stream"))
        return rpc_reject(406, kConnectionClosed, "Not Acceptable: the client must accept text/event-stream");
    auto s = find(sid, b.scope, false);
    if (!s) return rpc_reject(404, kRequestTimeout, "Session not found");
    if (!protocol_header_ok(r))
        return rpc_reject(400, kConnectionClosed,
                          "Bad Request: unsupported protocol version " + r.header(kHeaderProtocolVersion));
    auto ch = std::make_shared<Channel>();
    {
        std::lock_guard lock(mu);
        if (s->stream && s->stream->open())
            return rpc_reject(409, kConnectionClosed, "Conflict: only one GET stream is allowed per session");
        s->stream = ch;
    }
    std::weak_ptr<Impl> weak = shared_from_this();
    std::weak_ptr<HttpSession> ws = s;
    auto on_close = [weak, ws, ch] {
        auto self = weak.lock();
        auto session = ws.lock();
        if (!self || !session) return;
        std::lock_guard lock(self->mu);
        if (session->stream == ch) session->stream.reset();
    };
    // A comment first, so the client sees the stream open at once.
    return open_stream(ch, on_close, ": stream open\n\n");
}

http::Response HttpEndpoint::Impl::del(const http::Request& r, const Binding& b) {
    std::string sid = r.header(kHeaderSessionId);
    if (sid.empty()) return not_allowed("POST");
    auto s = find(sid, b.scope, false);
    if (!s) return rpc_reject(404, kRequestTimeout, "Session not found");
    drop(sid);
    return empty(200);
}

// --- HttpEndpoint -------------------------------------------------------------------------

HttpEndpoint::HttpEndpoint(Server& server, HttpEndpointOptions options)
    : impl_(std::make_shared<Impl>(server, options)) {}

HttpEndpoint::~HttpEndpoint() {
    {
        std::lock_guard lock(impl_->mu);
        for (auto& [id, s] : impl_->sessions) {
            s->core.cancel_all();
            if (s->stream) s->stream->end();
        }
    }
    impl_->workers.wait_idle();
}

http::Response HttpEndpoint::handle(const http::Request& r, const Binding& b) {
    if (r.method == "POST") return impl_->post(r, b);
    if (r.method == "GET") return impl_->get(r, b);
    if (r.method == "DELETE") return impl_->del(r, b);
    return not_allowed("GET, POST, DELETE");
}

http::Response HttpEndpoint::handle_sse(const http::Request& r, const Binding& b, const std::string& messages_path) {
    if (r.method != "GET") return not_allowed("GET");
    auto created = impl_->create(b.scope, true);
    if (!created) return rpc_reject(500, kInternalError, "cannot create a session: " + created.error().message);
    auto s = *created;
    auto ch = std::make_shared<Channel>();
    {
        std::lock_guard lock(impl_->mu);
        s->stream = ch;
    }
    std::weak_ptr<Impl> weak = impl_;
    std::string id = s->core.id();
    auto on_close = [weak, id] {
        if (auto self = weak.lock()) self->drop(id);
    };
    std::string sep = messages_path.find('?') == std::string::npos ? "?" : "&";
    std::string first = http::sse_frame("endpoint", messages_path + sep + "sessionId=" + id);
    return impl_->open_stream(ch, on_close, first);
}

http::Response HttpEndpoint::handle_messages(const http::Request& r, const Binding& b) {
    if (r.method != "POST") return not_allowed("POST");
    std::string sid = r.query_param("sessionId");
    if (sid.empty()) return rpc_reject(400, kConnectionClosed, "Bad Request: sessionId is required");
    auto s = impl_->find(sid, b.scope, true);
    std::shared_ptr<Channel> ch;
    if (s) {
        std::lock_guard lock(impl_->mu);
        ch = s->stream;
    }
    if (!s || !ch || !ch->open()) return rpc_reject(404, kRequestTimeout, "Session not found");
    if (!is_json_content(r.header("content-type")))
        return rpc_reject(415, kConnectionClosed, "Unsupported Media Type: the body must be application/json");

    Incoming in = decode_payload(r.body, s->core.protocol_version(), impl_->opts.max_body);
    if (in.parse_error || (in.messages.empty() && !in.errors.empty()))
        return rpc_status(400, in.batch && !in.parse_error ? Json(in.errors) : in.errors[0]);
    for (const auto& e : in.errors) ch->push(sse_frame(e));

    auto self = impl_;
    std::shared_ptr<Session> session(s, &s->core);
    for (auto& m : in.messages) {
        if (m.is_request() && m.method == "tools/call") {
            Binding binding = b;
            self->workers.run([self, session, ch, binding, m = std::move(m)] {
                auto emit = [&ch](const Json& n) { ch->push(sse_frame(n)); };
                if (auto reply = self->run(*session, m, binding, emit)) ch->push(sse_frame(*reply));
            });
        } else if (auto reply = impl_->run(*session, m, b, [&ch](const Json& n) { ch->push(sse_frame(n)); })) {
            ch->push(sse_frame(*reply));
        }
    }
    return http::Response::text(202, "Accepted");
}

size_t HttpEndpoint::notify_tools_changed(const std::string& scope) {
    if (!impl_->server.config().tools_list_changed) return 0;
    std::vector<std::shared_ptr<Channel>> targets;
    {
        std::lock_guard lock(impl_->mu);
        for (auto& [id, s] : impl_->sessions)
            if ((scope.empty() || s->scope == scope) && s->stream && s->core.initialized())
                targets.push_back(s->stream);
    }
    size_t n = 0;
    std::string frame = sse_frame(Server::tools_list_changed());
    for (auto& ch : targets)
        if (ch->push(frame)) n++;
    return n;
}

void HttpEndpoint::close_streams() {
    std::vector<std::shared_ptr<Channel>> open;
    {
        std::lock_guard lock(impl_->streams_mu);
        for (auto& [key, weak] : impl_->streams)
            if (auto ch = weak.lock()) open.push_back(std::move(ch));
    }
    for (auto& ch : open) ch->end();
}

size_t HttpEndpoint::session_count() const {
    std::lock_guard lock(impl_->mu);
    return impl_->sessions.size();
}

}  // namespace fracta::mcp
