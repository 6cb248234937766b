#include "config/yaml.h"

#include <yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <regex>

namespace fracta::yaml {
namespace {

// JSON pointer escaping (RFC 6901) for keys that hold '/' or '~'.
std::string pointer_token(const std::string& key) {
    std::string out;
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

Mark to_mark(const yaml_mark_t& m) { return {static_cast<int>(m.line) + 1, static_cast<int>(m.column) + 1}; }

// Resolve a plain (unquoted) scalar per the YAML 1.2 core schema.
Json resolve_plain(const std::string& s) {
    static const std::regex int_re("[-+]?[0-9]+");
    static const std::regex float_re("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    if (std::regex_match(s, int_re)) {
        errno = 0;
        long long v = std::strtoll(s.c_str(), nullptr, 10);
        if (errno != ERANGE) return v;
    }
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        char* end = nullptr;
        long long v = std::strtoll(s.c_str() + 2, &end, s[1] == 'x' ? 16 : 8);
        if (end && *end == '\0') return v;
    }
    if (std::regex_match(s, float_re)) return std::strtod(s.c_str(), nullptr);
    if (s == ".inf" || s == ".Inf" || s == "+.inf") return std::numeric_limits<double>::infinity();
    if (s == "-.inf" || s == "-.Inf") return -std::numeric_limits<double>::infinity();
    return s;
}

class Builder {
public:
    Builder(const std::string& file, const EnvLookup& env) : file_(file), env_(env) {
        yaml_parser_initialize(&parser_);
    }
    ~Builder() {
        if (have_event_) yaml_event_delete(&event_);
        yaml_parser_delete(&parser_);
    }
    Builder(const Builder&) = delete;
    Builder& operator=(const Builder&) = delete;

    Result<Document> run(std::string_view text) {
        yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
        Document doc;
        doc.file = file_;
        doc.root = Json::object();
        doc_ = &doc;
        // STREAM-START, then DOCUMENT-START or STREAM-END.
        FRACTA_TRY(next());
        FRACTA_TRY(next());
        if (event_.type == YAML_STREAM_END_EVENT) return doc;
        FRACTA_TRY(next());
        FRACTA_TRY_ASSIGN(root, node(""));
        if (!root.is_null()) doc.root = std::move(root);
        return doc;  // later documents in the stream are ignored
    }

private:
    Status next() {
        if (have_event_) yaml_event_delete(&event_);
        have_event_ = false;
        if (!yaml_parser_parse(&parser_, &event_)) {
            Mark m = to_mark(parser_.problem_mark);
            std::string what = parser_.problem ? parser_.problem : "syntax error";
            if (parser_.context) what = std::string(parser_.context) + ": " + what;
            return usage_error(at(m) + ": " + what);
        }
        have_event_ = true;
        return {};
    }

    std::string at(Mark m) const { return file_ + ":" + std::to_string(m.line) + ":" + std::to_string(m.column); }

    // Build the node starting at the current event; leaves the event after it current.
    Result<Json> node(const std::string& pointer) {
        Mark mark = to_mark(event_.start_mark);
        doc_->marks[pointer] = mark;
        std::string anchor;
        Json value;
        switch (event_.type) {
        case YAML_ALIAS_EVENT: {
            std::string name = reinterpret_cast<const char*>(event_.data.alias.anchor);
            auto it = anchors_.find(name);
            if (it == anchors_.end()) return usage_error(at(mark) + ": unknown alias *" + name);
            value = it->second;
            FRACTA_TRY(next());
            return value;
        }
        case YAML_SCALAR_EVENT: {
            if (event_.data.scalar.anchor) anchor = reinterpret_cast<const char*>(event_.data.scalar.anchor);
            std::string raw(reinterpret_cast<const char*>(event_.data.scalar.value), event_.data.scalar.length);
            auto expanded = expand_env(raw, env_);
            if (!expanded.ok()) return usage_error(at(mark) + ": " + expanded.error().message);
            bool plain = event_.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            value = plain ? resolve_plain(*expanded) : Json(*expanded);
            FRACTA_TRY(next());
            break;
        }
        case YAML_SEQUENCE_START_EVENT: {
            if (event_.data.sequence_start.anchor)
                anchor = reinterpret_cast<const char*>(event_.data.sequence_start.anchor);
            value = Json::array();
            FRACTA_TRY(next());
            while (event_.type != YAML_SEQUENCE_END_EVENT) {
                FRACTA_TRY_ASSIGN(item, node(pointer + "/" + std::to_string(value.size())));
                value.push_back(std::move(item));
            }
            FRACTA_TRY(next());
            break;
        }
        case YAML_MAPPING_START_EVENT: {
            if (event_.data.mapping_start.anchor)
                anchor = reinterpret_cast<const char*>(event_.data.mapping_start.anchor);
            value = Json::object();
            FRACTA_TRY(next());
            while (event_.type != YAML_MAPPING_END_EVENT) {
                Mark key_mark = to_mark(event_.start_mark);
                if (event_.type != YAML_SCALAR_EVENT) return usage_error(at(key_mark) + ": mapping keys must be scalars");
                std::string key(reinterpret_cast<const char*>(event_.data.scalar.value), event_.data.scalar.length);
                if (value.contains(key)) return usage_error(at(key_mark) + ": duplicate key \"" + key + "\"");
                FRACTA_TRY(next());
                std::string child = pointer + "/" + pointer_token(key);
                FRACTA_TRY_ASSIGN(item, node(child));
                doc_->marks[child] = key_mark;  // errors about a key point at the key
                value[key] = std::move(item);
            }
            FRACTA_TRY(next());
            break;
        }
        default:
            return usage_error(at(mark) + ": unexpected YAML event");
        }
        if (!anchor.empty()) anchors_[anchor] = value;
        return value;
    }

    std::string file_;
    const EnvLookup& env_;
    yaml_parser_t parser_;
    yaml_event_t event_{};
    bool have_event_ = false;
    Document* doc_ = nullptr;
    std::map<std::string, Json> anchors_;
};

}  // namespace

std::string Document::where(const std::string& pointer) const {
    std::string p = pointer;
    for (;;) {
        auto it = marks.find(p);
        if (it != marks.end())
            return file + ":" + std::to_string(it->second.line) + ":" + std::to_string(it->second.column);
        if (p.empty()) return file;
        p = p.substr(0, p.rfind('/'));
    }
}

EnvLookup process_env() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (!v) return std::nullopt;
        return std::string(v);
    };
}

Result<std::string> expand_env(std::string_view text, const EnvLookup& env) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c != '$' || i + 1 >= text.size()) {
            out += c;
            continue;
        }
        if (text[i + 1] == '$') {
            out += '$';
            ++i;
            continue;
        }
        if (text[i + 1] != '{') {
            out += c;
            continue;
        }
        size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) return usage_error("unterminated ${ in \"" + std::string(text) + "\"");
        std::string_view inner = text.substr(i + 2, close - i - 2);
        std::string name(inner), fallback;
        bool has_default = false;
        if (auto sep = inner.find(":-"); sep != std::string_view::npos) {
            name = std::string(inner.substr(0, sep));
            fallback = std::string(inner.substr(sep + 2));
            has_default = true;
        }
        static const std::regex name_re("[A-Za-z_][A-Za-z0-9_]*");
        if (!std::regex_match(name, name_re)) return usage_error("bad variable name \"${" + std::string(inner) + "}\"");
        std::optional<std::string> value = env(name);
        if ((!value || value->empty()) && has_default) value = fallback;
        out += value.value_or("");
        i = close;
    }
    return out;
}

Result<Document> parse(std::string_view text, const std::string& file, const EnvLookup& env) {
    Builder builder(file, env);
    return builder.run(text);
}

Result<Document> load_file(const std::string& path, const EnvLookup& env) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return usage_error("cannot read " + path + ": " + std::strerror(errno));
    // Read no further than the cap: a huge file or a device (/dev/zero) is
    // refused, not read whole.
    constexpr size_t kMax = size_t{4} << 20;
    std::string text;
    char chunk[65536];
    while (text.size() <= kMax && in.read(chunk, sizeof chunk).gcount() > 0) text.append(chunk, in.gcount());
    if (text.size() > kMax) return usage_error(path + ": file too large");
    return parse(text, path, env);
}

}  // namespace fracta::yaml
