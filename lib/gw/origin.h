// origin.h — the gateway's defence against DNS rebinding and cross-site
// requests (gateway.md "Security"): the Host a request names, and the Origin
// a browser adds, must be this gateway or a loopback form of it. Requests
// without an Origin (every non-browser client) pass that half of the check.
#pragma once

#include <set>
#include <string>

namespace fracta::gw {

class OriginGuard {
public:
    // `own_hosts`: host names (no ports) the gateway is reached by besides
    // the loopback forms — from gateway.url, gateway.listen, and any the
    // deployment adds (FRACTA_GATEWAY_ALLOWED_HOSTS, comma-separated).
    explicit OriginGuard(std::set<std::string> own_hosts);

    bool host_ok(const std::string& host_header) const;      // "host[:port]"; empty: refused
    bool origin_ok(const std::string& origin_header) const;  // "scheme://host[:port]"; empty: fine

    // The host of "http://a:1/x", "a:1", "[::1]:8080" ("a", "a", "::1"), lower-cased.
    static std::string host_of(const std::string& text);

private:
    bool known(const std::string& host) const;
    std::set<std::string> hosts_;
};

}  // namespace fracta::gw
