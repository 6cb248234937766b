// text.h — small text helpers more than one module needs, spelled once.
#pragma once

#include <string>

namespace fracta {

// ASCII lower case (header names, event types, URL schemes).
std::string lower(std::string s);

}  // namespace fracta
