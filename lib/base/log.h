// log.h — the daemons' log (fracta-cp, fracta-gw): one line per message on a
// writer the binary gives (stderr), as text or as JSON objects
// (logging.format), dropped below a threshold (logging.level, which
// FRACTA_LOG_LEVEL overrides). The threshold may change while other threads
// log: a reload (SIGHUP) sets it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/json.h"
#include "base/result.h"

namespace fracta {

// Where finished log lines go (a main writes them to stderr).
using LineWriter = std::function<void(const std::string& line)>;
// The daemons' writer: each line, and a newline, to stderr.
void stderr_line(const std::string& line);

// logging.max_bytes of a fracta.yaml's (validated) root: 16 MiB when not set.
inline constexpr uint64_t kDefaultLogMaxBytes = 16u << 20;
uint64_t log_max_bytes(const Json& config_root);
// The daemons' writer when they run with a config: stderr_line, and when
// stderr is a regular file (fracta-cp's .fracta/controlplane.log, a log file
// a service manager appends to) past max_bytes, it is cut to its newest
// lines (trim_log). 0: no cap. Checked at the first line and then after
// each max_bytes/16 written, so the file stays below about 1.07 × max_bytes
// (other processes writing to the same file, such as children, count only
// at the next check).
LineWriter capped_stderr(uint64_t max_bytes);
// Cut a log file in place: when `fd` is a regular file larger than
// max_bytes, keep its newest whole lines, at most max_bytes / 2 bytes, at
// the start of the file (the descriptor is left at the new end). Returns
// whether it cut; not a regular file, or small enough: false.
Result<bool> trim_log(int fd, uint64_t max_bytes);
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
