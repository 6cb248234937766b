// log.h — the daemons' log (fracta-cp, fracta-gw): one line per message on a
// writer the binary gives (stderr), as text or as JSON objects
// (logging.format), dropped below a threshold (logging.level, which
// FRACTA_LOG_LEVEL overrides). The threshold may change while other threads
// log: a reload (SIGHUP) sets it.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace fracta {

// Where finished log lines go (a main writes them to stderr).
using LineWriter = std::function<void(const std::string& line)>;
// The daemons' writer: each line, and a newline, to stderr.
void stderr_line(const std::string& line);
// One message at a level: debug | info | warn | error.
using LogSink = std::function<void(const std::string& level, const std::string& line)>;

class Logger {
public:
    // component: the program named in each line ("fracta-cp"); format:
    // "json" for NDJSON objects, anything else for text lines. No writer: a
    // logger that drops everything.
    Logger(std::string component, const std::string& format, const std::string& level, LineWriter write);

    // The new threshold, unless FRACTA_LOG_LEVEL is set (it wins over the
    // file). Returns the threshold now in force.
    std::string set_level(const std::string& level) const;

    // Copies share the logger: hand them out as LogSinks.
    void operator()(const std::string& level, const std::string& line) const;
    LogSink sink() const { return *this; }

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace fracta
