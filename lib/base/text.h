// text.h — small text helpers more than one module needs, spelled once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fracta {

// ASCII lower case (header names, event types, URL schemes).
std::string lower(std::string s);

// The pieces of `s` between the `sep`s, empty ones too: "a,,b" → a, "", b;
// "" → one empty piece.
std::vector<std::string> split(std::string_view s, char sep);

}  // namespace fracta
