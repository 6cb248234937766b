#include "base/units.h"

#include <algorithm>
#include <limits>

namespace fracta {
namespace {

bool read_number(std::string_view s, size_t& pos, uint64_t& out) {
    size_t start = pos;
    out = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        uint64_t digit = static_cast<uint64_t>(s[pos] - '0');
        if (out > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
        out = out * 10 + digit;
        ++pos;
    }
    return pos > start;
}

}  // namespace

Result<Duration> parse_duration(std::string_view s) {
    auto bad = [&] {
        return usage_error("not a duration: \"" + std::string(s) + "\" (use e.g. 500ms, 30s, 10m, 4h, 1d)");
    };
    static const struct { std::string_view unit; int64_t ns; } units[] = {
        {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000LL},
        {"m", 60LL * 1000000000}, {"h", 3600LL * 1000000000}, {"d", 86400LL * 1000000000},
    };
    if (s.empty()) return bad();
    if (s == "0") return Duration(0);
    size_t pos = 0;
    int64_t total = 0;
    while (pos < s.size()) {
        uint64_t n;
        if (!read_number(s, pos, n)) return bad();
        size_t end = pos;
        while (end < s.size() && (s[end] < '0' || s[end] > '9')) ++end;
        std::string_view unit = s.substr(pos, end - pos);
        pos = end;
        const auto* match = std::find_if(std::begin(units), std::end(units),
                                         [&](const auto& u) { return u.unit == unit; });
        if (match == std::end(units)) return bad();
        if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / match->ns)) return bad();
        int64_t part = static_cast<int64_t>(n) * match->ns;
        if (total > std::numeric_limits<int64_t>::max() - part) return bad();
        total += part;
    }
    return Duration(total);
}

std::string format_duration(Duration d) {
    static const struct { const char* unit; int64_t ns; } units[] = {
        {"d", 86400LL * 1000000000}, {"h", 3600LL * 1000000000}, {"m", 60LL * 1000000000},
        {"s", 1000000000LL}, {"ms", 1000000}, {"us", 1000}, {"ns", 1},
    };
    int64_t ns = d.count();
    if (ns == 0) return "0s";
    for (const auto& u : units)
        if (ns % u.ns == 0) return std::to_string(ns / u.ns) + u.unit;
    return std::to_string(ns) + "ns";
}

Result<uint64_t> parse_size(std::string_view s) {
    auto bad = [&] { return usage_error("not a size: \"" + std::string(s) + "\" (use e.g. 512Mi, 2Gi, 64k)"); };
    static const struct { std::string_view unit; uint64_t factor; } units[] = {
        {"", 1}, {"B", 1},
        {"k", 1000}, {"K", 1000}, {"M", 1000000}, {"G", 1000000000}, {"T", 1000000000000},
        {"Ki", 1ULL << 10}, {"Mi", 1ULL << 20}, {"Gi", 1ULL << 30}, {"Ti", 1ULL << 40},
        {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}, {"TiB", 1ULL << 40},
    };
    size_t pos = 0;
    uint64_t n;
    if (!read_number(s, pos, n)) return bad();
    std::string_view unit = s.substr(pos);
    for (const auto& u : units) {
        if (u.unit != unit) continue;
        if (n > std::numeric_limits<uint64_t>::max() / u.factor) return bad();
        return n * u.factor;
    }
    return bad();
}

}  // namespace fracta
