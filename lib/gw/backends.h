// backends.h — the gateway's proxied MCP servers (`mcp_servers`): one client
// session per backend, shared by every agent (requests multiplexed by id),
// each backend's tool list cached and refreshed when it says its list
// changed, and backends that die brought back.
//
// Nothing here makes an agent wait for a sick backend: tools() answers from
// the caches at once (a backend that is down or still connecting is simply
// not in it), and connecting, reconnecting and refreshing happen on one
// background thread, each bounded by the backend's list timeout. A call to a
// backend that is down answers an isError result naming it and asks for a
// reconnect; later calls find it back.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gw/naming.h"
#include "gw/proxy.h"
#include "gw/settings.h"
#include "mcp/client.h"

namespace fracta::gw {

class Backends : public Proxy {
public:
    using Log = std::function<void(const std::string& level, const std::string& line)>;
    Backends(std::vector<Backend> specs, Log log);
    ~Backends() override;

    // Called (from the background thread) when the exposed tool list changed.
    void on_tools_changed(std::function<void()> callback);
    // Connect every backend and list its tools, in the background.
    void start();
    void stop();

    std::vector<mcp::Tool> tools() override;
    bool owns(const std::string& exposed) override;
    Result<Json> call(const std::string& exposed, const Json& arguments, const mcp::CallContext& ctx) override;
    Json health() override;
    bool discovered() override;

private:
    struct Conn {
        Backend spec;
        std::shared_ptr<mcp::Client> client;  // null or dead: down
        std::vector<Json> tools;              // the last list it gave (kept while down)
        bool up = false, tried = false;
        std::string error;
    };

    void loop();
    void refresh(const std::string& id);       // connect if needed, then list tools (background thread)
    void request_refresh(const std::string& id);
    void rename();                             // recompute exposed names (mu_ held)
    Result<std::unique_ptr<mcp::Client>> connect(const Backend& spec);

    Log log_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<std::string, Conn> conns_;
    std::map<std::string, NamedTool> by_exposed_;
    std::vector<mcp::Tool> exposed_tools_;
    std::set<std::string> wanted_;  // backends to (re)connect or refresh
    std::function<void()> changed_;
    bool stopping_ = false, discovered_ = false;
    std::chrono::steady_clock::time_point discovery_deadline_;
    std::thread thread_;
};

}  // namespace fracta::gw
