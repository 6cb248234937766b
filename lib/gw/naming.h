// naming.h — the names agents see for proxied tools: `<backend>__<tool>`,
// always prefixed, at most 64 characters of [A-Za-z0-9_-] (what LLM APIs
// accept). Characters outside that set become '_'; a name that would be too
// long, or that would collide with another, is cut and given a short hash
// of its full original name, so the same tool gets the same name on every
// gateway replica and after every restart.
#pragma once

#include <string>
#include <vector>

namespace fracta::gw {

inline constexpr size_t kMaxToolName = 64;

struct NamedTool {
    std::string backend, tool;  // as the backend calls it
    std::string exposed;        // what agents see
};

// Exposed names for every (backend, tool) pair, in a deterministic order
// (by backend, then tool). `reserved` names (fracta's own tools) are never
// produced.
std::vector<NamedTool> expose(std::vector<NamedTool> tools, const std::vector<std::string>& reserved = {});

}  // namespace fracta::gw
