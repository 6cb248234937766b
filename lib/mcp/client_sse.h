// client_sse.h — the legacy HTTP+SSE transport (MCP 2024-11-05), still what
// many remote servers speak: a GET opens an event stream whose first event,
// `endpoint`, names the URL to POST messages to; every message from the
// server, answers included, arrives on that stream. The endpoint must be on
// the stream's own origin. When the stream ends the connection is over
// (alive() turns false); the owner reconnects.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "http/sse.h"
#include "mcp/http_link.h"
#include "mcp/transport.h"

namespace fracta::mcp {

struct SseTransportOptions {
    std::string url;                             // the event stream: http://host:port/sse
    std::map<std::string, std::string> headers;  // sent on the GET and every POST
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds endpoint_timeout{10000};  // for the `endpoint` event
    std::chrono::milliseconds send_timeout{30000};      // each POST
    std::chrono::milliseconds cancel_timeout{2000};     // a cancellation's POST: it must not prolong a timed-out call
};

class SseTransport : public Transport {
public:
    // A malformed URL or header is a usage error.
    static Result<std::unique_ptr<SseTransport>> create(SseTransportOptions o) {
        return make_transport<SseTransport>(std::move(o));
    }
    SseTransport(SseTransportOptions o, SplitUrl url);  // what create() makes once the URL is checked
    ~SseTransport() override;

    // Opens the stream and waits for the endpoint event.
    Status open(TransportEvents events) override;
    Status send(const Json& message) override;
    bool alive() const override;
    void close() override;
    std::string describe() const override { return o_.url; }

    std::string endpoint() const;  // the target messages are POSTed to

private:
    void stream_loop();
    bool on_event(const http::SseEvent& e);

    const SseTransportOptions o_;
    const SplitUrl url_;
    HttpLink link_;
    TransportEvents events_;
    std::atomic<bool> opened_{false}, closing_{false};

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::string endpoint_;
    bool ended_ = false;
    std::string end_reason_;
    std::thread stream_;
    bool closed_ = false;
};

}  // namespace fracta::mcp
