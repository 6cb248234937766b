// YAML loading (types, ${VAR} expansion, positions) and the fracta.yaml model.
#include <catch2/catch.hpp>
#include <fstream>

#include "config/config.h"
#include "config/exposure.h"
#include "config/yaml.h"
#include "support.h"

using namespace fracta;
using fracta::test::env_of;

namespace {
// Each text is a usage error whose message holds its message.
template <size_t N>
void all_refused(const std::pair<const char*, const char*> (&bad)[N]) {
    for (const auto& [text, message] : bad) {
        auto r = config::parse(text, "fracta.yaml", env_of({}));
        INFO(text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind == ErrorKind::Usage);
        CHECK_THAT(r.error().message, Catch::Contains(message));
    }
}

// The model of `text`, read as fracta.yaml with only `env` to expand: it must
// parse (else the test fails, saying why).
config::Config parsed(std::string_view text, std::map<std::string, std::string> env = {}) {
    return test::ok(config::parse(text, "fracta.yaml", env_of(std::move(env))));
}
}  // namespace

TEST_CASE("plain scalars resolve to JSON types; quoted ones stay strings", "[yaml]") {
    auto doc = yaml::parse("a: 4\nb: '4'\nc: true\nd: ~\ne: 2.5\nf: hello\ng: [1, x]\nh: 0x1f\n", "t.yaml", env_of({}));
    REQUIRE(doc.ok());
    const Json& r = doc->root;
    CHECK(r["a"] == 4);
    CHECK(r["b"] == "4");
    CHECK(r["c"] == true);
    CHECK(r["d"].is_null());
    CHECK(r["e"] == 2.5);
    CHECK(r["f"] == "hello");
    CHECK(r["g"] == Json::parse(R"([1,"x"])"));
    CHECK(r["h"] == 31);
}

TEST_CASE("${VAR} and ${VAR:-default} expand before typing", "[yaml]") {
    auto env = env_of({{"N", "7"}, {"PW", "s3cret"}, {"EMPTY", ""}});
    auto doc = yaml::parse("workers: ${N}\n"
                           "fallback: ${MISSING:-4}\n"
                           "empty: ${EMPTY:-x}\n"
                           "dsn: \"postgres://u:${PW}@h/db\"\n"
                           "unset: \"[${MISSING}]\"\n"
                           "dollar: \"$$HOME\"\n",
                           "t.yaml", env);
    REQUIRE(doc.ok());
    CHECK(doc->root["workers"] == 7);
    CHECK(doc->root["fallback"] == 4);
    CHECK(doc->root["empty"] == "x");
    CHECK(doc->root["dsn"] == "postgres://u:s3cret@h/db");
    CHECK(doc->root["unset"] == "[]");
    CHECK(doc->root["dollar"] == "$HOME");

    auto bad = yaml::parse("a: ${OPEN\n", "t.yaml", env);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("t.yaml:1:4: unterminated ${") == 0);
}

TEST_CASE("YAML errors name file, line and column", "[yaml]") {
    auto r = yaml::parse("a: 1\nb: [1, 2\nc: 3\n", "conf.yaml", env_of({}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::Usage);
    CHECK(r.error().message.rfind("conf.yaml:", 0) == 0);

    auto dup = yaml::parse("a: 1\na: 2\n", "conf.yaml", env_of({}));
    REQUIRE_FALSE(dup.ok());
    CHECK(dup.error().message == "conf.yaml:2:1: duplicate key \"a\"");
}

TEST_CASE("documents remember where each key is", "[yaml]") {
    auto doc = yaml::parse("runtime:\n  queue:\n    workers: 4\n", "f.yaml", env_of({}));
    REQUIRE(doc.ok());
    CHECK(doc->where("/runtime/queue/workers") == "f.yaml:3:5");
    CHECK(doc->where("/runtime/queue/missing") == "f.yaml:2:3");
}

TEST_CASE("anchors and aliases are resolved; an empty file is an empty mapping", "[yaml]") {
    auto doc = yaml::parse("base: &b {x: 1}\ncopy: *b\n", "f.yaml", env_of({}));
    REQUIRE(doc.ok());
    CHECK(doc->root["copy"]["x"] == 1);
    auto empty = yaml::parse("", "f.yaml", env_of({}));
    REQUIRE(empty.ok());
    CHECK(empty->root == Json::object());
}

TEST_CASE("fracta.yaml defaults and the state store", "[config]") {
    auto c = config::parse("", "/p/fracta.yaml", env_of({}));
    REQUIRE(c.ok());
    CHECK(c->backend == "local");
    CHECK(c->state.driver == "sqlite");
    CHECK(config::state_store_url(*c) == "sqlite:/p/.fracta/state.db");

    auto pg = config::parse("runtime:\n  state:\n    driver: postgres\n    postgres: {dsn: \"postgres://f:${PW}@db/f\"}\n",
                            "/p/fracta.yaml", env_of({{"PW", "x"}}));
    REQUIRE(pg.ok());
    CHECK(config::state_store_url(*pg) == "postgres://f:x@db/f");
}

TEST_CASE("config errors point at the key and exit 100", "[config]") {
    auto r = config::parse("runtime:\n  state:\n    driver: mysql\n", "fracta.yaml", env_of({}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::Usage);
    CHECK(r.error().message ==
          "fracta.yaml:3:5: runtime.state.driver: must be one of sqlite, postgres (got \"mysql\")");

    auto backend = config::parse("runtime: {backend: docker}\n", "fracta.yaml", env_of({}));
    REQUIRE_FALSE(backend.ok());
    CHECK(backend.error().message.find("runtime.backend: must be local, kubernetes or exec:/path") !=
          std::string::npos);

    auto shape = config::parse("logging: [1]\n", "fracta.yaml", env_of({}));
    REQUIRE_FALSE(shape.ok());
    CHECK(shape.error().message == "fracta.yaml:1:1: logging: must be a mapping");
}

TEST_CASE("unknown keys are warnings, not errors", "[config]") {
    auto c = parsed("runtime:\n  backend: local\n  turbo: true\nextra: 1\n"
                    "agents:\n  agent_runtimes:\n    mine: {anything: 1}\n");
    REQUIRE(c.warnings.size() == 2);
    CHECK(c.warnings[0] == "fracta.yaml:3:3: unknown key \"runtime.turbo\"");
    CHECK(c.warnings[1] == "fracta.yaml:4:1: unknown key \"extra\"");
}

TEST_CASE("the nearest fracta.yaml is found from a subdirectory", "[config]") {
    std::string root = test::temp_dir();
    std::filesystem::create_directories(root + "/a/b");
    std::ofstream(root + "/fracta.yaml") << "runtime: {backend: local}\n";
    unsetenv("FRACTA_CONFIG");
    auto found = config::find_file(root + "/a/b");
    REQUIRE(found);
    CHECK(*found == root + "/fracta.yaml");
    auto loaded = config::load(*found);
    REQUIRE(loaded.ok());
    CHECK(loaded->root == root);
    CHECK(config::state_store_url(*loaded) == "sqlite:" + root + "/.fracta/state.db");

    setenv("FRACTA_CONFIG", "/elsewhere/fracta.yaml", 1);
    CHECK(*config::find_file(root) == "/elsewhere/fracta.yaml");
    unsetenv("FRACTA_CONFIG");
}

TEST_CASE("the control plane's keys: defaults, values, and errors that name the key", "[config]") {
    auto defaults = parsed("");
    CHECK(defaults.queue.workers == 4);
    CHECK(defaults.queue.lease_timeout == std::chrono::minutes(10));
    CHECK(defaults.queue.max_attempts == 3);
    CHECK(defaults.queue.start_timeout == std::chrono::seconds(60));
    CHECK(defaults.max_concurrent == 0);
    CHECK(defaults.default_runtime == "claude");
    CHECK(defaults.default_mode == "batch");
    CHECK(defaults.control_plane.listen == "127.0.0.1:9090");

    auto c = parsed("project: {default_base_branch: dev, allowed_tools: [Read, 'Bash(git *)']}\n"
                    "agents:\n"
                    "  default_runtime: bot\n"
                    "  default_mode: stream\n"
                    "  agent_runtimes:\n"
                    "    bot: {adapter: shell, program: /bin/dash, env: {N: 3, S: x}}\n"
                    "    claude: {model: sonnet, model_tiers: {heavy: opus}}\n"
                    "runtime: {queue: {workers: 2, lease_timeout: 90s, max_attempts: 5, start_timeout: 5s}}\n"
                    "reaper: {max_concurrent: 7}\n"
                    "control_plane_api: {listen: ':0', token: '${T}'}\n",
                    {{"T", "tok"}});
    CHECK(c.default_base_branch == "dev");
    CHECK(c.allowed_tools == std::vector<std::string>{"Read", "Bash(git *)"});
    CHECK(c.default_runtime == "bot");
    CHECK(c.default_mode == "stream");
    CHECK(c.agent_runtimes.at("bot").adapter == "shell");
    CHECK(c.agent_runtimes.at("bot").env.at("N") == "3");
    CHECK(c.agent_runtimes.at("claude").model_tiers.at("heavy") == "opus");
    CHECK(c.queue.workers == 2);
    CHECK(c.queue.lease_timeout == std::chrono::seconds(90));
    CHECK(c.queue.max_attempts == 5);
    CHECK(c.queue.start_timeout == std::chrono::seconds(5));
    CHECK(c.max_concurrent == 7);
    CHECK(c.control_plane.listen == ":0");
    CHECK(c.control_plane.token == "tok");
    CHECK(c.warnings.empty());

    const std::pair<const char*, const char*> bad[] = {
        {"runtime:\n  queue:\n    workers: 0\n", "fracta.yaml:3:5: runtime.queue.workers: must be a positive integer"},
        {"runtime:\n  queue: {lease_timeout: soon}\n", "runtime.queue.lease_timeout: must be a positive duration"},
        {"runtime:\n  queue: {lease_timeout: 10}\n", "runtime.queue.lease_timeout: must be a duration"},
        {"reaper: {max_concurrent: -1}\n", "reaper.max_concurrent: must be a non-negative integer"},
        {"agents: {default_mode: turbo}\n", "agents.default_mode: must be one of batch, stream"},
        {"project: {allowed_tools: Read}\n", "project.allowed_tools: must be a list of strings"},
        {"agents: {agent_runtimes: {x: {env: {A: [1]}}}}\n", "agents.agent_runtimes.x.env.A: must be a scalar"},
    };
    all_refused(bad);
}

TEST_CASE("credentials, base_url, check and timeout", "[config]") {
    auto defaults = parsed("");
    CHECK(defaults.check.empty());
    CHECK(defaults.check_timeout == std::chrono::minutes(10));
    CHECK(defaults.agent_timeout.count() == 0);
    CHECK(defaults.credentials.empty());

    auto c = parsed("project: {check: 'git log -1 --format=%s main..HEAD | grep .', check_timeout: 2m}\n"
                    "agents:\n"
                    "  timeout: 30m\n"
                    "  agent_runtimes:\n"
                    "    claude:\n"
                    "      base_url: http://gw:4000\n"
                    "      credentials: team\n"
                    "      secret_env: {ANTHROPIC_API_KEY: '${KEY}', OTHER: {command: pass show x}}\n"
                    "credentials:\n"
                    "  team: {ANTHROPIC_API_KEY: {env: TEAM_KEY}, EXTRA: {file: keys/extra},\n"
                    "         POD: {secret: team-keys, key: pod, env: POD_KEY}}\n",
                    {{"KEY", "sk-from-env"}});
    CHECK(c.warnings.empty());
    CHECK(c.check == "git log -1 --format=%s main..HEAD | grep .");
    CHECK(c.check_timeout == std::chrono::minutes(2));
    CHECK(c.agent_timeout == std::chrono::minutes(30));
    const auto& claude = c.agent_runtimes.at("claude");
    CHECK(claude.base_url == "http://gw:4000");
    CHECK(claude.credentials == "team");
    CHECK(claude.secret_env.at("ANTHROPIC_API_KEY").value == "sk-from-env");
    CHECK(claude.secret_env.at("OTHER").command == "pass show x");
    CHECK(c.credentials.at("team").at("ANTHROPIC_API_KEY").env == "TEAM_KEY");
    CHECK(c.credentials.at("team").at("EXTRA").file == "keys/extra");
    const auto& pod = c.credentials.at("team").at("POD");
    CHECK((pod.secret == "team-keys" && pod.secret_key == "pod" && pod.env == "POD_KEY"));

    auto none = parsed("agents: {timeout: 0}\n");
    CHECK(none.agent_timeout.count() == 0);

    const std::pair<const char*, const char*> bad[] = {
        {"agents: {agent_runtimes: {claude: {credentials: nobody}}}\n",
         "agents.agent_runtimes.claude.credentials: no profile \"nobody\" under credentials"},
        {"agents: {agent_runtimes: {claude: {secret_env: {'A-B': x}}}}\n",
         "agents.agent_runtimes.claude.secret_env.A-B: not a variable name"},
        {"agents: {agent_runtimes: {claude: {secret_env: {K: {vault: x}}}}}\n",
         "agents.agent_runtimes.claude.secret_env.K.vault: unknown key (env, file, command, secret, key)"},
        {"credentials: {p: {K: {env: A, file: b}}}\n", "credentials.p.K: takes one of env, file and command"},
        {"credentials: {p: {K: {secret: team}}}\n", "credentials.p.K.secret: needs key: the Secret's key"},
        {"credentials: {p: {K: {key: k, env: A}}}\n", "credentials.p.K.key: needs secret: the Secret's name"},
        {"credentials: {p: {K: {}}}\n", "credentials.p.K: needs env, file, command or secret"},
        {"credentials: {p: {K: {secret: 7, key: k}}}\n", "credentials.p.K.secret: must be a string"},
        {"agents: {agent_runtimes: {claude: {secret_env: {K: {env: ''}}}}}\n",
         "agents.agent_runtimes.claude.secret_env.K.env: must not be empty"},
        {"credentials: {p: {K: [1]}}\n", "credentials.p.K: must be a string or a mapping"},
        {"agents: {timeout: soon}\n", "agents.timeout: must be a positive duration"},
        {"project: {check: [x]}\n", "project.check: must be a string"},
    };
    all_refused(bad);
}

TEST_CASE("loopback listeners, and tokens too weak to guard any other", "[config][exposure]") {
    for (const char* l : {"127.0.0.1:9090", "127.3.2.1:1", "[::1]:0", "localhost:80", "LOCALHOST:1"}) {
        INFO(l);
        CHECK(config::loopback_listen(l));
    }
    for (const char* l : {":9090", "0.0.0.0:9090", "[::]:1", "10.0.0.1:1", "127.evil.example:1", "host:1", "[::1"}) {
        INFO(l);
        CHECK_FALSE(config::loopback_listen(l));
    }
    const std::pair<const char*, const char*> weak[] = {
        {"", "without a token"},
        {"abcdefghijklmnopqrstuvwxyz012345CHANGEME", "placeholder"},
        {"0123456789abcdef0123456789abcdef-Example", "placeholder"},
        {"0123456789abcdef0123456789abcde", "short token (31 characters"},
        {"abababababababababababababababab", "fewer than 8 distinct"},
        {"0123456789abcdef 0123456789abcdef", "whitespace"},
    };
    for (const auto& [token, reason] : weak) {
        INFO(token);
        CHECK_THAT(config::weak_token_reason(token), Catch::Contains(reason));
    }
    CHECK(config::weak_token_reason("0123456789abcdef0123456789abcdef") == "");
    std::string warning;
    CHECK(config::check_listen_exposure("x", "127.0.0.1:1", "", false, warning).ok());
    CHECK(warning.empty());
    auto refused = config::check_listen_exposure("x", ":1", "short", false, warning);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().kind == ErrorKind::Usage);
    CHECK(config::check_listen_exposure("x", ":1", "short", true, warning).ok());
    CHECK_THAT(warning, Catch::Contains("--insecure-listen allows"));
    CHECK(warning.find("short\"") == std::string::npos);
}
