#include "gw/policy.h"

namespace fracta::gw {
namespace {

bool admits(const ToolPolicy& p, const std::string& tool) {
    for (const auto& d : p.deny)
        if (pattern_matches(d, tool)) return false;
    if (p.allow_only.empty()) return true;
    for (const auto& a : p.allow_only)
        if (pattern_matches(a, tool)) return true;
    return false;
}

Result<std::vector<std::string>> patterns(const Json& value, const std::string& where) {
    std::vector<std::string> out;
    if (value.is_null()) return out;
    if (!value.is_array()) return usage_error(where + ": must be a list of tool name patterns");
    for (const Json& item : value) {
        if (!item.is_string() || item.get<std::string>().empty())
            return usage_error(where + ": must be a list of tool name patterns");
        const std::string p = item.get<std::string>();
        if (p.find('*') != std::string::npos && p.find('*') != p.size() - 1)
            return usage_error(where + ": \"" + p + "\": '*' may only end a pattern");
        out.push_back(p);
    }
    return out;
}

}  // namespace

bool pattern_matches(const std::string& pattern, const std::string& name) {
    if (!pattern.empty() && pattern.back() == '*') return name.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
    return pattern == name;
}

bool allowed(const std::string& tool, const ToolPolicy& global, const ToolPolicy& runtime) {
    return admits(global, tool) && admits(runtime, tool);
}

Result<ToolPolicy> parse_policy(const Json& value, const std::string& where) {
    ToolPolicy p;
    if (value.is_null()) return p;
    if (!value.is_object()) return usage_error(where + ": must be a mapping with allow_only and deny");
    for (const auto& [key, item] : value.items()) {
        if (key == "allow_only") {
            FRACTA_TRY_ASSIGN(list, patterns(item, where + ".allow_only"));
            p.allow_only = std::move(list);
        } else if (key == "deny") {
            FRACTA_TRY_ASSIGN(list, patterns(item, where + ".deny"));
            p.deny = std::move(list);
        } else {
            return usage_error(where + "." + key + ": unknown key (allow_only, deny)");
        }
    }
    return p;
}

}  // namespace fracta::gw
