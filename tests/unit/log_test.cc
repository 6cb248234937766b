// The daemons' Logger: level threshold (changed at run time), text and JSON lines.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
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

namespace {
std::string read_all(const std::string& path) {
    std::string out;
    FILE* f = std::fopen(path.c_str(), "rb");
    REQUIRE(f);
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    std::fclose(f);
    return out;
}
}  // namespace

TEST_CASE("trim_log: a log file past max_bytes keeps its newest whole lines; small ones and pipes are left", "[log]") {
    char path[] = "/tmp/fracta-log-test-XXXXXX";
    ::close(::mkstemp(path));
    const int fd = ::open(path, O_WRONLY | O_APPEND);  // as the daemons' log is opened
    REQUIRE(fd >= 0);
    std::string all;
    for (int i = 0; i < 300; ++i) all += "line " + std::to_string(i) + " of the log\n";
    REQUIRE(::write(fd, all.data(), all.size()) == static_cast<ssize_t>(all.size()));

    auto small = trim_log(fd, all.size());  // not past it
    REQUIRE(small.ok());
    CHECK_FALSE(*small);
    CHECK(read_all(path) == all);

    auto cut = trim_log(fd, 1000);
    REQUIRE(cut.ok());
    CHECK(*cut);
    // The newest 500 bytes (max_bytes / 2), from the first line that starts in them.
    const std::string tail = all.substr(all.size() - 500);
    const std::string kept = read_all(path);
    CHECK(kept == tail.substr(tail.find('\n') + 1));
    CHECK(kept.size() > 400);
    const std::string more = "after the cut\n";
    REQUIRE(::write(fd, more.data(), more.size()) == static_cast<ssize_t>(more.size()));
    CHECK(read_all(path) == kept + more);  // appended right after, no hole
    ::close(fd);
    ::unlink(path);

    int p[2];
    REQUIRE(::pipe(p) == 0);
    auto piped = trim_log(p[1], 1);
    REQUIRE(piped.ok());
    CHECK_FALSE(*piped);
    ::close(p[0]);
    ::close(p[1]);
}

TEST_CASE("log_max_bytes: logging.max_bytes, 16 MiB when not set", "[log]") {
    CHECK(log_max_bytes(Json()) == 16u << 20);
    CHECK(log_max_bytes(Json{{"logging", {{"level", "info"}}}}) == 16u << 20);
    CHECK(log_max_bytes(Json{{"logging", {{"max_bytes", 4096}}}}) == 4096);
    CHECK(log_max_bytes(Json{{"logging", {{"max_bytes", 0}}}}) == 0);
}
