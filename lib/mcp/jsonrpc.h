// jsonrpc.h — JSON-RPC 2.0 messages as MCP frames them, shared by the MCP
// server and client sides and every transport.
//
// A Message is one request, notification or response, decoded from (or
// encoded to) one JSON object. Decoding is strict where the spec is: the
// "jsonrpc" member must be "2.0", an id is a string or an integer (never null
// on a request), a method is a string, a response carries exactly one of
// result/error. Batches (JSON arrays) exist only in protocol 2025-03-26. The
// protocol constants both sides need (error codes, revision strings, the
// reserved _meta keys and HTTP header names) live here too, so the client and
// the server agree on them by construction.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace fracta::mcp {

// --- error codes --------------------------------------------------------------
inline constexpr int kParseError = -32700;      // not JSON
inline constexpr int kInvalidRequest = -32600;  // JSON, but not a valid message
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kConnectionClosed = -32000;                 // legacy implementation range (SDK v1's usage)
inline constexpr int kRequestTimeout = -32001;                   // legacy implementation range (SDK v1's usage)
inline constexpr int kHeaderMismatch = -32020;                   // 2026: Mcp-* header disagrees with the body
inline constexpr int kMissingRequiredClientCapability = -32021;  // 2026: data.requiredCapabilities
inline constexpr int kUnsupportedProtocolVersion = -32022;       // 2026: data{supported, requested}

// --- protocol revisions ---------------------------------------------------------
inline constexpr std::string_view kVersion20241105 = "2024-11-05";
inline constexpr std::string_view kVersion20250326 = "2025-03-26";
inline constexpr std::string_view kVersion20250618 = "2025-06-18";
inline constexpr std::string_view kVersion20251125 = "2025-11-25";
inline constexpr std::string_view kVersion20260728 = "2026-07-28";
inline constexpr std::string_view kLatestLegacyVersion = kVersion20251125;
inline constexpr std::string_view kLatestVersion = kVersion20260728;

// Legacy revisions (initialize handshake), oldest first.
const std::vector<std::string>& legacy_versions();
// Modern revisions (stateless, _meta on every request), oldest first.
const std::vector<std::string>& modern_versions();
bool is_legacy_version(std::string_view version);
bool is_modern_version(std::string_view version);
// Whether a peer speaking `version` may send JSON-RPC batches (only 2025-03-26).
bool batch_allowed(std::string_view version);

// --- reserved _meta keys and HTTP headers ---------------------------------------
inline constexpr const char* kMetaProtocolVersion = "io.modelcontextprotocol/protocolVersion";
inline constexpr const char* kMetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities";
inline constexpr const char* kMetaClientInfo = "io.modelcontextprotocol/clientInfo";
inline constexpr const char* kMetaLogLevel = "io.modelcontextprotocol/logLevel";
inline constexpr const char* kMetaServerInfo = "io.modelcontextprotocol/serverInfo";
inline constexpr const char* kMetaSubscriptionId = "io.modelcontextprotocol/subscriptionId";
inline constexpr const char* kMetaProgressToken = "progressToken";

// Header names lower-cased, as http::Request and http::ClientResponse hold them.
inline constexpr const char* kHeaderSessionId = "mcp-session-id";
inline constexpr const char* kHeaderProtocolVersion = "mcp-protocol-version";
inline constexpr const char* kHeaderMethod = "mcp-method";
inline constexpr const char* kHeaderName = "mcp-name";
inline constexpr const char* kHeaderLastEventId = "last-event-id";

// --- ids ------------------------------------------------------------------------
// A request id: a string or an integer, or null where there is none (a
// notification, an error answering an unreadable request). Ordered and
// hashable, so it can key a table of requests in flight.
class Id {
public:
    Id() = default;  // null
    Id(int n) : v_(static_cast<int64_t>(n)) {}
    Id(long n) : v_(static_cast<int64_t>(n)) {}
    Id(long long n) : v_(static_cast<int64_t>(n)) {}
    Id(std::string s) : v_(std::move(s)) {}
    Id(const char* s) : v_(std::string(s)) {}

    // A string or an integer (a float with no fraction is not one); null
    // gives the null Id only when `allow_null`. Anything else: usage error.
    static Result<Id> from_json(const Json& value, bool allow_null = false);

    bool is_null() const { return v_.index() == 0; }
    bool is_int() const { return v_.index() == 1; }
    bool is_string() const { return v_.index() == 2; }
    int64_t as_int() const { return std::get<1>(v_); }
    const std::string& as_string() const { return std::get<2>(v_); }

    Json to_json() const;     // null, a number or a string
    std::string str() const;  // for logs and map keys: 7, "abc" (quoted), null

    friend bool operator==(const Id&, const Id&) = default;
    friend std::strong_ordering operator<=>(const Id& a, const Id& b) { return a.v_ <=> b.v_; }

private:
    std::variant<std::monostate, int64_t, std::string> v_;
};

struct IdHash {
    size_t operator()(const Id& id) const { return std::hash<std::string>{}(id.str()); }
};

// --- messages -------------------------------------------------------------------
struct RpcError {
    int code = kInternalError;
    std::string message;
    Json data;  // null: absent

    Json to_json() const;  // {code, message, data?}
    // From an "error" member; a malformed one is a usage error.
    static Result<RpcError> from_json(const Json& value);
};

enum class Kind { Request, Notification, Result, Error };

struct Message {
    Kind kind = Kind::Notification;
    Id id{};               // Request, Result, Error (null on an Error answering an unreadable request)
    std::string method{};  // Request, Notification
    Json params{};         // Request, Notification: an object, or null when absent
    Json result{};         // Result
    RpcError error{};      // Error

    bool is_request() const { return kind == Kind::Request; }
    bool is_notification() const { return kind == Kind::Notification; }
    bool is_response() const { return kind == Kind::Result || kind == Kind::Error; }

    static Message request(Id id, std::string method, Json params = nullptr);
    static Message notification(std::string method, Json params = nullptr);
    static Message response(Id id, Json result);
    static Message failure(Id id, RpcError error);

    // The wire form: {"jsonrpc":"2.0", ...}. Null params are left out.
    Json to_json() const;
};

// Decode one message object. Every failure is an Invalid Request (answer it
// with kInvalidRequest, to the id from id_for_error(value)): not an object,
// "jsonrpc" not "2.0", a null/bool/float/object id, a method that is not a
// string, params that are neither object nor array, a response with both or
// neither of result and error, a malformed error object. A JSON array is a
// batch, not a message: split it with batch_members() first.
Result<Message> parse_message(const Json& value);

// The id to address an Invalid Request error to: the value's id when it is a
// valid one, else null.
Id id_for_error(const Json& value);

// Parse one payload (an HTTP body, a stdio line) as JSON. A failure is a
// Parse error (answer kParseError with a null id).
Result<Json> parse_payload(std::string_view text, size_t max_bytes = kMaxJsonInput);

// A batch is a JSON array. When the peer's `version` allows batches
// (batch_allowed) and the array is not empty, its members; otherwise a usage
// error whose message suits a kInvalidRequest reply ("batches are not
// supported in protocol …" / "empty batch").
bool is_batch(const Json& payload);
Result<std::vector<Json>> batch_members(const Json& payload, std::string_view version);

// --- builders (wire form) ----------------------------------------------------------
Json make_request(const Id& id, const std::string& method, const Json& params = nullptr);
Json make_notification(const std::string& method, const Json& params = nullptr);
Json make_result(const Id& id, const Json& result);
Json make_error(const Id& id, int code, const std::string& message, const Json& data = nullptr);

}  // namespace fracta::mcp
