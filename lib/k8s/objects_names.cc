#include "k8s/objects_names.h"

#include <vector>

#include "base/sha256.h"
#include "base/text.h"
#include "session/session_dir.h"

namespace fracta::k8s {
namespace {

constexpr size_t kHashLength = 8;
constexpr size_t kMaxDnsPart = 63 - 14;  // the longest prefix is "fracta-stream-" / "fracta-config-"

bool alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string short_hash(std::string_view raw) {
    return sha256_hex(raw).substr(0, kHashLength);
}

// Trim characters that may not start or end the name.
std::string trim_edges(std::string s) {
    size_t b = 0, e = s.size();
    while (b < e && !alnum(s[b])) ++b;
    while (e > b && !alnum(s[e - 1])) --e;
    return s.substr(b, e - b);
}

std::string with_hash(std::string s, std::string_view raw, size_t max) {
    s = trim_edges(s.substr(0, max - kHashLength - 1));
    return s.empty() ? short_hash(raw) : s + "-" + short_hash(raw);
}

const char kHex[] = "0123456789abcdef";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string escape_byte(char c) {
    auto u = static_cast<unsigned char>(c);
    return std::string{'_', kHex[u >> 4], kHex[u & 15]};
}

// One path component (not empty, not "." or ".."), encoded so that the
// result never holds "--", never starts or ends with '-', and starts with
// "dot-" only for a component that started with '.'.
std::string encode_component(const std::string& c) {
    std::string out;
    std::string_view rest = c;
    bool dotted = c[0] == '.';
    if (dotted) {
        out = "dot-";
        rest.remove_prefix(1);
    }
    for (size_t i = 0; i < rest.size(); ++i) {
        char ch = rest[i];
        if (alnum(ch) || ch == '.') {
            out += ch;
        } else if (ch == '-') {
            bool plain = i > 0 && i + 1 < rest.size() && rest[i - 1] != '-' && rest[i + 1] != '-' &&
                         !(!dotted && i == 3 && rest.substr(0, 3) == "dot");
            out += plain ? std::string("-") : escape_byte(ch);
        } else {
            out += escape_byte(ch);
        }
    }
    return out;
}

Result<std::string> unescape(std::string_view s, const std::string& key) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        char ch = s[i];
        if (ch == '_') {
            int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) return usage_error("bad workspace file key \"" + key + "\": stray '_'");
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (alnum(ch) || ch == '.' || ch == '-') {
            out += ch;
        } else {
            return usage_error("bad workspace file key \"" + key + "\": unexpected character");
        }
    }
    return out;
}

}  // namespace

std::string dns_label_name(std::string_view raw, size_t max) {
    std::string s;
    for (char c : raw) {
        if (c >= 'A' && c <= 'Z')
            s += static_cast<char>(c - 'A' + 'a');
        else if (alnum(c) || c == '-')
            s += c;
        else
            s += '-';
    }
    s = trim_edges(s);
    if (s == raw && !s.empty() && s.size() <= max) return s;
    return with_hash(s, raw, max);
}

bool valid_label_value(std::string_view v) {
    if (v.empty()) return true;
    if (v.size() > kMaxLabelValue || !alnum(v.front()) || !alnum(v.back())) return false;
    for (char c : v)
        if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
    return true;
}

std::string label_value_name(std::string_view raw) {
    if (!raw.empty() && valid_label_value(raw)) return std::string(raw);
    std::string s;
    for (char c : raw) s += (alnum(c) || c == '-' || c == '_' || c == '.') ? c : '-';
    return with_hash(trim_edges(s), raw, kMaxLabelValue);
}

bool valid_qualified_key(std::string_view key) {
    std::string_view name = key;
    if (size_t slash = key.find('/'); slash != std::string_view::npos) {
        std::string_view prefix = key.substr(0, slash);
        name = key.substr(slash + 1);
        if (prefix.empty() || prefix.size() > 253) return false;
        // a DNS subdomain: dot-separated lower-case labels
        for (const std::string& label : split(prefix, '.')) {
            if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
            for (char c : label)
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
        }
    }
    return !name.empty() && valid_label_value(name);
}

bool valid_object_name(std::string_view n) {
    if (n.empty() || n.size() > 253 || n.front() == '-' || n.back() == '-') return false;
    for (char c : n)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
    return true;
}

bool valid_secret_key(std::string_view key) {
    if (key.empty() || key.size() > 253) return false;
    for (char c : key)
        if (!(alnum(c) || c == '-' || c == '_' || c == '.')) return false;
    return true;
}

Result<ObjectNames> object_names(const std::string& raw) {
    FRACTA_TRY(session::validate_name(raw));
    ObjectNames n;
    n.raw = raw;
    n.dns = dns_label_name(raw, kMaxDnsPart);
    n.label = label_value_name(raw);
    n.config_map = "fracta-config-" + n.dns;
    n.secret = "fracta-auth-" + n.dns;
    n.job = "fracta-agent-" + n.dns;
    n.pod = "fracta-stream-" + n.dns;
    return n;
}

Result<std::string> encode_file_key(const std::string& path) {
    if (path.empty() || path[0] == '/') return usage_error("workspace file path \"" + path + "\" must be relative");
    if (path.find('\0') != std::string::npos) return usage_error("workspace file path holds a NUL byte");
    std::string key;
    for (const std::string& part : split(path, '/')) {
        if (part == "..") return usage_error("workspace file path \"" + path + "\" leaves the workdir");
        if (!part.empty() && part != ".") key += (key.empty() ? "" : "--") + encode_component(part);
    }
    if (key.empty()) return usage_error("workspace file path \"" + path + "\" names no file");
    if (key.size() > kMaxConfigMapKey)
        return usage_error("workspace file path \"" + path + "\" is too long for a ConfigMap key (" +
                           std::to_string(key.size()) + " > " + std::to_string(kMaxConfigMapKey) + " once encoded)");
    return key;
}

Result<std::string> decode_file_key(const std::string& key) {
    std::string path;
    size_t start = 0;
    for (;;) {
        size_t sep = key.find("--", start);
        std::string_view comp =
            std::string_view(key).substr(start, sep == std::string::npos ? std::string::npos : sep - start);
        if (comp.empty()) return usage_error("bad workspace file key \"" + key + "\": empty path component");
        bool dotted = comp.substr(0, 4) == "dot-";
        if (dotted) comp.remove_prefix(4);
        FRACTA_TRY_ASSIGN(part, unescape(comp, key));
        if (!path.empty()) path += '/';
        path += (dotted ? "." : "") + part;
        if (sep == std::string::npos) break;
        start = sep + 2;
    }
    // Only keys encode_file_key produces decode: anything else (a '-' it
    // would have escaped, an escape it would not have made) is refused.
    auto again = encode_file_key(path);
    if (!again.ok() || *again != key) return usage_error("bad workspace file key \"" + key + "\": not canonical");
    return path;
}

Result<std::map<std::string, std::string>> decode_file_keys(const std::map<std::string, std::string>& entries) {
    std::map<std::string, std::string> files;
    for (const auto& [key, content] : entries) {
        if (!key.empty() && key[0] == '.') continue;  // the kubelet's ..data and timestamped directories
        FRACTA_TRY_ASSIGN(path, decode_file_key(key));
        files[path] = content;
    }
    return files;
}

Result<std::string> secret_value(const Json& secret, const std::string& key) {
    if (auto d = secret.find("data"); d != secret.end() && d->is_object()) {
        if (auto v = d->find(key); v != d->end() && v->is_string()) return base64_decode(v->get<std::string>());
    }
    if (auto d = secret.find("stringData"); d != secret.end() && d->is_object()) {
        if (auto v = d->find(key); v != d->end() && v->is_string()) return v->get<std::string>();
    }
    return failure("secret has no key \"" + key + "\"");
}

}  // namespace fracta::k8s
