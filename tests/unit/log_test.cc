// The daemons' Logger: level threshold (changed at run time), text and JSON lines.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/log.h"

using namespace fracta;

TEST_CASE("Logger: drops lines below the level; set_level changes it for every copy", "[log]") {
    ::unsetenv("FRACTA_LOG_LEVEL");
    std::vector<std::string> lines;
    const Logger logger("fracta-x", "text", "warn", [&](const std::string& l) { lines.push_back(l); });
    const LogSink sink = logger.sink();
    sink("info", "dropped");
    sink("warn", "kept");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find(" fracta-x: warn: kept") != std::string::npos);
    CHECK(logger.set_level("debug") == "debug");
    sink("debug", "now kept");
    CHECK(lines.size() == 2);
    logger.set_level("error");
    sink("warn", "dropped again");
    CHECK(lines.size() == 2);
}

TEST_CASE("Logger: json lines; FRACTA_LOG_LEVEL outranks the level given", "[log]") {
    ::setenv("FRACTA_LOG_LEVEL", "error", 1);
    std::vector<std::string> lines;
    const Logger logger("fracta-x", "json", "debug", [&](const std::string& l) { lines.push_back(l); });
    CHECK(logger.set_level("info") == "error");
    logger("warn", "dropped");
    logger("error", "boom");
    ::unsetenv("FRACTA_LOG_LEVEL");
    REQUIRE(lines.size() == 1);
    Json j = Json::parse(lines[0]);
    CHECK(j["component"] == "fracta-x");
    CHECK(j["level"] == "error");
    CHECK(j["msg"] == "boom");
    CHECK(j["ts"].is_string());
}
