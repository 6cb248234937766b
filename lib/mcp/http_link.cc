// http_link.cc — URLs, headers and the connection pool (see http_link.h).
#include "mcp/http_link.h"

#include <cctype>

namespace fracta::mcp {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxBody = size_t{64} << 20;
constexpr size_t kMaxIdle = 8;  // connections kept for reuse

bool token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

Result<SplitUrl> split_url(const std::string& url) {
    auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return usage_error("URL \"" + url + "\": not absolute (http://host/path)");
    std::string scheme = url.substr(0, scheme_end);
    if (scheme != "http" && scheme != "https")
        return usage_error("URL \"" + url + "\": scheme " + scheme + " (only http and https)");
    auto path = url.find_first_of("/?#", scheme_end + 3);
    std::string origin = url.substr(0, path);
    if (origin.size() == scheme_end + 3) return usage_error("URL \"" + url + "\": no host");
    std::string target = path == std::string::npos ? "/" : url.substr(path);
    if (auto hash = target.find('#'); hash != std::string::npos) target.erase(hash);
    if (target.empty() || target[0] != '/') target = "/" + target;
    return SplitUrl{origin, target};
}

Result<std::string> resolve_target(const SplitUrl& base, const std::string& ref) {
    if (ref.empty()) return usage_error("empty endpoint");
    if (ref.find("://") != std::string::npos) {
        FRACTA_TRY_ASSIGN(abs, split_url(ref));
        if (abs.origin != base.origin)
            return usage_error("endpoint " + ref + " is on another origin than " + base.origin);
        return abs.target;
    }
    if (ref.rfind("//", 0) == 0) return usage_error("endpoint " + ref + " names another host");
    if (ref[0] == '/') return ref;
    // Relative to the directory of the base path (query dropped).
    std::string dir = base.target.substr(0, base.target.find('?'));
    dir.erase(dir.rfind('/') + 1);
    return dir + ref;
}

Status check_headers(const std::map<std::string, std::string>& headers) {
    for (const auto& [name, value] : headers) {
        if (name.empty()) return usage_error("header with an empty name");
        for (char c : name)
            if (!token_char(c)) return usage_error("header name \"" + name + "\": not a valid HTTP token");
        if (value.find_first_of("\r\n") != std::string::npos || value.find('\0') != std::string::npos)
            return usage_error("header " + name + ": its value holds a line break");
    }
    return {};
}

HttpLink::HttpLink(std::string origin, std::map<std::string, std::string> headers,
                   std::chrono::milliseconds connect_timeout)
    : origin_(std::move(origin)),
      headers_(headers.begin(), headers.end()),
      pool_(
          [origin = origin_, connect_timeout]() -> Result<std::unique_ptr<http::Client>> {
              http::ClientOptions o;
              o.timeout = std::chrono::milliseconds(0);  // exchanges bound themselves (limit, cancelled)
              o.connect_timeout = connect_timeout;
              return std::make_unique<http::Client>(origin, o);
          },
          kMaxIdle) {}

Result<http::ClientResponse> HttpLink::run(const Exchange& x) {
    http::RequestExtras extras;
    extras.headers = headers_;
    extras.headers.insert(extras.headers.end(), x.headers.begin(), x.headers.end());
    extras.on_head = x.on_head;
    const auto deadline = x.limit.count() > 0 ? Clock::now() + x.limit : Clock::time_point::max();
    bool over_limit = false;
    extras.cancelled = [&] {
        if (Clock::now() >= deadline) {
            over_limit = true;
            return true;
        }
        return x.cancelled && x.cancelled();
    };

    std::string collected;
    bool too_large = false;
    std::function<bool(std::string_view)> collect = [&](std::string_view data) {
        if (collected.size() + data.size() > kMaxBody) {
            too_large = true;
            return false;
        }
        collected.append(data);
        return true;
    };
    FRACTA_TRY_ASSIGN(client, pool_.acquire());
    auto r = client->stream(x.method, x.target, x.on_data ? x.on_data : collect, x.body,
                            x.body.empty() ? "" : "application/json", extras);
    std::string what = x.method + " " + origin_ + x.target;
    if (!r.ok()) {
        client.discard();  // a cut transfer leaves the connection in an unknown state: not reused
        if (over_limit) return temporary_error(what + ": no answer within " + std::to_string(x.limit.count()) + " ms");
        return std::move(r).take_error();
    }
    if (too_large) return failure(what + ": response larger than " + std::to_string(kMaxBody) + " bytes");
    if (!x.on_data) r->body = std::move(collected);
    return r;
}

}  // namespace fracta::mcp
