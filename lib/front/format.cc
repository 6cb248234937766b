#include "front/format.h"

#include "base/text.h"

#include <algorithm>
#include <vector>

namespace fracta::front {
namespace {

std::string field(const Json& object, const char* key) {
    if (!object.is_object()) return "";
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? "" : text_of(*it);
}

std::string or_dash(std::string s) {
    return s.empty() ? "-" : s;
}

}  // namespace

std::string text_of(const Json& value) {
    if (value.is_string()) return value.get<std::string>();
    return to_line(value);
}

std::string age(const std::string& rfc3339, Timestamp now) {
    if (rfc3339.empty()) return "-";
    auto then = parse_rfc3339(rfc3339);
    if (!then.ok()) return "-";
    int64_t s = now.seconds - then->seconds;
    if (s < 0) s = 0;  // clocks of two machines disagree: "just now"
    if (s < 120) return std::to_string(s) + "s";
    if (s < 2 * 3600) return std::to_string(s / 60) + "m";
    if (s < 2 * 86400) return std::to_string(s / 3600) + "h";
    return std::to_string(s / 86400) + "d";
}

std::string agent_table(const Json& agents, Timestamp now) {
    std::vector<std::vector<std::string>> rows = {{"NAME", "STATUS", "RUNTIME", "MODE", "BRANCH", "AGE", "INTENT"}};
    if (agents.is_array())
        for (const Json& a : agents)
            rows.push_back({or_dash(field(a, "name")), or_dash(field(a, "status")), or_dash(field(a, "runtime")),
                            or_dash(field(a, "mode")), or_dash(field(a, "branch")), age(field(a, "created_at"), now),
                            field(a, "current_intent")});
    std::vector<size_t> width(rows[0].size(), 0);
    for (const auto& row : rows)
        for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
        }
        line.erase(line.find_last_not_of(' ') + 1);  // an empty last column leaves no trailing blanks
        out += line + "\n";
    }
    return out;
}

std::string key_values(const Json& object) {
    if (!object.is_object()) return text_of(object) + "\n";
    std::string out;
    for (const auto& [key, value] : object.items()) {
        if (value.is_null() || value.empty() || (value.is_string() && value.get<std::string>().empty())) continue;
        std::string text = text_of(value);
        if (text.find('\n') == std::string::npos) {
            out += key + ": " + text + "\n";
            continue;
        }
        // Multi-line text (last_output): its lines indented under the key.
        out += key + ":\n";
        std::vector<std::string> lines = split(text, '\n');
        for (size_t i = 0; i < lines.size(); ++i) {
            if (!lines[i].empty())
                out += "  " + lines[i] + "\n";
            else if (i + 1 < lines.size())
                out += "\n";  // a blank line inside the text
        }
    }
    return out;
}

std::string event_line(const Json& event) {
    std::string line =
        or_dash(field(event, "seq")) + "  " + or_dash(field(event, "ts")) + "  " + or_dash(field(event, "type"));
    std::string message = field(event, "message");
    std::replace(message.begin(), message.end(), '\n', ' ');
    if (!message.empty()) line += "  " + message;
    return line + "\n";
}

std::string snapshot_line(const Json& agent) {
    return or_dash(field(agent, "name")) + "  " + or_dash(field(agent, "status")) + "  " +
           or_dash(field(agent, "runtime")) + "  " + or_dash(field(agent, "mode")) + "  " +
           or_dash(field(agent, "branch")) + "\n";
}

}  // namespace fracta::front
