// time.h — RFC 3339 timestamps with nanoseconds over the whole 0001–9999
// range (Go's zero time, 0001-01-01T00:00:00Z, included), so that times sent
// by other programs can be parsed and compared, not compared as strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace fracta {

struct Timestamp {
    int64_t seconds = 0;  // since 1970-01-01T00:00:00Z; negative before
    int32_t nanos = 0;    // 0..999'999'999

    friend bool operator==(const Timestamp&, const Timestamp&) = default;
    friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// Go's time.Time{}: what "no time" looks like on the wire.
Timestamp zero_time();
Timestamp now();

// Accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` exactly as Go's
// time.RFC3339Nano parses it (what Gas City reads back): upper-case T and Z,
// no leap second; fraction digits beyond 9 are dropped.
Result<Timestamp> parse_rfc3339(std::string_view text);

// UTC, always 9 fraction digits: "2026-11-23T12:55:35.123456789Z". Fixed width,
// so these strings sort in time order.
std::string format_rfc3339(Timestamp t);

}  // namespace fracta
