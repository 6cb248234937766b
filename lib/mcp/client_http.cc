// client_http.cc — the streamable HTTP transport (see client_http.h).
#include "mcp/client_http.h"

#include <algorithm>
#include <cctype>

#include "base/text.h"

namespace fracta::mcp {
namespace {

constexpr int kMaxResumes = 3;         // a request's broken stream is picked up again this often
constexpr int kMaxListenFailures = 5;  // the GET stream gives up after this many failures in a row
constexpr auto kListenPause = std::chrono::milliseconds(1000);  // before reconnecting (doubling on failures)
constexpr auto kMaxListenPause = std::chrono::milliseconds(30000);
constexpr auto kDeleteLimit = std::chrono::milliseconds(5000);
constexpr size_t kMaxJsonBody = size_t{64} << 20;

bool is_event_stream(const http::ClientResponse& head) {
    return lower(head.header("content-type")).rfind("text/event-stream", 0) == 0;
}

// "HTTP 400: <the error message in a JSON-RPC body, or the body's start>".
std::string status_error(int status, const std::string& body) {
    std::string text = "HTTP " + std::to_string(status);
    auto parsed = parse_payload(body);
    if (parsed.ok() && parsed->is_object() && parsed->contains("error") && (*parsed)["error"].is_object() &&
        (*parsed)["error"].contains("message") && (*parsed)["error"]["message"].is_string())
        return text + ": " + (*parsed)["error"]["message"].get<std::string>();
    std::string start = body.substr(0, 200);
    std::replace(start.begin(), start.end(), '\n', ' ');
    return start.empty() ? text : text + ": " + start;
}

}  // namespace

struct HttpTransport::Call {
    Id id;
    std::string body;
    std::atomic<bool> abandoned{false}, done{false};
    std::thread thread;
};

HttpTransport::HttpTransport(HttpTransportOptions o, SplitUrl url)
    : o_(std::move(o)), url_(std::move(url)), link_(url_.origin, o_.headers, o_.connect_timeout) {}

HttpTransport::~HttpTransport() {
    close();
}

Status HttpTransport::open(TransportEvents events) {
    if (opened_) return usage_error("HTTP transport: already open");
    events_ = std::move(events);
    opened_ = true;
    return {};
}

bool HttpTransport::alive() const {
    return opened_ && !closing_ && !lost_;
}

std::string HttpTransport::session_id() const {
    std::lock_guard lock(mu_);
    return session_;
}

Headers HttpTransport::headers(bool post) const {
    Headers h;
    h.emplace_back("Accept", post ? "application/json, text/event-stream" : "text/event-stream");
    std::lock_guard lock(mu_);
    if (!session_.empty()) h.emplace_back("Mcp-Session-Id", session_);
    if (!version_.empty()) h.emplace_back("MCP-Protocol-Version", version_);
    return h;
}

void HttpTransport::note_session(const http::ClientResponse& head) {
    std::string id = head.header("mcp-session-id");
    if (id.empty()) return;
    std::lock_guard lock(mu_);
    if (session_.empty()) session_ = id;
}

void HttpTransport::lose_session(const std::string& why) {
    if (lost_.exchange(true)) return;
    if (!closing_ && events_.closed) events_.closed(temporary_error(why));
}

void HttpTransport::negotiated(const std::string& version) {
    std::lock_guard lock(mu_);
    version_ = version;
}

void HttpTransport::ready() {
    std::lock_guard lock(mu_);
    if (o_.listen && !listener_.joinable() && !closed_) listener_ = std::thread([this] { listen_loop(); });
}

void HttpTransport::reap_finished() {
    for (auto it = calls_.begin(); it != calls_.end();) {
        if ((*it)->done) {
            (*it)->thread.join();
            it = calls_.erase(it);
        } else {
            ++it;
        }
    }
}

Status HttpTransport::send(const Json& message) {
    if (!opened_ || closing_) return failure("the transport is closed");
    if (lost_) return temporary_error("the server ended the session");
    if (message.contains("method") && message.contains("id")) {
        auto call = std::make_shared<Call>();
        FRACTA_TRY_ASSIGN(id, Id::from_json(message["id"]));
        call->id = id;
        call->body = to_line(message);
        std::lock_guard lock(mu_);
        if (closed_) return failure("the transport is closed");
        reap_finished();
        calls_.push_back(call);
        call->thread = std::thread([this, call] {
            post_request(call);
            call->done = true;
        });
        return {};
    }
    // A notification or a response: the server takes it with 202.
    Exchange x;
    x.target = url_.target;
    x.body = to_line(message);
    bool had_session = !session_id().empty();
    x.headers = headers(true);
    x.limit = message.value("method", "") == "notifications/cancelled" ? std::min(o_.send_timeout, o_.cancel_timeout)
                                                                       : o_.send_timeout;
    x.cancelled = [this] { return closing_.load(); };
    x.on_head = [&](const http::ClientResponse& head) { note_session(head); };
    FRACTA_TRY_ASSIGN(r, link_.run(x));
    if (r.status == 404 && had_session) {
        lose_session("the server no longer knows our session (HTTP 404)");
        return temporary_error("the server ended the session (HTTP 404)");
    }
    if (r.status / 100 != 2) return failure(status_error(r.status, r.body));
    return {};
}

void HttpTransport::abandon(const Id& id) {
    std::lock_guard lock(mu_);
    for (auto& call : calls_)
        if (call->id == id) call->abandoned = true;
}

void HttpTransport::deliver(Json payload, const Id* answer_for, bool& answered) {
    auto one = [&](Json m) {
        if (answer_for && m.is_object() && m.contains("id") && !m.contains("method")) {
            auto id = Id::from_json(m["id"], true);
            if (id.ok() && *id == *answer_for) answered = true;
        }
        if (events_.message) events_.message(std::move(m));
    };
    if (payload.is_array()) {
        for (auto& m : payload) one(std::move(m));
    } else {
        one(std::move(payload));
    }
}

bool HttpTransport::read_events(http::SseReader& reader, std::string_view data, const Id* answer_for, bool& answered) {
    return reader.feed(data, [&](const http::SseEvent& e) {
        if (e.type != "message" || e.data.empty()) return true;  // priming events, other types
        auto parsed = parse_payload(e.data, kMaxJsonBody);
        if (!parsed.ok()) {
            if (events_.log) events_.log("dropped an event that is not JSON: " + parsed.error().message);
            return true;
        }
        deliver(std::move(*parsed), answer_for, answered);
        return !answered;  // the answer ends this request's stream
    });
}

void HttpTransport::post_request(const std::shared_ptr<Call>& call) {
    auto stopped = [&] { return closing_.load() || call->abandoned.load(); };
    auto fail = [&](Error why) {
        if (!stopped() && events_.request_failed) events_.request_failed(call->id, std::move(why));
    };
    http::SseReader reader;
    bool answered = false, sse = false;
    int status = 0;
    std::string body;
    Exchange x;
    x.target = url_.target;
    x.body = call->body;
    bool had_session = !session_id().empty();
    x.headers = headers(true);
    x.cancelled = stopped;
    x.on_head = [&](const http::ClientResponse& head) {
        status = head.status;
        sse = status / 100 == 2 && is_event_stream(head);
        note_session(head);
    };
    x.on_data = [&](std::string_view data) {
        if (sse) return read_events(reader, data, &call->id, answered);
        if (body.size() + data.size() > kMaxJsonBody) return false;
        body.append(data);
        return true;
    };
    auto r = link_.run(x);
    for (int resumes = 0;; ++resumes) {
        if (stopped()) return;
        if (!r.ok()) return fail(std::move(r).take_error());
        if (status == 404 && had_session) {
            lose_session("the server no longer knows our session (HTTP 404)");
            return;
        }
        if (status / 100 != 2) {
            // The error may be a JSON-RPC answer to this very request.
            auto parsed = parse_payload(body, kMaxJsonBody);
            if (parsed.ok()) deliver(std::move(*parsed), &call->id, answered);
            if (!answered) fail(failure(status_error(status, body)));
            return;
        }
        if (status == 202) return;  // the answer will come on the GET stream
        if (!sse) {
            auto parsed = parse_payload(body, kMaxJsonBody);
            if (!parsed.ok()) return fail(failure("the server's answer is not JSON: " + parsed.error().message));
            deliver(std::move(*parsed), &call->id, answered);
            if (!answered) fail(failure("the server's answer is for another request"));
            return;
        }
        if (answered) return;
        // The stream broke off before the answer: pick it up where it ended.
        if (reader.last_event_id().empty() || resumes == kMaxResumes)
            return fail(temporary_error("the server's event stream ended before the answer"));
        {
            std::unique_lock lock(mu_);
            auto pause = std::chrono::milliseconds(reader.retry().value_or(0));
            cv_.wait_for(lock, std::min(pause, kMaxListenPause), [&] { return stopped(); });
        }
        reader.restart();
        Exchange resume;
        resume.method = "GET";
        resume.target = url_.target;
        resume.headers = headers(false);
        resume.headers.emplace_back("Last-Event-ID", reader.last_event_id());
        resume.cancelled = stopped;
        resume.on_head = x.on_head;
        resume.on_data = x.on_data;
        status = 0;
        body.clear();
        r = link_.run(resume);
    }
}

void HttpTransport::listen_loop() {
    http::SseReader reader;
    bool ignored = false;
    int failures = 0;
    while (!closing_ && !lost_) {
        int status = 0;
        bool sse = false;
        Exchange x;
        x.method = "GET";
        x.target = url_.target;
        bool had_session = !session_id().empty();
        x.headers = headers(false);
        if (!reader.last_event_id().empty()) x.headers.emplace_back("Last-Event-ID", reader.last_event_id());
        x.cancelled = [this] { return closing_.load(); };
        x.on_head = [&](const http::ClientResponse& head) {
            status = head.status;
            sse = status == 200 && is_event_stream(head);
        };
        x.on_data = [&](std::string_view data) { return sse && read_events(reader, data, nullptr, ignored); };
        auto r = link_.run(x);
        if (closing_) return;
        if (r.ok() && status == 404 && had_session)
            return lose_session("the server no longer knows our session (HTTP 404)");
        if (r.ok() && status / 100 == 4) return;  // 405: the server offers no such stream
        failures = r.ok() && sse ? 0 : failures + 1;
        if (failures == kMaxListenFailures) {
            if (events_.log)
                events_.log("stopped listening for server messages: " +
                            (r.ok() ? "HTTP " + std::to_string(status) : r.error().message));
            return;
        }
        auto pause = reader.retry() ? std::chrono::milliseconds(*reader.retry()) : kListenPause * (1 << failures);
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::min(pause, kMaxListenPause), [&] { return closing_.load(); });
        lock.unlock();
        reader.restart();
    }
}

void HttpTransport::close() {
    std::list<std::shared_ptr<Call>> calls;
    {
        std::lock_guard lock(mu_);
        if (closed_) return;
        closed_ = true;
        closing_ = true;
        calls.swap(calls_);
    }
    cv_.notify_all();
    if (listener_.joinable()) listener_.join();
    for (auto& call : calls) call->thread.join();
    if (!opened_ || lost_) return;
    std::string session = session_id();
    if (session.empty()) return;
    Exchange x;
    x.method = "DELETE";
    x.target = url_.target;
    x.headers = headers(false);
    x.limit = std::min(o_.send_timeout, std::chrono::milliseconds(kDeleteLimit));
    (void)link_.run(x);  // 405 and failures alike: we are done with it
}

}  // namespace fracta::mcp
