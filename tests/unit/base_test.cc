// The base library: Result and exit codes, option tables, JSON, times, units.
#include <catch2/catch.hpp>

#include "base/cli.h"
#include "base/json.h"
#include "base/result.h"
#include "base/time.h"
#include "base/units.h"

using namespace fracta;

namespace {
Result<int> half(int n) {
    if (n % 2) return usage_error("odd: " + std::to_string(n));
    return n / 2;
}
Result<int> quarter(int n) {
    FRACTA_TRY_ASSIGN(h, half(n));
    return half(h);
}
}  // namespace

TEST_CASE("error kinds are the shared exit statuses", "[result]") {
    CHECK(exit_code(ErrorKind::Failed) == 1);
    CHECK(exit_code(ErrorKind::Unsupported) == 2);
    CHECK(exit_code(ErrorKind::Usage) == 100);
    CHECK(exit_code(ErrorKind::Temporary) == 111);
    CHECK(exit_code(ErrorKind::CannotExec) == 126);
    CHECK(exit_code(ErrorKind::NotFound) == 127);
}

TEST_CASE("Result carries a value or an error, and TRY propagates the first error", "[result]") {
    CHECK(*quarter(8) == 2);
    auto r = quarter(6);  // 6 → 3 → odd
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::Usage);
    CHECK(r.error().message == "odd: 3");
    CHECK(r.error().context("split").message == "split: odd: 3");
}

TEST_CASE("option tables parse long, short and valued options and stop at the operation", "[cli]") {
    cli::Command c{"prog", "[opts] OP", "", {{"store", 's', "URL", "the store"}, {"quiet", 'q', "", "hush"}}, {}, ""};
    auto a = cli::parse(c, {"prog", "--store", "sqlite:/x", "-q", "watch", "--not-mine", "7"});
    REQUIRE(a.ok());
    CHECK(a->get("store") == "sqlite:/x");
    CHECK(a->has("quiet"));
    CHECK(a->positional() == std::vector<std::string>{"watch", "--not-mine", "7"});

    auto b = cli::parse(c, {"prog", "-s", "u", "--store=v"});
    REQUIRE(b.ok());
    CHECK(b->get("store") == "v");  // the last one wins

    auto unknown = cli::parse(c, {"prog", "--bogus"});
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().kind == ErrorKind::Usage);
    CHECK(unknown.error().message == "unknown option --bogus");

    auto missing = cli::parse(c, {"prog", "--store"});
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message == "option --store needs a value");

    // A second parse starts fresh (getopt's global state is reset).
    auto again = cli::parse(c, {"prog", "-q"});
    REQUIRE(again.ok());
    CHECK(again->has("quiet"));
    CHECK_FALSE(again->has("store"));
}

TEST_CASE("help text is generated from the table", "[cli]") {
    cli::Command c{"prog", "OP", "Does things.", {{"store", 's', "URL", "the store"}}, {{"watch N", "follow"}}, ""};
    std::string help = cli::help_text(c);
    CHECK(help.find("usage: prog OP") == 0);
    CHECK(help.find("-s, --store URL") != std::string::npos);
    CHECK(help.find("watch N") != std::string::npos);
    CHECK(help.find("--help") != std::string::npos);
    CHECK(help.find("--version") != std::string::npos);
}

TEST_CASE("parse_int accepts plain decimals only", "[cli]") {
    CHECK(*cli::parse_int("n", "42") == 42);
    CHECK_FALSE(cli::parse_int("n", "-1").ok());
    CHECK_FALSE(cli::parse_int("n", "4x").ok());
    CHECK_FALSE(cli::parse_int("n", "").ok());
    CHECK_FALSE(cli::parse_int("n", "99999999999999999999").ok());
}

TEST_CASE("JSON parsing never throws and caps its input", "[json]") {
    CHECK(parse_json(R"({"a":[1,2]})")->at("a").size() == 2);
    auto bad = parse_json("{bad");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().kind == ErrorKind::Usage);
    CHECK(bad.error().message.find("malformed JSON: parse error at line 1, column 2") == 0);
    auto big = parse_json(std::string(100, ' ') + "1", 50);
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().message.find("too large") != std::string::npos);
    CHECK_FALSE(parse_json("").ok());
}

TEST_CASE("JSON output keeps insertion order and survives bad UTF-8", "[json]") {
    Json j = Json::object();
    j["seq"] = 1;
    j["type"] = "t";
    j["actor"] = std::string("a\xff");
    CHECK(to_line(j) == "{\"seq\":1,\"type\":\"t\",\"actor\":\"a\xEF\xBF\xBD\"}");
}

TEST_CASE("typed JSON fields", "[json]") {
    Json j = Json::parse(R"({"s":"x","n":5,"big":18446744073709551615,"wrong":true})");
    CHECK(*string_field(j, "s") == "x");
    CHECK(*string_field(j, "absent", "d") == "d");
    CHECK_FALSE(string_field(j, "n").ok());
    CHECK(*int_field(j, "n") == 5);
    CHECK_FALSE(int_field(j, "big").ok());
    CHECK_FALSE(int_field(j, "wrong").ok());
}

TEST_CASE("RFC 3339 times parse with offsets and nanoseconds", "[time]") {
    auto utc = parse_rfc3339("2024-01-01T11:30:00Z");
    auto offset = parse_rfc3339("2024-01-01T12:30:00+01:00");
    REQUIRE(utc.ok());
    REQUIRE(offset.ok());
    CHECK(*utc == *offset);
    CHECK(utc->seconds == 1704108600);

    auto nanos = parse_rfc3339("2024-01-01T11:29:59.999999999-00:00");
    REQUIRE(nanos.ok());
    CHECK(*nanos < *utc);
    CHECK(nanos->nanos == 999999999);
    CHECK(parse_rfc3339("2024-01-01T11:30:00.5Z")->nanos == 500000000);
    CHECK(parse_rfc3339("2024-01-01T11:30:00.1234567891Z")->nanos == 123456789);  // extra digits dropped
}

TEST_CASE("Go's zero time is a time like any other", "[time]") {
    auto zero = parse_rfc3339("0001-01-01T00:00:00Z");
    REQUIRE(zero.ok());
    CHECK(*zero == zero_time());
    CHECK(format_rfc3339(zero_time()) == "0001-01-01T00:00:00.000000000Z");
}

TEST_CASE("bad times are usage errors", "[time]") {
    for (const char* bad : {"", "yesterday", "2024-01-01", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
                            "2024-01-01T24:00:00Z", "2024-01-01T00:00:00", "2024-01-01T00:00:00+1:00",
                            "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00Zjunk",
                            "2024-01-01 00:00:00Z", "2024-01-01t00:00:00z", "2024-01-01T00:00:60Z",
                            "2024-01-01T00:00:00,5Z"}) {
        INFO(bad);
        auto r = parse_rfc3339(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind == ErrorKind::Usage);
    }
    CHECK(parse_rfc3339("2024-02-29T00:00:00Z").ok());
}

TEST_CASE("formatted times are fixed width UTC and round-trip", "[time]") {
    Timestamp t{1704108600, 42};
    CHECK(format_rfc3339(t) == "2024-01-01T11:30:00.000000042Z");
    CHECK(*parse_rfc3339(format_rfc3339(t)) == t);
    Timestamp before_epoch{-1, 5};
    CHECK(format_rfc3339(before_epoch) == "1969-12-31T23:59:59.000000005Z");
    CHECK(format_rfc3339(now()).size() == 30);
}

TEST_CASE("durations use the config notation", "[units]") {
    using namespace std::chrono;
    CHECK(*parse_duration("500ms") == milliseconds(500));
    CHECK(*parse_duration("30s") == seconds(30));
    CHECK(*parse_duration("10m") == minutes(10));
    CHECK(*parse_duration("4h") == hours(4));
    CHECK(*parse_duration("1d") == hours(24));
    CHECK(*parse_duration("1h30m") == minutes(90));
    CHECK(*parse_duration("0") == seconds(0));
    for (const char* bad : {"", "10", "5x", "m", "-1s", "1.5h", "99999999999999999999d"}) {
        INFO(bad);
        CHECK_FALSE(parse_duration(bad).ok());
    }
    CHECK(format_duration(minutes(90)) == "90m");
    CHECK(format_duration(hours(48)) == "2d");
    CHECK(format_duration(milliseconds(1500)) == "1500ms");
}

TEST_CASE("sizes use binary and decimal suffixes", "[units]") {
    CHECK(*parse_size("512Mi") == 512ull << 20);
    CHECK(*parse_size("2Gi") == 2ull << 30);
    CHECK(*parse_size("64k") == 64000);
    CHECK(*parse_size("1048576") == 1048576);
    CHECK(*parse_size("1MiB") == 1ull << 20);
    for (const char* bad : {"", "Mi", "1Xi", "-1", "99999999999Ti"}) {
        INFO(bad);
        CHECK_FALSE(parse_size(bad).ok());
    }
}

TEST_CASE("parse_operation takes options before and after the operation word", "[base]") {
    cli::Command c{"x", "", "", {{"listen", 0, "ADDR", ""}, {"config", 'c', "FILE", ""}}, {}, ""};
    auto inv = cli::parse_operation(c, {"x", "-c", "f.yaml", "run", "--listen", ":0"});
    REQUIRE(inv.ok());
    CHECK(inv->operation == "run");
    CHECK(inv->args.get("config") == "f.yaml");
    CHECK(inv->args.get("listen") == ":0");
    CHECK(inv->args.positional().empty());
    auto extra = cli::parse_operation(c, {"x", "run", "stray"});
    REQUIRE(extra.ok());
    CHECK(extra->args.positional() == std::vector<std::string>{"stray"});
    CHECK(cli::parse_operation(c, {"x"})->operation.empty());
    CHECK_FALSE(cli::parse_operation(c, {"x", "run", "--nope"}).ok());
}
