// json.h — JSON values (nlohmann's, insertion-ordered so output keys keep the
// order we write them in) and a parser that never throws and caps sizes.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "base/result.h"

namespace fracta {

using Json = nlohmann::ordered_json;

inline constexpr size_t kMaxJsonInput = 1u << 20;  // 1 MiB, the contract's cap

// Parse `text` as one JSON value. Input over `max_bytes` or malformed JSON is
// a usage error that says where it broke ("line 1, column 5: …").
Result<Json> parse_json(std::string_view text, size_t max_bytes = kMaxJsonInput);

// Compact one-line serialisation; invalid UTF-8 is replaced, never thrown.
std::string to_line(const Json& value);

// Typed field access for decoded objects: a missing or null key yields the
// fallback; a key of the wrong type is a usage error naming it.
Result<std::string> string_field(const Json& object, const std::string& key,
                                 const std::string& fallback = "");
Result<long long> int_field(const Json& object, const std::string& key, long long fallback = 0);

}  // namespace fracta
