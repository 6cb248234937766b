// JSON-RPC 2.0 framing for MCP: what is a request, a notification, a
// response; what is invalid and which code answers it; batches only in
// 2025-03-26; ids as map keys; the wire form of the builders.
#include <catch2/catch.hpp>
#include <map>
#include <unordered_set>

#include "mcp/jsonrpc.h"
#include "mcp/server.h"

using namespace fracta;
using namespace fracta::mcp;

namespace {

Json j(const char* text) {
    return Json::parse(text);
}

Message must_parse(const char* text) {
    auto m = parse_message(j(text));
    if (!m) FAIL(m.error().message);
    return std::move(m).value();
}

bool invalid(const char* text) {
    return !parse_message(j(text)).ok();
}

}  // namespace

TEST_CASE("jsonrpc: the three kinds of message", "[mcp]") {
    Message r = must_parse(R"({"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"cursor":"x"}})");
    CHECK(r.kind == Kind::Request);
    CHECK(r.id == Id(7));
    CHECK(r.method == "tools/list");
    CHECK(r.params["cursor"] == "x");

    Message s = must_parse(R"({"jsonrpc":"2.0","id":"a-1","method":"ping"})");
    CHECK(s.kind == Kind::Request);
    CHECK(s.id.is_string());
    CHECK(s.id.as_string() == "a-1");
    CHECK(s.params.is_null());

    Message n = must_parse(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    CHECK(n.kind == Kind::Notification);
    CHECK(n.id.is_null());

    Message ok = must_parse(R"({"jsonrpc":"2.0","id":3,"result":{}})");
    CHECK(ok.kind == Kind::Result);
    CHECK(ok.is_response());

    Message err = must_parse(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad","data":{"x":1}}})");
    CHECK(err.kind == Kind::Error);
    CHECK(err.id.is_null());
    CHECK(err.error.code == kParseError);
    CHECK(err.error.data["x"] == 1);
}

TEST_CASE("jsonrpc: invalid requests", "[mcp]") {
    CHECK(invalid(R"([])"));
    CHECK(invalid(R"("text")"));
    CHECK(invalid(R"({"id":1,"method":"ping"})"));                     // no jsonrpc
    CHECK(invalid(R"({"jsonrpc":"1.0","id":1,"method":"ping"})"));     // wrong version
    CHECK(invalid(R"({"jsonrpc":2.0,"id":1,"method":"ping"})"));       // not a string
    CHECK(invalid(R"({"jsonrpc":"2.0","id":null,"method":"ping"})"));  // null id on a request
    CHECK(invalid(R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})"));
    CHECK(invalid(R"({"jsonrpc":"2.0","id":true,"method":"ping"})"));
    CHECK(invalid(R"({"jsonrpc":"2.0","id":{},"method":"ping"})"));
    CHECK(invalid(R"({"jsonrpc":"2.0","id":1,"method":5})"));
    CHECK(invalid(R"({"jsonrpc":"2.0","id":1,"method":"x","params":"s"})"));
    CHECK(invalid(R"({"jsonrpc":"2.0","id":1,"method":"x","result":{}})"));
    CHECK(invalid(R"({"jsonrpc":"2.0","id":1})"));  // neither
    CHECK(invalid(R"({"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}})"));
    CHECK(invalid(R"({"jsonrpc":"2.0","result":{}})"));            // response without id
    CHECK(invalid(R"({"jsonrpc":"2.0","id":null,"result":{}})"));  // null id only on errors
    CHECK(invalid(R"({"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"m"}})"));
    CHECK(invalid(R"({"jsonrpc":"2.0","id":1,"error":{"code":1}})"));
    CHECK(invalid(R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"})"));  // beyond int64

    // The id to answer an invalid request with: its own when it had a usable one.
    CHECK(id_for_error(j(R"({"jsonrpc":"1.0","id":9,"method":"ping"})")) == Id(9));
    CHECK(id_for_error(j(R"({"jsonrpc":"2.0","id":[1],"method":"ping"})")).is_null());
    CHECK(id_for_error(j("[1,2]")).is_null());
}

TEST_CASE("jsonrpc: ids are strings or integers, ordered and hashable", "[mcp]") {
    CHECK(Id::from_json(Json(5))->as_int() == 5);
    CHECK(Id::from_json(Json(5.0))->as_int() == 5);  // an integer written as a float
    CHECK_FALSE(Id::from_json(Json(nullptr)).ok());
    CHECK(Id::from_json(Json(nullptr), true)->is_null());
    CHECK(Id(1) != Id("1"));
    CHECK(Id(1).str() == "1");
    CHECK(Id("1").str() == "\"1\"");
    CHECK(Id().to_json().is_null());
    CHECK(Id("x").to_json() == "x");
    CHECK(Id(int64_t{1} << 40).to_json() == (int64_t{1} << 40));

    std::map<Id, int> inflight{{Id(2), 1}, {Id("2"), 2}, {Id(10), 3}};
    CHECK(inflight.size() == 3);
    CHECK(inflight.at(Id("2")) == 2);
    std::unordered_set<Id, IdHash> seen{Id(1), Id("1"), Id(1)};
    CHECK(seen.size() == 2);
}

TEST_CASE("jsonrpc: builders produce the wire form", "[mcp]") {
    CHECK(make_request(Id(1), "tools/list") == j(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})"));
    CHECK(make_request(Id("a"), "x", {{"k", 1}}) == j(R"({"jsonrpc":"2.0","id":"a","method":"x","params":{"k":1}})"));
    CHECK(make_notification("notifications/initialized") ==
          j(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
    CHECK(make_result(Id(4), Json::object()) == j(R"({"jsonrpc":"2.0","id":4,"result":{}})"));
    CHECK(make_error(Id(), kParseError, "bad") ==
          j(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}})"));
    CHECK(make_error(Id(3), kUnsupportedProtocolVersion, "v",
                     {{"supported", {"2026-07-28"}}})["error"]["data"]["supported"][0] == "2026-07-28");

    // Every kind round-trips through to_json and parse_message.
    for (const Message& m : {Message::request(Id(1), "a", {{"x", 1}}), Message::notification("b"),
                             Message::response(Id("r"), {{"ok", true}}),
                             Message::failure(Id(2), RpcError{kMethodNotFound, "no", nullptr})}) {
        auto back = parse_message(m.to_json());
        REQUIRE(back.ok());
        CHECK(back->to_json() == m.to_json());
    }
}

TEST_CASE("jsonrpc: codes and revisions", "[mcp]") {
    CHECK(kParseError == -32700);
    CHECK(kInvalidRequest == -32600);
    CHECK(kMethodNotFound == -32601);
    CHECK(kInvalidParams == -32602);
    CHECK(kInternalError == -32603);
    CHECK(kHeaderMismatch == -32020);
    CHECK(kMissingRequiredClientCapability == -32021);
    CHECK(kUnsupportedProtocolVersion == -32022);
    CHECK(legacy_versions() == std::vector<std::string>{"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"});
    CHECK(is_modern_version("2026-07-28"));
    CHECK_FALSE(is_legacy_version("2026-07-28"));
    CHECK_FALSE(is_legacy_version("2024-10-07"));
}

TEST_CASE("jsonrpc: batches only where 2025-03-26 allows them", "[mcp]") {
    Json batch = j(R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n"}])");
    CHECK(is_batch(batch));
    CHECK(batch_members(batch, "2025-03-26")->size() == 2);
    CHECK_FALSE(batch_members(batch, "2025-06-18").ok());
    CHECK_FALSE(batch_members(batch, "2024-11-05").ok());
    CHECK_FALSE(batch_members(batch, "2026-07-28").ok());
    CHECK_FALSE(batch_members(batch, "").ok());
    CHECK_FALSE(batch_members(Json::array(), "2025-03-26").ok());
}

TEST_CASE("jsonrpc: decoding a payload says what to answer", "[mcp]") {
    Incoming bad = decode_payload("{not json", "");
    CHECK(bad.parse_error);
    REQUIRE(bad.errors.size() == 1);
    CHECK(bad.errors[0]["error"]["code"] == kParseError);
    CHECK(bad.errors[0]["id"].is_null());

    Incoming invalid = decode_payload(R"({"jsonrpc":"2.0","id":5,"method":7})", "");
    CHECK_FALSE(invalid.parse_error);
    REQUIRE(invalid.errors.size() == 1);
    CHECK(invalid.errors[0]["error"]["code"] == kInvalidRequest);
    CHECK(invalid.errors[0]["id"] == 5);

    const char* batch = R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"1.0","id":2,"method":"ping"}])";
    Incoming refused = decode_payload(batch, "2025-06-18");
    CHECK(refused.batch);
    CHECK(refused.messages.empty());
    REQUIRE(refused.errors.size() == 1);
    CHECK(refused.errors[0]["error"]["code"] == kInvalidRequest);

    Incoming allowed = decode_payload(batch, "2025-03-26");
    CHECK(allowed.messages.size() == 1);
    REQUIRE(allowed.errors.size() == 1);
    CHECK(allowed.errors[0]["id"] == 2);

    CHECK(decode_payload(std::string(100, ' ') + "{}", "", 50).parse_error);  // over the cap
}
