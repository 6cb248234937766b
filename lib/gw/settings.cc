#include "gw/settings.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/units.h"

namespace fracta::gw {
namespace {

Result<std::string> text(const Json& j, const std::string& key, const std::string& where, bool required) {
    if (!j.contains(key) || j[key].is_null()) {
        if (required) return usage_error(where + "." + key + ": required");
        return std::string();
    }
    if (!j[key].is_string()) return usage_error(where + "." + key + ": must be a string");
    return j[key].get<std::string>();
}

Result<std::map<std::string, std::string>> string_map(const Json& j, const std::string& key, const std::string& where) {
    std::map<std::string, std::string> out;
    if (!j.contains(key) || j[key].is_null()) return out;
    if (!j[key].is_object()) return usage_error(where + "." + key + ": must be a mapping of strings");
    for (const auto& [k, v] : j[key].items()) {
        if (!v.is_string()) return usage_error(where + "." + key + "." + k + ": must be a string");
        out[k] = v.get<std::string>();
    }
    return out;
}

Status only_keys(const Json& j, const std::string& where, std::initializer_list<const char*> keys) {
    for (const auto& [k, v] : j.items()) {
        bool ok = false;
        for (const char* known : keys) ok = ok || k == known;
        if (!ok) return usage_error(where + "." + k + ": unknown key");
    }
    return {};
}

std::string base64(const std::string& in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned n = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        out += {t[n >> 18], t[(n >> 12) & 63], t[(n >> 6) & 63], t[n & 63]};
    }
    if (i + 1 == in.size()) {
        unsigned n = (unsigned char)in[i] << 16;
        out += {t[n >> 18], t[(n >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        unsigned n = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
        out += {t[n >> 18], t[(n >> 12) & 63], t[(n >> 6) & 63], '='};
    }
    return out;
}

// auth: {type: bearer|header|basic, value|env|file, header (type header), username (type basic)}
Status read_auth(const Json& a, const std::string& where, Backend& b) {
    if (!a.is_object()) return usage_error(where + ": must be a mapping");
    FRACTA_TRY(only_keys(a, where, {"type", "value", "env", "file", "header", "username"}));
    FRACTA_TRY_ASSIGN(type, text(a, "type", where, true));
    if (type != "bearer" && type != "header" && type != "basic")
        return usage_error(where + ".type: must be bearer, header or basic (got \"" + type + "\")");
    int sources = 0;
    std::string secret;
    if (a.contains("value")) {
        ++sources;
        FRACTA_TRY_ASSIGN(v, text(a, "value", where, true));
        secret = v;
    }
    if (a.contains("env")) {
        ++sources;
        FRACTA_TRY_ASSIGN(name, text(a, "env", where, true));
        const char* v = std::getenv(name.c_str());
        if (!v) return usage_error(where + ".env: " + name + " is not set");
        secret = v;
    }
    if (a.contains("file")) {
        ++sources;
        FRACTA_TRY_ASSIGN(path, text(a, "file", where, true));
        std::ifstream in(path);
        if (!in) return usage_error(where + ".file: cannot read " + path);
        std::stringstream ss;
        ss << in.rdbuf();
        secret = ss.str();
        while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    }
    if (sources != 1) return usage_error(where + ": give exactly one of value, env, file");
    if (type == "bearer") {
        b.headers["Authorization"] = "Bearer " + secret;
    } else if (type == "header") {
        FRACTA_TRY_ASSIGN(header, text(a, "header", where, true));
        b.headers[header] = secret;
    } else {
        FRACTA_TRY_ASSIGN(user, text(a, "username", where, true));
        b.headers["Authorization"] = "Basic " + base64(user + ":" + secret);
    }
    return {};
}

Status read_timeout(const Json& j, const std::string& key, const std::string& where, std::chrono::milliseconds& out) {
    FRACTA_TRY_ASSIGN(t, text(j, key, where, false));
    if (t.empty()) return {};
    auto d = parse_duration(t);
    if (!d.ok() || d->count() <= 0) return usage_error(where + "." + key + ": must be a duration such as 30s");
    out = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    return {};
}

Result<Backend> read_backend(const std::string& id, const Json& entry) {
    const std::string where = "mcp_servers.servers." + id;
    if (!entry.is_object()) return usage_error(where + ": must be a mapping with local or remote");
    FRACTA_TRY(only_keys(entry, where, {"local", "remote", "timeout", "list_timeout"}));
    if (entry.contains("local") == entry.contains("remote"))
        return usage_error(where + ": give exactly one of local, remote");
    Backend b;
    b.id = id;
    FRACTA_TRY(read_timeout(entry, "timeout", where, b.timeout));
    FRACTA_TRY(read_timeout(entry, "list_timeout", where, b.list_timeout));
    if (entry.contains("local")) {
        const std::string w = where + ".local";
        const Json& l = entry["local"];
        if (!l.is_object()) return usage_error(w + ": must be a mapping");
        FRACTA_TRY(only_keys(l, w, {"command", "args", "env"}));
        b.local = true;
        FRACTA_TRY_ASSIGN(command, text(l, "command", w, true));
        b.command = command;
        if (l.contains("args")) {
            if (!l["args"].is_array()) return usage_error(w + ".args: must be a list of strings");
            for (const Json& a : l["args"]) {
                if (!a.is_string()) return usage_error(w + ".args: must be a list of strings");
                b.args.push_back(a.get<std::string>());
            }
        }
        FRACTA_TRY_ASSIGN(env, string_map(l, "env", w));
        b.env = env;
        return b;
    }
    const std::string w = where + ".remote";
    const Json& r = entry["remote"];
    if (!r.is_object()) return usage_error(w + ": must be a mapping");
    FRACTA_TRY(only_keys(r, w, {"url", "transport", "headers", "auth"}));
    FRACTA_TRY_ASSIGN(url, text(r, "url", w, true));
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        return usage_error(w + ".url: must be an http:// or https:// URL");
    b.url = url;
    FRACTA_TRY_ASSIGN(transport, text(r, "transport", w, false));
    if (!transport.empty()) b.transport = transport;
    if (b.transport != "streamable-http" && b.transport != "sse")
        return usage_error(w + ".transport: must be streamable-http or sse (got \"" + b.transport + "\")");
    FRACTA_TRY_ASSIGN(headers, string_map(r, "headers", w));
    b.headers = headers;
    if (r.contains("auth")) FRACTA_TRY(read_auth(r["auth"], w + ".auth", b));
    return b;
}

}  // namespace

Result<Settings> read_settings(const config::Config& config) {
    Settings s;
    const Json& root = config.document.root;
    const Json servers = root.is_object() && root.contains("mcp_servers") && root["mcp_servers"].is_object() &&
                                 root["mcp_servers"].contains("servers")
                             ? root["mcp_servers"]["servers"]
                             : Json();
    if (!servers.is_null() && !servers.is_object()) return usage_error("mcp_servers.servers: must be a mapping");
    if (servers.is_object())
        for (const auto& [id, entry] : servers.items()) {
            FRACTA_TRY_ASSIGN(b, read_backend(id, entry));
            s.backends.push_back(std::move(b));
        }
    std::sort(s.backends.begin(), s.backends.end(), [](const Backend& a, const Backend& b) { return a.id < b.id; });
    if (root.is_object() && root.contains("tool_policy")) {
        FRACTA_TRY_ASSIGN(p, parse_policy(root["tool_policy"], "tool_policy"));
        s.global_policy = p;
    }
    if (root.is_object() && root.contains("agents") && root["agents"].is_object()) {
        const Json& agents = root["agents"];
        if (agents.contains("agent_runtimes") && agents["agent_runtimes"].is_object())
            for (const auto& [name, rt] : agents["agent_runtimes"].items())
                if (rt.is_object() && rt.contains("tool_policy")) {
                    FRACTA_TRY_ASSIGN(p, parse_policy(rt["tool_policy"], "agents.agent_runtimes." + name + ".tool_policy"));
                    s.runtime_policies[name] = p;
                }
    }
    return s;
}

}  // namespace fracta::gw
