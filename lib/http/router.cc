// router.cc — requests, responses, URL components and routing: the parts of
// lib/http/server.h that have nothing to do with sockets or libmicrohttpd.
#include <algorithm>
#include <cctype>
#include <set>

#include "http/server.h"

#include "base/text.h"

namespace fracta::http {

// --- requests and responses ----------------------------------------------------

std::string Request::header(const std::string& lower_name, const std::string& fallback) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? fallback : it->second;
}

std::string Request::query_param(const std::string& name, const std::string& fallback) const {
    auto it = query.find(name);
    return it == query.end() ? fallback : it->second;
}

Response Response::json(int status, const Json& body) {
    Response r;
    r.status = status;
    r.body = to_line(body) + "\n";
    return r;
}

Response Response::error(int status, const std::string& message) {
    return json(status, Json{{"error", message}});
}

Response Response::text(int status, std::string body, std::string content_type) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = std::move(content_type);
    return r;
}

Response Response::stream(StreamNext next, std::string content_type) {
    Response r;
    r.content_type = std::move(content_type);
    r.stream_next = std::move(next);
    if (r.content_type.rfind("text/event-stream", 0) == 0) r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
}

// --- URL components ------------------------------------------------------------

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

Result<std::string> percent_decode(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
        if (lo < 0) return usage_error("malformed percent-escape in \"" + s + "\"");
        char c = static_cast<char>(hi * 16 + lo);
        if (c == '\0') return usage_error("encoded NUL in \"" + s + "\"");
        out += c;
        i += 2;
    }
    return out;
}

Result<std::map<std::string, std::string>> parse_query(const std::string& query) {
    std::map<std::string, std::string> out;
    for (std::string& part : split(query, '&')) {
        if (!part.empty()) {
            std::replace(part.begin(), part.end(), '+', ' ');
            auto eq = part.find('=');
            FRACTA_TRY_ASSIGN(key, percent_decode(part.substr(0, eq)));
            std::string value;
            if (eq != std::string::npos) {
                FRACTA_TRY_ASSIGN(v, percent_decode(part.substr(eq + 1)));
                value = std::move(v);
            }
            out[key] = std::move(value);
        }
    }
    return out;
}

std::string percent_encode(const std::string& s) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

// --- routing -------------------------------------------------------------------

namespace {
std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> parts;
    size_t start = path.empty() || path[0] != '/' ? 0 : 1;
    for (;;) {
        size_t slash = path.find('/', start);
        parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return parts;
}

bool is_param(const std::string& segment) {
    return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// True when `a` is more specific than `b`: an exact segment where `b` has a
// parameter, at the first place they differ in kind.
bool more_specific(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        bool pa = is_param(a[i]), pb = is_param(b[i]);
        if (pa != pb) return !pa;
    }
    return false;
}
}  // namespace

void Router::add(const std::string& method, const std::string& pattern, Handler h) {
    routes_.push_back(Route{method, split_path(pattern), std::move(h)});
}

const Router::Route* Router::match(const Request& r, std::map<std::string, std::string>& params,
                                   std::string& allow) const {
    // Split the path as sent, then decode each segment: "a%2Fb" stays one.
    std::vector<std::string> segments;
    if (r.raw_path.empty()) {
        segments = split_path(r.path);
    } else {
        for (auto& s : split_path(r.raw_path)) {
            auto decoded = percent_decode(s);
            if (!decoded.ok()) return nullptr;
            segments.push_back(std::move(*decoded));
        }
    }
    auto path_matches = [&](const Route& route) {
        if (route.segments.size() != segments.size()) return false;
        for (size_t i = 0; i < segments.size(); ++i)
            if (is_param(route.segments[i]) ? segments[i].empty() : route.segments[i] != segments[i]) return false;
        return true;
    };
    const Route* best = nullptr;
    const Route* best_get = nullptr;  // for HEAD without a HEAD route
    std::set<std::string> methods;
    for (const auto& route : routes_) {
        if (!path_matches(route)) continue;
        methods.insert(route.method);
        if (route.method == r.method && (!best || more_specific(route.segments, best->segments))) best = &route;
        if (r.method == "HEAD" && route.method == "GET" &&
            (!best_get || more_specific(route.segments, best_get->segments)))
            best_get = &route;
    }
    if (!best) best = best_get;
    if (!best) {
        if (methods.count("GET")) methods.insert("HEAD");
        for (const auto& m : methods) allow += (allow.empty() ? "" : ", ") + m;
        return nullptr;
    }
    params.clear();
    for (size_t i = 0; i < segments.size(); ++i)
        if (is_param(best->segments[i]))
            params[best->segments[i].substr(1, best->segments[i].size() - 2)] = segments[i];
    return best;
}

namespace {
Response no_route(const Request& r, const std::string& allow) {
    if (allow.empty()) return Response::error(404, "not found: " + r.path);
    Response resp = Response::error(405, "method " + r.method + " not allowed on " + r.path);
    resp.headers.emplace_back("Allow", allow);
    return resp;
}
}  // namespace

Response Router::dispatch(Request& r) const {
    std::string allow;
    std::map<std::string, std::string> params;
    const Route* route = match(r, params, allow);
    if (!route) return no_route(r, allow);
    r.params = std::move(params);
    return route->handler(r);
}

Handler Router::handler() const {
    auto self = std::make_shared<const Router>(*this);
    return [self](const Request& r) {
        std::string allow;
        std::map<std::string, std::string> params;
        const Route* route = self->match(r, params, allow);
        if (!route) return no_route(r, allow);
        if (params.empty() && r.params.empty()) return route->handler(r);
        Request copy = r;
        copy.params = std::move(params);
        return route->handler(copy);
    };
}

}  // namespace fracta::http
