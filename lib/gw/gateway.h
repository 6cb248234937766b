// gateway.h — `fracta-gw serve`: every agent's own MCP endpoint (spec:
// gateway.md "Routes of serve"). A request to /agents/<task>/… passes the
// Host and Origin checks, then the agent's bearer token (verified through
// the control plane, briefly cached), and is then served by lib/mcp with the
// tools that agent may see: fracta's own (as the agent), and the proxied
// backends', filtered by the tool policies.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "base/result.h"
#include "http/auth.h"
#include "http/tls.h"
#include "config/config.h"
#include "gw/proxy.h"
#include "gw/settings.h"

namespace fracta::gw {

struct GatewayOptions {
    std::string listen;                   // "127.0.0.1:8080"
    std::string cp_url, cp_token;         // the control plane
    std::string cp_ca_pem;                // trusted for an https control plane (empty: the system's CAs)
    http::TlsCredentials tls;             // set: serve HTTPS (gateway.tls)
    http::AuthLimit auth_limit;           // failed agent authentications per client address, then 429
    std::set<std::string> allowed_hosts;  // besides loopback forms
    Settings settings;                    // backends and policies
    std::chrono::milliseconds token_cache{2000};
    std::function<void(const std::string& level, const std::string& line)> log;
};

class Gateway {
public:
    // Listen and serve; `proxy` (may be null: no backends) must outlive it.
    static Result<std::unique_ptr<Gateway>> start(GatewayOptions options, Proxy* proxy);
    ~Gateway();

    std::string url() const;  // http://host:port (https:// with TLS)
    // New connections get these credentials (SIGHUP); see http::Server::set_tls.
    Status set_tls(http::TlsCredentials tls);
    // Tell legacy sessions with an open stream that the tool list changed.
    void tools_changed();
    void stop();

    struct Impl;

private:
    explicit Gateway(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// The hosts a gateway configured like this is reached by: gateway.url's and
// gateway.listen's (unless a wildcard), and FRACTA_GATEWAY_ALLOWED_HOSTS.
std::set<std::string> own_hosts(const config::Config& config, const std::string& listen);

}  // namespace fracta::gw
