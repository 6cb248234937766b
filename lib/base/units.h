// units.h — the duration and size notations of fracta.yaml and the flags:
// durations `500ms`, `30s`, `10m`, `4h`, `1d` (and sums like `1h30m`),
// sizes `512Mi`, `2Gi`, `64k`, `1048576`.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace fracta {

using Duration = std::chrono::nanoseconds;

Result<Duration> parse_duration(std::string_view text);
std::string format_duration(Duration d);  // largest exact unit: "90s" → "90s", "2h"

Result<uint64_t> parse_size(std::string_view text);

}  // namespace fracta
