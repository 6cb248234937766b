#include "base/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fracta::io {
namespace {
bool g_stdout_closed = false;
}

std::string errno_text(int err) { return std::strerror(err); }

Result<std::string> read_all(int fd, size_t max_bytes) {
    std::string data;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return failure("read: " + errno_text(errno));
        }
        if (n == 0) break;
        if (data.size() + static_cast<size_t>(n) > max_bytes)
            return usage_error("input too large: more than " + std::to_string(max_bytes) + " bytes");
        data.append(buf, static_cast<size_t>(n));
    }
    return data;
}

Status write_stdout(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EPIPE) g_stdout_closed = true;
            return failure("write stdout: " + errno_text(errno));
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

bool stdout_closed() { return g_stdout_closed; }

Status write_file_atomic(const std::string& path, std::string_view data, int mode, bool durable) {
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return failure("create " + tmp + ": " + errno_text(errno));
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return failure("write " + tmp + ": " + errno_text(err));
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    if ((durable && ::fsync(fd) != 0) || ::close(fd) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return failure("sync " + tmp + ": " + errno_text(err));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return failure("rename " + tmp + ": " + errno_text(err));
    }
    return {};
}

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return failure("missing: " + path);
        return failure("open " + path + ": " + errno_text(errno));
    }
    auto data = read_all(fd, max_bytes);
    ::close(fd);
    return data;
}

Status make_dirs(const std::string& path, int mode) {
    if (path.empty()) return {};
    std::string partial;
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        partial = path.substr(0, pos);
        if (partial.empty()) continue;
        if (::mkdir(partial.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST)
            return failure("mkdir " + partial + ": " + errno_text(errno));
    }
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return failure("not a directory: " + path);
    return {};
}

}  // namespace fracta::io
