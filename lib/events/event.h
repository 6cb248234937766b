// event.h — one entry of the event log, and the filter that selects entries,
// as they travel on the wire (spec: exec-provider.md, events contract).
//
// Decoding accepts what Gas City sends (Go field names in filters, seq 0, the
// zero time) as well as snake_case, and rejects what would break a reader
// later: a missing type, a bad time, an event too long for one watch line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/json.h"
#include "base/time.h"

namespace fracta::events {

// Watch lines must stay below 64 KiB (Go's default bufio.Scanner token).
inline constexpr size_t kMaxEventLine = 65535;

struct Event {
    uint64_t seq = 0;
    std::string ts;      // RFC 3339, as recorded
    std::string type;    // "<component>.<action>"
    std::string actor;
    std::string subject;
    std::string message;
    std::string payload;  // compact JSON, empty when absent
};

// Validate an event to record. A zero, empty or missing ts becomes `now`;
// an explicit one is kept verbatim (but must parse). seq is ignored.
Result<Event> event_from_json(const Json& value, Timestamp now);

// The wire form: seq, type, ts, actor, then subject/message/payload if set.
Json event_to_json(const Event& event);
std::string event_line(const Event& event);  // one compact line, no newline

struct Filter {
    uint64_t after_seq = 0;
    std::string type, actor, subject;  // empty: any
    std::optional<Timestamp> since;    // ts >= since, compared as times
    uint64_t limit = 0;                // 0: no limit
    bool newest = false;               // with limit: keep the newest N (still ascending)
};

// `{"Type","Actor","Since","AfterSeq"}` (Go) or snake_case, plus subject and
// limit. Zero values mean no filter. Empty input means no filter at all.
Result<Filter> filter_from_json(const Json& value);

}  // namespace fracta::events
