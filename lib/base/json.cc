#include "base/json.h"

namespace fracta {

Result<Json> parse_json(std::string_view text, size_t max_bytes) {
    if (text.size() > max_bytes)
        return usage_error("input too large: " + std::to_string(text.size()) + " bytes (limit " +
                           std::to_string(max_bytes) + ")");
    try {
        return Json::parse(text.begin(), text.end());
    } catch (const Json::exception& e) {
        // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
        std::string why = e.what();
        if (auto pos = why.find("] "); pos != std::string::npos) why = why.substr(pos + 2);
        return usage_error("malformed JSON: " + why);
    }
}

std::string to_line(const Json& value) {
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<std::string> string_field(const Json& object, const std::string& key,
                                 const std::string& fallback) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return fallback;
    if (!it->is_string()) return usage_error("\"" + key + "\" must be a string");
    return it->get<std::string>();
}

Result<long long> int_field(const Json& object, const std::string& key, long long fallback) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return fallback;
    if (it->is_number_unsigned()) {
        auto v = it->get<unsigned long long>();
        if (v > static_cast<unsigned long long>(INT64_MAX)) return usage_error("\"" + key + "\" is out of range");
        return static_cast<long long>(v);
    }
    if (!it->is_number_integer()) return usage_error("\"" + key + "\" must be an integer");
    return it->get<long long>();
}

}  // namespace fracta
