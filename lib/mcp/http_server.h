// http_server.h — MCP over HTTP, server side: one endpoint that serves the
// streamable HTTP transport of both protocol eras, plus the deprecated
// HTTP+SSE transport of 2024-11-05 beside it.
//
// An HttpEndpoint is a handler object, not a server: the owner of the
// http::Server (the gateway) routes a path to it after its own checks (auth,
// Origin, Host) and says, per request, whose request it is (Binding: a scope
// that sessions are bound to, and the ToolSource that peer sees).
//
//   streamable HTTP  POST/GET/DELETE <base>/mcp        handle()
//   HTTP+SSE         GET <base>/sse                    handle_sse()
//                    POST <base>/messages?sessionId=…  handle_messages()
//
// Legacy sessions live in a bounded table (least recently used evicted,
// idle ones expired) and cost a few hundred bytes each when no stream is
// open. Tool calls that stream (progress) run on worker threads; the
// http::Server should run thread_per_connection so that open streams never
// hold up other clients. Stop the http::Server (after close_streams(), which
// makes that quick) before destroying the endpoint.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "http/server.h"
#include "mcp/server.h"

namespace fracta::mcp {

struct HttpEndpointOptions {
    size_t max_sessions = 10000;                 // more: the least recently used goes
    std::chrono::seconds session_idle{30 * 60};  // unused this long (and no stream open): gone
    std::chrono::milliseconds heartbeat{15000};  // ": ping" on silent streams
    size_t max_workers = 256;                    // calls running on their own thread; more run inline
    size_t max_body = kMaxJsonInput;             // larger JSON bodies: -32700 (the http::Server caps first)
    size_t max_queued_frames = 1024;             // per stream; a client this far behind loses the rest
};

// Who is asking, as the endpoint's owner established it.
struct Binding {
    // Sessions belong to the scope that created them (e.g. the agent's task);
    // another scope's session id is unknown here (404).
    std::string scope;
    // The tools this peer sees; null: the Server's default source.
    std::shared_ptr<ToolSource> tools;
};

class HttpEndpoint {
public:
    explicit HttpEndpoint(Server& server, HttpEndpointOptions options = {});
    // Cancels the calls in flight and waits for their threads.
    ~HttpEndpoint();
    HttpEndpoint(const HttpEndpoint&) = delete;
    HttpEndpoint& operator=(const HttpEndpoint&) = delete;

    // The streamable HTTP endpoint: POST, GET, DELETE (anything else 405).
    http::Response handle(const http::Request& request, const Binding& binding);

    // HTTP+SSE: GET opens a session and its stream; the first event is
    // `endpoint`, naming `messages_path` + "?sessionId=<id>" (the path is sent
    // as given: percent-encode it yourself). The session ends with the stream.
    http::Response handle_sse(const http::Request& request, const Binding& binding, const std::string& messages_path);
    // HTTP+SSE: POST ?sessionId=… → 202; the answers go out on that stream.
    http::Response handle_messages(const http::Request& request, const Binding& binding);

    // Push notifications/tools/list_changed to every initialized legacy
    // session of `scope` ("" = every scope) that has a stream open (a GET
    // stream or an HTTP+SSE stream). Returns how many got it.
    size_t notify_tools_changed(const std::string& scope = "");

    // End every open stream (their clients see the body end), for a quick
    // http::Server::stop().
    void close_streams();

    size_t session_count() const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace fracta::mcp
