// client_http.h — the streamable HTTP transport (MCP 2025-03-26 to
// 2025-11-25): every message is a POST to one endpoint with
// `Accept: application/json, text/event-stream`. A request's answer comes
// back as one JSON body or as an SSE stream that may carry notifications
// (progress) before the response; notifications and responses we send get
// 202. The server's `Mcp-Session-Id` from the initialize answer and the
// negotiated `MCP-Protocol-Version` go on every later request; a 404 for our
// session means the server forgot it, and the transport is then dead (the
// owner reconnects). After the handshake a GET stream listens for messages
// the server starts itself (notifications/tools/list_changed); 405 means it
// offers none. A stream that breaks before its answer is resumed with
// `Last-Event-ID`. close() ends the session with DELETE.
//
// Each request in flight has a thread of its own for its POST, so a slow
// answer never holds up the others; the static headers (a backend's own
// credentials) go on every exchange.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "http/sse.h"
#include "mcp/http_link.h"
#include "mcp/transport.h"

namespace fracta::mcp {

struct HttpTransportOptions {
    std::string url;                             // the MCP endpoint: http://host:port/mcp
    std::map<std::string, std::string> headers;  // sent on every exchange
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds send_timeout{30000};   // POSTs of notifications and responses, DELETE
    std::chrono::milliseconds cancel_timeout{2000};  // a cancellation's POST: it must not prolong a timed-out call
    bool listen = true;                              // open the GET stream after the handshake
};

class HttpTransport : public Transport {
public:
    // A malformed URL or header is a usage error.
    static Result<std::unique_ptr<HttpTransport>> create(HttpTransportOptions o) {
        return make_transport<HttpTransport>(std::move(o));
    }
    HttpTransport(HttpTransportOptions o, SplitUrl url);  // what create() makes once the URL is checked
    ~HttpTransport() override;

    Status open(TransportEvents events) override;
    Status send(const Json& message) override;
    void abandon(const Id& id) override;
    void negotiated(const std::string& version) override;
    void ready() override;
    bool alive() const override;
    void close() override;
    std::string describe() const override { return o_.url; }

    std::string session_id() const;

private:
    struct Call;
    Headers headers(bool post) const;
    void post_request(const std::shared_ptr<Call>& call);
    bool read_events(http::SseReader& reader, std::string_view data, const Id* answer_for, bool& answered);
    void deliver(Json payload, const Id* answer_for, bool& answered);
    void listen_loop();
    void note_session(const http::ClientResponse& head);
    void lose_session(const std::string& why);
    void reap_finished();

    const HttpTransportOptions o_;
    const SplitUrl url_;
    HttpLink link_;
    TransportEvents events_;
    std::atomic<bool> opened_{false}, closing_{false}, lost_{false};

    mutable std::mutex mu_;
    std::condition_variable cv_;  // wakes the listener's pauses on close
    std::string session_, version_;
    std::list<std::shared_ptr<Call>> calls_;  // requests in flight, each with its thread
    std::thread listener_;
    bool closed_ = false;
};

}  // namespace fracta::mcp
