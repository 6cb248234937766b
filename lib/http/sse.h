// sse.h — text/event-stream (the WHATWG Server-Sent Events format), both
// ways: sse_frame() writes one event (the control plane's watch route, the
// MCP server's streams); SseReader reads a stream as it arrives in arbitrary
// pieces (`fracta watch`, the control-plane client, both MCP HTTP
// transports). Lines end in LF, CR or CRLF (even split across pieces);
// `:` lines are comments; `data` lines join with '\n'; an event is dispatched
// at a blank line, and one without data only moves the last event id (the
// "priming" events of resumable streams).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace fracta::http {

struct SseEvent {
    std::string type = "message";  // the `event` field, "message" when absent
    std::string data;
    std::string id;             // the last event id in force at this event
    std::optional<long> retry;  // a `retry` field in this event, in ms
};

// One event on the wire: `id:` (when given), `event:`, one `data:` line per
// line of `data`, and the blank line that ends it.
std::string sse_frame(std::string_view event, std::string_view data, std::string_view id = {});

class SseReader {
public:
    using Sink = std::function<bool(const SseEvent&)>;  // false: stop reading

    // Events over this size are dropped whole (and counted in dropped()).
    explicit SseReader(size_t max_event = size_t{64} << 20) : max_(max_event) {}

    // Take the next piece of the stream, calling `sink` for each event it
    // completes. False when the sink asked to stop (the rest is not read).
    bool feed(std::string_view bytes, const Sink& sink);

    // A new stream continues this one (a resumed or reconnected GET): the
    // unfinished line and event are dropped; the last event id is kept.
    void restart();

    const std::string& last_event_id() const { return last_id_; }
    std::optional<long> retry() const { return retry_; }  // the latest `retry` seen
    size_t dropped() const { return dropped_; }

private:
    bool line(std::string_view text, const Sink& sink);

    size_t max_;
    std::string partial_;    // an unfinished line
    bool after_cr_ = false;  // the last piece ended in CR: a leading LF belongs to it
    bool started_ = false;   // past a possible byte order mark
    bool too_big_ = false;   // the current event is being dropped
    std::string type_, data_, last_id_;
    std::optional<long> event_retry_, retry_;
    size_t dropped_ = 0;
};

}  // namespace fracta::http
