// server.h — the MCP server core: what a server answers, whatever carries it.
//
// One Server serves both protocol eras. Legacy peers (2024-11-05 … 2025-11-25)
// open a Session with `initialize` (version negotiated, capabilities
// exchanged), then list and call tools; cancellation and progress ride on
// notifications. Modern peers (2026-07-28) send stateless requests whose
// params._meta names the protocol version and the client's capabilities;
// `server/discover` describes the server, and every result says
// resultType "complete" and who answered. Tools come from a ToolSource, which
// may differ per call (the gateway gives each agent its own view).
//
// Transports (stdio_server.h, http_server.h) decode payloads, keep one
// Session per peer, call Server::handle (from several threads at once if they
// like: the core is thread-safe) and deliver what it returns and emits.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "mcp/jsonrpc.h"

namespace fracta::mcp {

struct Tool {
    std::string name;
    std::string title;        // empty: left out
    std::string description;  // empty: left out
    Json input_schema;        // null: {"type":"object"}
    Json output_schema;       // null: left out
    Json annotations;         // null: left out
    Json extra;               // other members passed through as they are (icons, _meta, execution…)

    Json to_json() const;
    // From a tool object as servers list it; members other than the named
    // ones land in `extra`. A missing or non-string name is a usage error.
    static Result<Tool> from_json(const Json& value);
};

// What a tool call knows about its request.
struct CallContext {
    std::string session_id;        // empty for modern (stateless) requests
    std::string protocol_version;  // the negotiated or requested revision
    Json meta;                     // the request's params._meta (null when absent)
    // Report progress: a notifications/progress for the request's
    // progressToken; a no-op when it had none. Values that do not increase
    // are dropped, and so is anything reported after the call returned.
    std::function<void(double progress, std::optional<double> total, std::string message)> progress;
    // Set when the peer cancelled the request (or the server is shutting
    // down): stop early; whatever is returned then is not sent.
    std::shared_ptr<std::atomic<bool>> cancelled;

    bool is_cancelled() const { return cancelled && cancelled->load(); }
};

// The tools a peer sees. Implementations must be thread-safe: calls may run
// concurrently.
class ToolSource {
public:
    virtual ~ToolSource() = default;
    // The whole list, in a stable order (the server pages through it).
    virtual Result<std::vector<Tool>> list_tools(const CallContext& ctx) = 0;
    // A CallToolResult object ({content[], structuredContent?, isError?}).
    // A Usage error (unknown tool, bad arguments) answers -32602; any other
    // error becomes an isError result carrying its message.
    virtual Result<Json> call_tool(const std::string& name, const Json& arguments, const CallContext& ctx) = 0;
};

struct ServerConfig {
    std::string name = "fracta";
    std::string version;             // empty: fracta's own version
    std::string title;               // empty: left out of serverInfo
    std::string instructions;        // empty: left out
    size_t page_size = 100;          // tools per tools/list page (0: everything at once)
    bool tools_list_changed = true;  // legacy capability tools.listChanged (the transport pushes them)
    int64_t ttl_ms = 0;              // modern cache hints on discover and tools/list
    std::string cache_scope = "private";
};

// The state of one peer: an HTTP session, a stdio process, an SSE
// connection — the negotiated version and the requests in flight (for
// cancellation). Modern requests carry their own state; over HTTP each gets
// a fresh Session, on stdio they share the process's. Thread-safe.
class Session {
public:
    explicit Session(std::string id = "") : id_(std::move(id)) {}
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const std::string& id() const { return id_; }
    std::string protocol_version() const;  // "" until initialize was answered
    bool initialized() const;              // initialize answered successfully
    bool ready() const;                    // and notifications/initialized received
    Json client_info() const;              // from initialize (null before)

    // Cancel every request in flight (ending the session, shutting down).
    void cancel_all();
    size_t in_flight() const;

private:
    friend class Server;
    struct Call {
        std::shared_ptr<std::atomic<bool>> cancelled;
    };

    mutable std::mutex mu_;
    std::string id_, version_;
    bool initialized_ = false, ready_ = false;
    Json client_info_;
    std::map<Id, Call> calls_;  // requests in flight, by id
};

// Called with each notification related to the request being handled
// (notifications/progress), on the thread running the call, before
// Server::handle returns.
using Emit = std::function<void(const Json& notification)>;

class Server {
public:
    // `tools` is the default source, used when handle() is given none; it
    // must outlive the Server.
    Server(ServerConfig config, ToolSource& tools);

    const ServerConfig& config() const { return config_; }

    // Handle one message (never a batch) from the peer of `session`. Returns
    // the response to send (a wire-form object), or nothing: for
    // notifications, responses, and requests cancelled while they ran.
    std::optional<Json> handle(Session& session, const Message& message, ToolSource& tools,
                               const Emit& emit = {}) const;
    std::optional<Json> handle(Session& session, const Message& message, const Emit& emit = {}) const {
        return handle(session, message, tools_, emit);
    }

    // A request or notification is modern when its params._meta names a
    // protocol version; everything else is legacy.
    static bool is_modern(const Message& message);
    static std::string modern_version(const Message& message);  // "" when not modern or not a string
    // The checks a modern request must pass before dispatch (a supported
    // version, the required _meta keys): the error to answer with, if any.
    // HTTP answers these with status 400.
    std::optional<RpcError> check_modern(const Message& message) const;

    // notifications/tools/list_changed, for transports to push to legacy
    // sessions that are ready() when config().tools_list_changed is set.
    static Json tools_list_changed();

    // serverInfo {name, version, title?}.
    Json server_info() const;

private:
    std::optional<Json> handle_legacy(Session& s, const Message& m, ToolSource& tools, const Emit& emit) const;
    std::optional<Json> handle_modern(Session& s, const Message& m, ToolSource& tools, const Emit& emit) const;
    void handle_notification(Session& s, const Message& m) const;
    Json initialize(Session& s, const Message& m) const;
    Json discover() const;
    Json list_tools(Session& s, const Message& m, ToolSource& tools, const std::string& version) const;
    std::optional<Json> call_tool(Session& s, const Message& m, ToolSource& tools, const std::string& version,
                                  const Emit& emit) const;

    ServerConfig config_;
    ToolSource& tools_;
};

// --- helpers for transports ----------------------------------------------------------

// Threads for tool calls, so that a long call never stops a transport from
// reading the cancellation that ends it. Every thread is joined: those whose
// job returned at the next run(), the rest by wait_idle() (and the
// destructor), which waits until every job has returned. None outlives its
// CallThreads, so none is still running (or still holding its thread-local
// state, OpenSSL's among it) when the process exits.
//
// wait_idle() has no deadline of its own: the owner cancels first
// (Session::cancel_all), and the tool sources bound their calls — a backend
// request sees its cancel flag within kCancelPoll (mcp/client.h) and every
// request has a timeout, as the control plane's client has. A job that
// ignored both would hold the shutdown up; abandoning its thread instead
// would leave it running on an owner being destroyed.
class CallThreads {
public:
    explicit CallThreads(size_t max_threads = 256);
    ~CallThreads();
    CallThreads(const CallThreads&) = delete;
    CallThreads& operator=(const CallThreads&) = delete;

    // Runs `job` on a new thread; at the cap (or when no thread can be had),
    // right here before returning. Not from one of its own jobs.
    void run(std::function<void()> job);
    void wait_idle();
    size_t running() const;  // jobs that have not returned
    size_t threads() const;  // threads not joined yet (running, or finished since the last run)

private:
    void reap();  // join the threads whose job returned

    struct State;
    std::unique_ptr<State> state_;
};

// One received payload (an HTTP body, a stdio line), decoded for a peer that
// speaks `version` ("" before initialize).
struct Incoming {
    std::vector<Message> messages;  // the valid messages, in order
    std::vector<Json> errors;       // error responses for what was invalid (-32700 / -32600)
    bool batch = false;             // the payload was a JSON array
    bool parse_error = false;       // not JSON at all (errors holds the -32700)
};
Incoming decode_payload(std::string_view text, std::string_view version, size_t max_bytes = kMaxJsonInput);

// The progressToken of a request (null when it has none).
Json progress_token(const Message& message);

}  // namespace fracta::mcp
