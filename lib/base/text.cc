#include "base/text.h"

#include <cctype>

namespace fracta {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> pieces;
    for (size_t start = 0;;) {
        size_t end = s.find(sep, start);
        pieces.emplace_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) return pieces;
        start = end + 1;
    }
}

}  // namespace fracta
