#include "gw/origin.h"

#include "base/text.h"

namespace fracta::gw {

OriginGuard::OriginGuard(std::set<std::string> own_hosts) : hosts_(std::move(own_hosts)) {
    for (const char* loopback : {"localhost", "127.0.0.1", "::1"}) hosts_.insert(loopback);
}

std::string OriginGuard::host_of(const std::string& text) {
    std::string s = text;
    if (size_t scheme = s.find("://"); scheme != std::string::npos) s = s.substr(scheme + 3);
    s = s.substr(0, s.find_first_of("/?#"));
    if (size_t at = s.rfind('@'); at != std::string::npos) s = s.substr(at + 1);
    std::string host;
    if (!s.empty() && s[0] == '[') {
        size_t close = s.find(']');
        host = close == std::string::npos ? "" : s.substr(1, close - 1);
    } else {
        host = s.substr(0, s.find(':'));
    }
    return lower(host);
}

bool OriginGuard::known(const std::string& host) const {
    if (host.empty()) return false;
    if (hosts_.count(host)) return true;
    // 127.0.0.0/8 is loopback too.
    return host.rfind("127.", 0) == 0 && host.find_first_not_of("0123456789.") == std::string::npos;
}

bool OriginGuard::host_ok(const std::string& host_header) const { return known(host_of(host_header)); }

bool OriginGuard::origin_ok(const std::string& origin_header) const {
    if (origin_header.empty()) return true;
    if (origin_header == "null") return false;  // sandboxed or file: pages
    return known(host_of(origin_header));
}

}  // namespace fracta::gw
