// client_sse.cc — the legacy HTTP+SSE transport (see client_sse.h).
#include "mcp/client_sse.h"

#include <algorithm>

#include "base/text.h"

namespace fracta::mcp {
namespace {

constexpr size_t kMaxMessage = size_t{64} << 20;

}  // namespace

SseTransport::SseTransport(SseTransportOptions o, SplitUrl url)
    : o_(std::move(o)), url_(std::move(url)), link_(url_.origin, o_.headers, o_.connect_timeout) {}

SseTransport::~SseTransport() {
    close();
}

std::string SseTransport::endpoint() const {
    std::lock_guard lock(mu_);
    return endpoint_;
}

bool SseTransport::alive() const {
    std::lock_guard lock(mu_);
    return opened_ && !closing_ && !ended_ && !endpoint_.empty();
}

Status SseTransport::open(TransportEvents events) {
    if (opened_.exchange(true)) return usage_error("SSE transport: already open");
    events_ = std::move(events);
    stream_ = std::thread([this] { stream_loop(); });
    std::unique_lock lock(mu_);
    bool ready = cv_.wait_for(lock, o_.endpoint_timeout, [&] { return !endpoint_.empty() || ended_; });
    if (!endpoint_.empty()) return {};
    std::string why =
        ended_ ? end_reason_
               : "GET " + o_.url + ": no endpoint event within " + std::to_string(o_.endpoint_timeout.count()) + " ms";
    (void)ready;
    lock.unlock();
    close();
    return temporary_error(why);
}

bool SseTransport::on_event(const http::SseEvent& e) {
    if (e.type == "endpoint") {
        auto target = resolve_target(url_, e.data);
        std::lock_guard lock(mu_);
        if (!endpoint_.empty()) return true;  // only the first counts
        if (!target.ok()) {
            end_reason_ = "GET " + o_.url + ": bad endpoint event: " + target.error().message;
            return false;
        }
        endpoint_ = *target;
        cv_.notify_all();
        return true;
    }
    if (e.type != "message" || e.data.empty()) return true;
    auto parsed = parse_payload(e.data, kMaxMessage);
    if (!parsed.ok()) {
        if (events_.log) events_.log("dropped an event that is not JSON: " + parsed.error().message);
        return true;
    }
    if (parsed->is_array()) {
        for (auto& m : *parsed) events_.message(std::move(m));
    } else {
        events_.message(std::move(*parsed));
    }
    return true;
}

void SseTransport::stream_loop() {
    http::SseReader reader(kMaxMessage);
    int status = 0;
    bool sse = false;
    Exchange x;
    x.method = "GET";
    x.target = url_.target;
    x.headers = {{"Accept", "text/event-stream"}};
    x.cancelled = [this] { return closing_.load(); };
    x.on_head = [&](const http::ClientResponse& head) {
        status = head.status;
        sse = status == 200 && lower(head.header("content-type")).rfind("text/event-stream", 0) == 0;
    };
    x.on_data = [&](std::string_view data) {
        return sse && reader.feed(data, [this](const http::SseEvent& e) { return on_event(e); });
    };
    auto r = link_.run(x);
    bool had_endpoint;
    std::string why;
    {
        std::lock_guard lock(mu_);
        had_endpoint = !endpoint_.empty();
        if (!end_reason_.empty())
            why = end_reason_;
        else if (!r.ok())
            why = r.error().message;
        else if (status != 200)
            why = "GET " + o_.url + ": HTTP " + std::to_string(status);
        else if (!sse)
            why = "GET " + o_.url + ": the answer is not an event stream";
        else
            why = "GET " + o_.url + ": the server ended the event stream";
        end_reason_ = why;
        ended_ = true;
        cv_.notify_all();
    }
    if (!closing_ && had_endpoint && events_.closed) events_.closed(temporary_error(why));
}

Status SseTransport::send(const Json& message) {
    if (!opened_ || closing_) return failure("the transport is closed");
    std::string target;
    {
        std::lock_guard lock(mu_);
        if (ended_) return temporary_error(end_reason_);
        target = endpoint_;
    }
    if (target.empty()) return failure("not connected yet (no endpoint)");
    Exchange x;
    x.target = target;
    x.body = to_line(message);
    x.limit = message.value("method", "") == "notifications/cancelled" ? std::min(o_.send_timeout, o_.cancel_timeout)
                                                                       : o_.send_timeout;
    x.cancelled = [this] { return closing_.load(); };
    FRACTA_TRY_ASSIGN(r, link_.run(x));
    if (r.status / 100 != 2) {
        std::string start = r.body.substr(0, 200);
        std::replace(start.begin(), start.end(), '\n', ' ');
        return failure("POST " + link_.origin() + target + ": HTTP " + std::to_string(r.status) +
                       (start.empty() ? "" : ": " + start));
    }
    return {};
}

void SseTransport::close() {
    {
        std::lock_guard lock(mu_);
        if (closed_) return;
        closed_ = true;
    }
    closing_ = true;
    if (stream_.joinable()) stream_.join();
}

}  // namespace fracta::mcp
