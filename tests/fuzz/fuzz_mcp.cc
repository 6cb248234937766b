// fuzz_mcp — one JSON-RPC payload from an MCP peer (a stdio line, an HTTP
// body): mcp::decode_payload (framing, batches, Invalid Request answers) and
// then Server::handle for each message, as the stdio and HTTP transports do,
// with one session per input so an initialize in a batch is followed by the
// calls it allows. The first byte picks the protocol version the peer
// speaks (none yet, each legacy revision, the modern one). Checks: every
// answer is a JSON-RPC 2.0 object with an id, and exactly one of result and
// error.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/jsonrpc.h"
#include "mcp/server.h"

namespace {

using namespace fracta;
using namespace fracta::mcp;

// One tool with a schema; a call echoes its arguments, "fail" is a usage error.
class Tools : public ToolSource {
public:
    Result<std::vector<Tool>> list_tools(const CallContext&) override {
        Tool echo;
        echo.name = "echo";
        echo.description = "echo the arguments";
        echo.input_schema = Json{{"type", "object"}, {"properties", {{"text", {{"type", "string"}}}}}};
        Tool fail;
        fail.name = "fail";
        return std::vector<Tool>{echo, fail};
    }
    Result<Json> call_tool(const std::string& name, const Json& arguments, const CallContext& ctx) override {
        if (name == "fail") return usage_error("fail: always refused");
        if (name != "echo") return usage_error("unknown tool " + name);
        if (ctx.progress) ctx.progress(1, 2, "half");
        return Json{{"content", Json::array({{{"type", "text"}, {"text", to_line(arguments)}}})}};
    }
};

void check_answer(const Json& answer) {
    if (!answer.is_object() || answer.value("jsonrpc", "") != "2.0" || !answer.contains("id")) std::abort();
    if (answer.contains("result") == answer.contains("error")) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Tools tools;
    static ServerConfig config = [] {
        ServerConfig c;
        c.page_size = 1;  // so cursors are exercised
        return c;
    }();
    static Server server(config, tools);
    if (size == 0) return 0;
    std::vector<std::string> versions = {""};
    for (const auto& v : legacy_versions()) versions.push_back(v);
    for (const auto& v : modern_versions()) versions.push_back(v);
    const std::string& version = versions[data[0] % versions.size()];
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

    Incoming in = decode_payload(text, version, size_t{64} << 10);
    for (const Json& error : in.errors) check_answer(error);
    Session session;
    for (const Message& m : in.messages) {
        auto answer = server.handle(session, m, [](const Json& note) {
            if (!note.is_object() || note.contains("id")) std::abort();  // a notification never has an id
        });
        if (answer) check_answer(*answer);
        if (answer && !m.is_request()) std::abort();  // only requests are answered
    }
    return 0;
}
