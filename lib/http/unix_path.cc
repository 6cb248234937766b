#include "http/unix_path.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "base/io.h"

namespace fracta::http::detail {

Result<UnixPath> UnixPath::open(const std::string& path) {
    if (path.empty()) return usage_error("empty unix socket path");
    if (path.find('\0') != std::string::npos) return usage_error("unix socket path contains NUL");
    UnixPath p;
    p.path_ = path;
    p.usable_ = path;
    if (path.size() >= sizeof(p.addr_.sun_path)) {
        auto slash = path.rfind('/');
        std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
        p.name_ = slash == std::string::npos ? path : path.substr(slash + 1);
        if (p.name_.empty()) return usage_error("unix socket path ends in '/': " + path);
        p.dir_fd_ = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (p.dir_fd_ < 0) return failure("open directory " + dir + ": " + io::errno_text(errno));
        p.usable_ = "/proc/self/fd/" + std::to_string(p.dir_fd_) + "/" + p.name_;
        if (p.usable_.size() >= sizeof(p.addr_.sun_path))
            return usage_error("unix socket file name too long: " + p.name_);
    }
    p.addr_.sun_family = AF_UNIX;
    std::memcpy(p.addr_.sun_path, p.usable_.data(), p.usable_.size());
    p.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + p.usable_.size() + 1);
    return p;
}

UnixPath::UnixPath(UnixPath&& o) noexcept
    : path_(std::move(o.path_)),
      usable_(std::move(o.usable_)),
      name_(std::move(o.name_)),
      addr_(o.addr_),
      len_(o.len_),
      dir_fd_(o.dir_fd_) {
    o.dir_fd_ = -1;
}

UnixPath& UnixPath::operator=(UnixPath&& o) noexcept {
    if (this != &o) {
        if (dir_fd_ >= 0) ::close(dir_fd_);
        path_ = std::move(o.path_);
        usable_ = std::move(o.usable_);
        name_ = std::move(o.name_);
        addr_ = o.addr_;
        len_ = o.len_;
        dir_fd_ = o.dir_fd_;
        o.dir_fd_ = -1;
    }
    return *this;
}

UnixPath::~UnixPath() {
    if (dir_fd_ >= 0) ::close(dir_fd_);
}

}  // namespace fracta::http::detail
