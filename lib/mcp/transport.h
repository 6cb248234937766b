// transport.h — how an MCP client reaches one server. A Transport moves whole
// JSON-RPC messages: stdio (a child process, client_stdio.h), streamable
// HTTP (client_http.h) and the legacy HTTP+SSE pair (client_sse.h) all look
// the same to the session logic in client.h, which owns ids, timeouts,
// progress and the handshake.
//
// Everything the server sends arrives through TransportEvents, called on a
// thread of the transport's own; none is called once close() has returned.
#pragma once

#include <functional>
#include <string>

#include "base/json.h"
#include "base/result.h"
#include "mcp/jsonrpc.h"

namespace fracta::mcp {

struct TransportEvents {
    // One message from the server (a response, a notification, or a request
    // to us), in the order the server sent it on its stream.
    std::function<void(Json message)> message;
    // A request that was sent but can no longer be answered (its HTTP
    // exchange failed): fail it now instead of at its timeout.
    std::function<void(const Id& id, Error why)> request_failed;
    // The connection is gone for good (the child exited, the stream ended,
    // the server dropped the session). Nothing arrives after it.
    std::function<void(Error why)> closed;
    // A line of the server's diagnostics (a child's stderr) or the
    // transport's own (a malformed message it dropped).
    std::function<void(const std::string& line)> log;
};

class Transport {
public:
    virtual ~Transport() = default;

    // Connect and start delivering to `events`. Called once.
    virtual Status open(TransportEvents events) = 0;
    // Hand one message over (written to the pipe, POSTed, or the POST
    // started); the answer comes through events.message. Thread-safe.
    virtual Status send(const Json& message) = 0;
    // Nobody waits for the answer to request `id` any more (it timed out):
    // drop whatever is tied to it, such as an open response stream.
    virtual void abandon(const Id& id) { (void)id; }
    // The protocol revision initialize settled on; HTTP sends it as a header
    // from then on.
    virtual void negotiated(const std::string& version) { (void)version; }
    // The handshake is complete (notifications/initialized is sent): HTTP
    // may now open its stream for messages the server starts itself.
    virtual void ready() {}
    // False once the connection is gone (see TransportEvents::closed) or closed.
    virtual bool alive() const = 0;
    // Disconnect (ending the server's session or process). Idempotent.
    virtual void close() = 0;
    // What this connects to, for messages: "node server.js", "http://h:1/mcp".
    virtual std::string describe() const = 0;
};

}  // namespace fracta::mcp
