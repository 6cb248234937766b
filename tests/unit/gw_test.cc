// The gateway's pure parts: tool names, policies, Origin/Host, backend config.
#include <catch2/catch.hpp>

#include "base/agent.h"
#include "config/config.h"
#include "gw/api_tools.h"
#include "gw/naming.h"
#include "gw/origin.h"
#include "gw/policy.h"
#include "gw/settings.h"

using namespace fracta;
using namespace fracta::gw;

TEST_CASE("an agent's own tools are base/agent.h's catalogue, in its order, described as it says", "[gw]") {
    const auto served = gw::agent_tools("me");
    const auto& catalogue = fracta::agent_tools();
    REQUIRE(served.size() == catalogue.size());
    for (size_t i = 0; i < served.size(); ++i) {
        CHECK(served[i].tool.name == catalogue[i].name);
        CHECK(served[i].tool.description == catalogue[i].description);
        CHECK(!served[i].tool.description.empty());
    }
}

TEST_CASE("proxied tools are <backend>__<tool>, ≤ 64 chars of [A-Za-z0-9_-], stable and unique", "[gw]") {
    const std::string long_tool(80, 'x');
    auto named = expose({{"fs", "read_file", ""},
                         {"docs", "search", ""},
                         {"fs", "read.file", ""},  // sanitises to the same as read_file... almost
                         {"fs", "read_file!", ""},
                         {"web", long_tool, ""},
                         {"fracta", "list", ""}},
                        {"fracta__list"});
    REQUIRE(named.size() == 6);
    // deterministic order: by backend, then tool
    CHECK(named[0].backend == "docs");
    CHECK(named[0].exposed == "docs__search");
    std::set<std::string> seen;
    for (const auto& t : named) {
        INFO(t.backend << " " << t.tool << " -> " << t.exposed);
        CHECK(t.exposed.size() <= kMaxToolName);
        CHECK(t.exposed.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
              std::string::npos);
        CHECK(seen.insert(t.exposed).second);
        CHECK(t.exposed != "fracta__list");  // reserved
    }
    // "read.file" and "read_file!" both sanitise to something clashing or not;
    // the plain "read_file" keeps its plain name only if nothing clashes with it
    auto again = expose({{"web", long_tool, ""}, {"fs", "read.file", ""}, {"fs", "read_file", ""}});
    auto find = [](const std::vector<NamedTool>& v, const std::string& tool) {
        for (const auto& t : v)
            if (t.tool == tool) return t.exposed;
        return std::string();
    };
    CHECK(find(again, long_tool) == find(named, long_tool));  // stable across calls
    CHECK(find(again, long_tool).size() == kMaxToolName);
    CHECK(find(again, "read.file") != find(again, "read_file"));
    CHECK(expose({{"a", "b", ""}})[0].exposed == "a__b");
}

TEST_CASE("policy: exact, * and prefix* patterns; deny wins; both levels must admit", "[gw]") {
    CHECK(pattern_matches("*", "anything"));
    CHECK(pattern_matches("fs__*", "fs__read"));
    CHECK_FALSE(pattern_matches("fs__*", "web__fetch"));
    CHECK(pattern_matches("fracta_list", "fracta_list"));
    CHECK_FALSE(pattern_matches("fracta_list", "fracta_list2"));
    ToolPolicy global{{"fs__*", "fracta_*"}, {"fs__write*"}};
    ToolPolicy none;
    CHECK(allowed("fs__read", global, none));
    CHECK_FALSE(allowed("fs__write_file", global, none));
    CHECK_FALSE(allowed("web__fetch", global, none));
    ToolPolicy runtime{{}, {"fracta_spawn"}};
    CHECK(allowed("fracta_list", global, runtime));
    CHECK_FALSE(allowed("fracta_spawn", global, runtime));
    CHECK(parse_policy(Json::parse(R"({"deny":["a*b"]})"), "tool_policy").error().message ==
          "tool_policy.deny: \"a*b\": '*' may only end a pattern");
    CHECK_FALSE(parse_policy(Json::parse(R"({"allow":["x"]})"), "tool_policy").ok());
}

TEST_CASE("Origin and Host: loopback forms and the gateway's own names pass, others are foreign", "[gw]") {
    OriginGuard g({"fracta-gw"});
    for (std::string host :
         {"localhost:8080", "127.0.0.1", "127.1.2.3:9", "[::1]:8080", "fracta-gw:8080", "LOCALHOST"}) {
        CAPTURE(host);
        CHECK(g.host_ok(host));
    }
    for (std::string host : {"evil.example:8080", "", "127.0.0.1.evil.example"}) {
        CAPTURE(host);
        CHECK_FALSE(g.host_ok(host));
    }
    CHECK(g.origin_ok(""));
    CHECK(g.origin_ok("http://localhost:3000"));
    CHECK_FALSE(g.origin_ok("https://evil.example"));
    CHECK_FALSE(g.origin_ok("null"));
    CHECK(OriginGuard::host_of("http://user@Host.Example:1/x?y") == "host.example");
}

TEST_CASE("mcp_servers: local and remote backends, auth folded into headers, errors name the key", "[gw]") {
    ::setenv("GW_TEST_SECRET", "from-env", 1);
    auto c = config::parse(R"(
mcp_servers:
  servers:
    fs: {local: {command: npx, args: [-y, server], env: {A: b}}}
    docs: {remote: {url: "http://docs:3000/mcp", auth: {type: bearer, env: GW_TEST_SECRET}}, timeout: 5s}
    old: {remote: {url: "http://old/sse", transport: sse, auth: {type: basic, username: u, value: p}}}
    hdr: {remote: {url: "https://h/mcp", auth: {type: header, header: X-Api-Key, value: k}}}
tool_policy: {deny: ["fs__write*"]}
agents: {max_depth: 2, agent_runtimes: {claude: {tool_policy: {allow_only: ["fracta_*"]}}}}
)",
                           "fracta.yaml");
    REQUIRE(c.ok());
    auto s = read_settings(*c);
    REQUIRE(s.ok());
    REQUIRE(s->backends.size() == 4);
    CHECK(s->backends[0].id == "docs");
    CHECK(s->backends[0].headers.at("Authorization") == "Bearer from-env");
    CHECK(s->backends[0].timeout == std::chrono::seconds(5));
    CHECK(s->backends[1].id == "fs");
    CHECK(s->backends[1].local);
    CHECK(s->backends[1].args == std::vector<std::string>{"-y", "server"});
    CHECK(s->backends[2].headers.at("X-Api-Key") == "k");
    CHECK(s->backends[3].transport == "sse");
    CHECK(s->backends[3].headers.at("Authorization") == "Basic dTpw");
    CHECK(s->global_policy.deny == std::vector<std::string>{"fs__write*"});
    CHECK(s->runtime_policies.at("claude").allow_only == std::vector<std::string>{"fracta_*"});

    const std::pair<const char*, const char*> bad[] = {
        {"mcp_servers: {servers: {x: {remote: {url: ftp://x}}}}", "mcp_servers.servers.x.remote.url: must be an http"},
        {"mcp_servers: {servers: {x: {remote: {url: 'http://x', transport: ws}}}}",
         "mcp_servers.servers.x.remote.transport: must be streamable-http or sse"},
        {"mcp_servers: {servers: {x: {local: {command: a}, remote: {url: 'http://x'}}}}",
         "mcp_servers.servers.x: give exactly one of local, remote"},
        {"mcp_servers: {servers: {x: {local: {cmd: a}}}}", "mcp_servers.servers.x.local.cmd: unknown key"},
        {"mcp_servers: {servers: {x: {remote: {url: 'http://x', auth: {type: magic, value: v}}}}}",
         "mcp_servers.servers.x.remote.auth.type: must be bearer, header or basic"},
        {"mcp_servers: {servers: {x: {remote: {url: 'http://x', auth: {type: bearer}}}}}",
         "mcp_servers.servers.x.remote.auth: give exactly one of value, env, file"},
    };
    for (const auto& [text, message] : bad) {
        INFO(text);
        auto cfg = config::parse(text, "fracta.yaml");
        REQUIRE(cfg.ok());
        auto r = read_settings(*cfg);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind == ErrorKind::Usage);
        CHECK_THAT(r.error().message, Catch::StartsWith(message));
    }
}
