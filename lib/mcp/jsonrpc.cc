// jsonrpc.cc — decoding and encoding of JSON-RPC 2.0 messages (see jsonrpc.h).
#include "mcp/jsonrpc.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fracta::mcp {

const std::vector<std::string>& legacy_versions() {
    static const std::vector<std::string> v = {std::string(kVersion20241105), std::string(kVersion20250326),
                                               std::string(kVersion20250618), std::string(kVersion20251125)};
    return v;
}

const std::vector<std::string>& modern_versions() {
    static const std::vector<std::string> v = {std::string(kVersion20260728)};
    return v;
}

bool is_legacy_version(std::string_view version) {
    const auto& v = legacy_versions();
    return std::find(v.begin(), v.end(), version) != v.end();
}

bool is_modern_version(std::string_view version) {
    const auto& v = modern_versions();
    return std::find(v.begin(), v.end(), version) != v.end();
}

bool batch_allowed(std::string_view version) {
    return version == kVersion20250326;
}

// --- Id -----------------------------------------------------------------------------

Result<Id> Id::from_json(const Json& value, bool allow_null) {
    if (value.is_string()) return Id(value.get<std::string>());
    if (value.is_number_integer()) {
        if (value.is_number_unsigned() &&
            value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            return usage_error("id is out of range");
        return Id(static_cast<long long>(value.get<int64_t>()));
    }
    if (value.is_number_float()) {
        double d = value.get<double>();
        // 7.0 is the integer 7 written by a sloppy encoder; 7.5 is not an id.
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return Id(static_cast<long long>(d));
        return usage_error("id must be a string or an integer");
    }
    if (value.is_null() && allow_null) return Id();
    if (value.is_null()) return usage_error("id must not be null");
    return usage_error("id must be a string or an integer");
}

Json Id::to_json() const {
    switch (v_.index()) {
        case 1:
            return std::get<1>(v_);
        case 2:
            return std::get<2>(v_);
        default:
            return nullptr;
    }
}

std::string Id::str() const {
    switch (v_.index()) {
        case 1:
            return std::to_string(std::get<1>(v_));
        case 2:
            return Json(std::get<2>(v_)).dump(-1, ' ', false, Json::error_handler_t::replace);
        default:
            return "null";
    }
}

// --- RpcError ------------------------------------------------------------------------

Json RpcError::to_json() const {
    Json j = Json::object();
    j["code"] = code;
    j["message"] = message;
    if (!data.is_null()) j["data"] = data;
    return j;
}

Result<RpcError> RpcError::from_json(const Json& value) {
    if (!value.is_object()) return usage_error("error must be an object");
    auto code = value.find("code");
    if (code == value.end() || !code->is_number_integer()) return usage_error("error.code must be an integer");
    auto message = value.find("message");
    if (message == value.end() || !message->is_string()) return usage_error("error.message must be a string");
    RpcError e;
    e.code = code->get<int>();
    e.message = message->get<std::string>();
    if (auto data = value.find("data"); data != value.end()) e.data = *data;
    return e;
}

// --- Message ----------------------------------------------------------------------------

Message Message::request(Id id, std::string method, Json params) {
    return {.kind = Kind::Request, .id = std::move(id), .method = std::move(method), .params = std::move(params)};
}

Message Message::notification(std::string method, Json params) {
    return {.kind = Kind::Notification, .method = std::move(method), .params = std::move(params)};
}

Message Message::response(Id id, Json result) {
    return {.kind = Kind::Result, .id = std::move(id), .result = std::move(result)};
}

Message Message::failure(Id id, RpcError error) {
    return {.kind = Kind::Error, .id = std::move(id), .error = std::move(error)};
}

Json Message::to_json() const {
    switch (kind) {
        case Kind::Request:
            return make_request(id, method, params);
        case Kind::Notification:
            return make_notification(method, params);
        case Kind::Result:
            return make_result(id, result);
        case Kind::Error:
            return make_error(id, error.code, error.message, error.data);
    }
    return nullptr;
}

Result<Message> parse_message(const Json& value) {
    if (!value.is_object()) return usage_error("a message must be a JSON object");
    auto version = value.find("jsonrpc");
    if (version == value.end() || !version->is_string() || version->get<std::string>() != "2.0")
        return usage_error("jsonrpc must be \"2.0\"");

    auto id = value.find("id");
    auto method = value.find("method");
    auto result = value.find("result");
    auto error = value.find("error");

    if (method != value.end()) {
        if (!method->is_string()) return usage_error("method must be a string");
        if (result != value.end() || error != value.end())
            return usage_error("a request must not carry result or error");
        Json params;
        if (auto given = value.find("params"); given != value.end()) {
            if (!given->is_object() && !given->is_array() && !given->is_null())
                return usage_error("params must be an object or an array");
            params = *given;
        }
        if (id == value.end()) return Message::notification(method->get<std::string>(), std::move(params));
        FRACTA_TRY_ASSIGN(request_id, Id::from_json(*id));
        return Message::request(std::move(request_id), method->get<std::string>(), std::move(params));
    }

    if (result == value.end() && error == value.end())
        return usage_error("a message needs a method, a result or an error");
    if (result != value.end() && error != value.end())
        return usage_error("a response must not carry both result and error");
    if (id == value.end()) return usage_error("a response needs an id");
    FRACTA_TRY_ASSIGN(response_id, Id::from_json(*id, /*allow_null=*/error != value.end()));
    if (result != value.end()) return Message::response(std::move(response_id), *result);
    FRACTA_TRY_ASSIGN(rpc_error, RpcError::from_json(*error));
    return Message::failure(std::move(response_id), std::move(rpc_error));
}

Id id_for_error(const Json& value) {
    if (!value.is_object()) return Id();
    auto id = value.find("id");
    if (id == value.end()) return Id();
    auto parsed = Id::from_json(*id, true);
    return parsed ? std::move(parsed).value() : Id();
}

Result<Json> parse_payload(std::string_view text, size_t max_bytes) {
    return parse_json(text, max_bytes);
}

bool is_batch(const Json& payload) {
    return payload.is_array();
}

Result<std::vector<Json>> batch_members(const Json& payload, std::string_view version) {
    if (!payload.is_array()) return usage_error("not a batch");
    if (!batch_allowed(version)) {
        std::string v = version.empty() ? std::string("this session") : "protocol " + std::string(version);
        return usage_error("batches are not supported in " + v);
    }
    if (payload.empty()) return usage_error("empty batch");
    return std::vector<Json>(payload.begin(), payload.end());
}

// --- builders ---------------------------------------------------------------------------

Json make_request(const Id& id, const std::string& method, const Json& params) {
    Json j = Json::object();
    j["jsonrpc"] = "2.0";
    j["id"] = id.to_json();
    j["method"] = method;
    if (!params.is_null()) j["params"] = params;
    return j;
}

Json make_notification(const std::string& method, const Json& params) {
    Json j = Json::object();
    j["jsonrpc"] = "2.0";
    j["method"] = method;
    if (!params.is_null()) j["params"] = params;
    return j;
}

Json make_result(const Id& id, const Json& result) {
    Json j = Json::object();
    j["jsonrpc"] = "2.0";
    j["id"] = id.to_json();
    j["result"] = result.is_null() ? Json::object() : result;
    return j;
}

Json make_error(const Id& id, int code, const std::string& message, const Json& data) {
    Json j = Json::object();
    j["jsonrpc"] = "2.0";
    j["id"] = id.to_json();
    j["error"] = RpcError{code, message, data}.to_json();
    return j;
}

}  // namespace fracta::mcp
