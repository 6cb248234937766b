// format.h — `--format text`: the control plane's JSON answers as people read
// them (a table of agents, key: value lines, one line per event). JSON output
// needs no help: it is the API's own answer, one compact line.
#pragma once

#include <string>

#include "base/json.h"
#include "base/time.h"

namespace fracta::front {

// NAME STATUS RUNTIME MODE BRANCH AGE, one agent per row, columns aligned.
// AGE counts from created_at to `now`.
std::string agent_table(const Json& agents, Timestamp now);

// One "key: value" line per field of an object; empty and null values are
// left out, nested values shown as compact JSON, multi-line text indented
// under its key.
std::string key_values(const Json& object);

// An event of the watch stream: "seq  ts  type  message".
std::string event_line(const Json& event);

// The watch stream's first line: "name  status  runtime  mode  branch".
std::string snapshot_line(const Json& agent);

// How long ago `rfc3339` was, in the largest whole unit: "45s", "12m", "3h",
// "2d"; "-" when it is empty or unreadable.
std::string age(const std::string& rfc3339, Timestamp now);

// A JSON value as text: strings raw, everything else compact JSON.
std::string text_of(const Json& value);

}  // namespace fracta::front
