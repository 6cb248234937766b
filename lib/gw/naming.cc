#include "gw/naming.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/sha256.h"

namespace fracta::gw {
namespace {

std::string sanitize(const std::string& s) {
    std::string out = s;
    for (char& c : out)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
    return out;
}

// `base` cut to fit with "_" + 8 hex digits of the original's hash.
std::string hashed(const std::string& base, const std::string& original) {
    const std::string suffix = "_" + sha256_hex(original).substr(0, 8);
    return base.substr(0, kMaxToolName - suffix.size()) + suffix;
}

}  // namespace

std::vector<NamedTool> expose(std::vector<NamedTool> tools, const std::vector<std::string>& reserved) {
    std::sort(tools.begin(), tools.end(), [](const NamedTool& a, const NamedTool& b) {
        return a.backend != b.backend ? a.backend < b.backend : a.tool < b.tool;
    });
    std::set<std::string> taken(reserved.begin(), reserved.end());
    // First pass: the plain names that fit and are unique as they stand.
    std::vector<std::string> plain;
    std::map<std::string, int> count;
    for (const auto& t : tools) {
        plain.push_back(sanitize(t.backend) + "__" + sanitize(t.tool));
        ++count[plain.back()];
    }
    for (size_t i = 0; i < tools.size(); ++i) {
        const std::string original = tools[i].backend + "__" + tools[i].tool;
        const std::string& p = plain[i];
        const bool fits = p.size() <= kMaxToolName && count[p] == 1 && !taken.count(p);
        std::string name = fits ? p : hashed(p, original);
        for (int salt = 1; taken.count(name); ++salt) name = hashed(p, original + "#" + std::to_string(salt));
        taken.insert(name);
        tools[i].exposed = name;
    }
    return tools;
}

}  // namespace fracta::gw
