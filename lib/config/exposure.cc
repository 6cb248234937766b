#include "config/exposure.h"

#include <set>

#include "base/text.h"

namespace fracta::config {

bool loopback_listen(const std::string& listen) {
    std::string host = listen;
    if (!host.empty() && host[0] == '[') {
        auto close = host.find(']');
        host = close == std::string::npos ? "" : host.substr(1, close - 1);
    } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
        host = host.substr(0, colon);
    }
    host = lower(host);
    if (host == "localhost" || host == "::1") return true;
    // 127.0.0.0/8: "127." followed by digits and dots only.
    if (host.rfind("127.", 0) != 0) return false;
    for (char c : host)
        if (!(c == '.' || (c >= '0' && c <= '9'))) return false;
    return true;
}

std::string weak_token_reason(const std::string& token) {
    if (token.empty()) return "without a token";
    // Words templates and tutorials put where a secret belongs; a token
    // holding one was typed by a person, not drawn at random.
    static const char* const kPlaceholders[] = {"change-me", "changeme", "change_me", "replace-me", "replaceme",
                                                "replace_me", "placeholder", "example", "secret", "password",
                                                "dummy", "your-token", "your_token", "yourtoken", "insecure",
                                                "xxxx", "todo", "fixme"};
    const std::string folded = lower(token);
    for (const char* word : kPlaceholders)
        if (folded.find(word) != std::string::npos) return "with a placeholder token (it contains \"" + std::string(word) + "\")";
    for (char c : token)
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return "with a token holding whitespace or control characters";
    if (token.size() < 32)
        return "with a short token (" + std::to_string(token.size()) + " characters; at least 32 are needed)";
    if (std::set<char>(token.begin(), token.end()).size() < 8) return "with a token of fewer than 8 distinct characters";
    return "";
}

Status check_listen_exposure(const std::string& what, const std::string& listen, const std::string& token,
                             bool insecure, std::string& warning) {
    warning.clear();
    if (loopback_listen(listen)) return {};
    const std::string reason = weak_token_reason(token);
    if (reason.empty()) return {};
    if (insecure) {
        warning = what + " listens on " + listen + " (not loopback) " + reason +
                  ", as --insecure-listen allows: anyone who reaches it can use it";
        return {};
    }
    return usage_error(what + " listens on " + listen + " (not loopback) " + reason +
                       "; give a strong token (openssl rand -hex 32) or --insecure-listen");
}

}  // namespace fracta::config
