#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "base/json.h"
#include "base/time.h"

namespace fracta {
namespace {

int rank(const std::string& level) {
    if (level == "debug") return 0;
    if (level == "info") return 1;
    if (level == "warn") return 2;
    return 3;
}

}  // namespace

void stderr_line(const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
}

struct Logger::State {
    std::string component;
    bool json = false;
    LineWriter write;
    std::atomic<int> threshold{1};
    std::mutex mu;  // one line at a time on the writer
};

Logger::Logger(std::string component, const std::string& format, const std::string& level, LineWriter write)
    : state_(std::make_shared<State>()) {
    state_->component = std::move(component);
    state_->json = format == "json";
    state_->write = std::move(write);
    set_level(level);
}

std::string Logger::set_level(const std::string& level) const {
    std::string effective = level;
    if (const char* env = std::getenv("FRACTA_LOG_LEVEL"); env && *env) effective = env;
    state_->threshold = rank(effective);
    return effective;
}

void Logger::operator()(const std::string& level, const std::string& line) const {
    State& s = *state_;
    if (!s.write || rank(level) < s.threshold) return;
    const std::string ts = format_rfc3339(now());
    std::string out = s.json ? to_line(Json{{"ts", ts}, {"level", level}, {"component", s.component}, {"msg", line}})
                             : ts + " " + s.component + ": " + level + ": " + line;
    std::lock_guard<std::mutex> lock(s.mu);
    s.write(out);
}

}  // namespace fracta
