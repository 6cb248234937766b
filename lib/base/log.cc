#include "base/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

uint64_t log_max_bytes(const Json& root) {
    if (!root.is_object() || !root.contains("logging") || !root["logging"].is_object()) return kDefaultLogMaxBytes;
    const Json& n = root["logging"].value("max_bytes", Json());
    return n.is_number_integer() && n.get<int64_t>() >= 0 ? n.get<uint64_t>() : kDefaultLogMaxBytes;
}

Result<bool> trim_log(int fd, uint64_t max_bytes) {
    struct stat st;
    if (::fstat(fd, &st) != 0) return failure(std::string("fstat: ") + std::strerror(errno));
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (!S_ISREG(st.st_mode) || max_bytes == 0 || size <= max_bytes) return false;
    // A log is open write-only: read it through a descriptor of our own.
    const int in = ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return failure(std::string("open: ") + std::strerror(errno));
    std::string keep(max_bytes / 2, '\0');
    const ssize_t n = ::pread(in, keep.data(), keep.size(), static_cast<off_t>(size - keep.size()));
    const int read_errno = errno;
    ::close(in);
    if (n < 0) return failure(std::string("read: ") + std::strerror(read_errno));
    keep.resize(static_cast<size_t>(n));
    // From the first whole line: a reader never sees half a line first.
    const size_t nl = keep.find('\n');
    keep.erase(0, nl == std::string::npos ? keep.size() : nl + 1);
    // Truncate, then write at 0: with O_APPEND the write goes to the (new)
    // end anyway; without it the offset must move back, or a hole is left.
    if (::ftruncate(fd, 0) != 0) return failure(std::string("truncate: ") + std::strerror(errno));
    if (::lseek(fd, 0, SEEK_SET) < 0) return failure(std::string("seek: ") + std::strerror(errno));
    for (size_t off = 0; off < keep.size();) {
        const ssize_t w = ::write(fd, keep.data() + off, keep.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return failure(std::string("write: ") + std::strerror(errno));
        off += static_cast<size_t>(w);
    }
    return true;
}

LineWriter capped_stderr(uint64_t max_bytes) {
    if (max_bytes == 0) return stderr_line;
    // Bytes written since the last check; the first line checks (a file
    // left large by an earlier run is cut at once). Logger serialises calls.
    auto since = std::make_shared<uint64_t>(max_bytes);
    return [max_bytes, since](const std::string& line) {
        stderr_line(line);
        *since += line.size() + 1;
        if (*since < max_bytes / 16) return;
        *since = 0;
        std::fflush(stderr);
        (void)trim_log(STDERR_FILENO, max_bytes);  // a log that cannot be cut is still written
    };
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
