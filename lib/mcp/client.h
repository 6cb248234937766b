// client.h — an MCP client session over any Transport: what the gateway
// uses to talk to its backends. It runs the legacy handshake (initialize,
// then notifications/initialized), then lists tools (every page), calls
// them, pings. Many threads may call at once over one connection: requests
// are told apart by id. Every request has a timeout; one that runs out is
// cancelled at the server (notifications/cancelled). Progress notifications
// go to the caller that asked for them; other notifications (such as
// notifications/tools/list_changed) to the owner's callback. When the
// connection dies, every call in flight fails at once with an error naming
// the backend, and alive() turns false so the owner can start a new one.
//
// Errors: timeouts, a dead or unreachable server are temporary; a server
// that answers the handshake wrongly is a failure. A JSON-RPC error the
// server returns is an answer, not an Error, where the caller may want to
// pass it on (request(), call_tool()).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "mcp/jsonrpc.h"
#include "mcp/transport.h"

namespace fracta::mcp {

struct ClientOptions {
    std::string name;  // the backend's name, leading every error (default: the transport's description)
    std::string protocol_version = std::string(kLatestLegacyVersion);  // asked for in initialize
    Json client_info = {{"name", "fracta"}, {"version", FRACTA_VERSION}};
    Json capabilities = Json::object();        // ours: none by default
    std::chrono::milliseconds timeout{30000};  // each request, unless it says otherwise
    // Callbacks run on a transport thread: keep them short, and never wait
    // there for another request of this client.
    std::function<void(const std::string& method, const Json& params)> on_notification;
    std::function<void(const std::string& line)> on_log;  // the server's stderr and dropped messages
    std::function<void(const Error& why)> on_closed;      // the connection died (not after close())
};

struct RequestOptions {
    std::chrono::milliseconds timeout{0};  // 0: ClientOptions::timeout
    // Set: a progressToken goes in params._meta, and the params of each
    // notifications/progress for it come here ({progress, total?, message?,
    // progressToken}); never after the request has returned.
    std::function<void(const Json& progress)> on_progress;
    bool progress_extends_timeout = false;   // each progress restarts the timeout...
    std::chrono::milliseconds max_total{0};  // ...up to this much in all (0: no cap)
    Json meta = nullptr;  // more params._meta, passed through (an incoming progressToken is replaced or dropped)
    // Set to true by another thread (the peer we proxy for gave up): the
    // request is cancelled at the server (notifications/cancelled with the
    // id we sent it under) and fails at once with "… cancelled". Seen
    // within kCancelPoll.
    std::shared_ptr<std::atomic<bool>> cancelled;
};

// How often a request waiting for its answer looks at RequestOptions::cancelled.
inline constexpr std::chrono::milliseconds kCancelPoll{20};

class Client {
public:
    explicit Client(std::unique_ptr<Transport> transport, ClientOptions options = {});
    ~Client();  // close()
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Open the transport and run the handshake. The server must answer with
    // a legacy revision we know; its info and capabilities are kept.
    Status connect();

    // One request; the server's answer as it came (kind Result or Error).
    Result<Message> request(const std::string& method, Json params = nullptr, const RequestOptions& o = {});
    Status notify(const std::string& method, Json params = nullptr);

    // tools/list, following nextCursor to the last page; the tools in the
    // server's order. An error answer or a malformed page is an Error.
    Result<std::vector<Json>> list_tools(const RequestOptions& o = {});
    // tools/call {name, arguments}. The answer as it came: a result (which
    // may say isError) or a JSON-RPC error.
    Result<Message> call_tool(const std::string& name, const Json& arguments, const RequestOptions& o = {});
    Status ping(std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

    bool alive() const;
    void close();

    // From the handshake.
    const std::string& protocol_version() const { return version_; }
    const Json& server_info() const { return server_info_; }
    const Json& server_capabilities() const { return server_caps_; }
    const std::string& instructions() const { return instructions_; }
    const std::string& name() const { return name_; }
    Transport& transport() { return *transport_; }

private:
    struct Pending;
    Result<Message> exchange(const std::string& method, Json params, const RequestOptions& o, bool cancellable);
    // Wait, mu_ held through `lock`, until `p` has its outcome, the caller's
    // cancel flag is up (true) or its time has run out.
    bool await(Pending& p, std::unique_lock<std::mutex>& lock, const RequestOptions& o, bool cancellable);
    void on_message(Json message);
    void on_request_failed(const Id& id, Error why);
    void on_closed(Error why);
    void answer_server_request(const Message& m);
    void route_progress(const Json& params);
    Error error(const std::string& what, const std::string& why, ErrorKind kind = ErrorKind::Temporary) const;

    std::unique_ptr<Transport> transport_;
    ClientOptions options_;
    std::string name_;

    mutable std::mutex mu_;
    int64_t next_id_ = 1;
    std::unordered_map<Id, std::shared_ptr<Pending>, IdHash> pending_;
    std::map<std::string, std::shared_ptr<Pending>> by_token_;  // progress tokens in use
    bool opened_ = false, connected_ = false, closed_ = false;
    std::optional<Error> dead_;  // why the connection died

    std::string version_, instructions_;
    Json server_info_ = Json::object(), server_caps_ = Json::object();
};

}  // namespace fracta::mcp
