// unix_path.h — Unix socket addresses for paths of any length (internal to
// lib/http: the server binds and the client connects through it).
//
// sockaddr_un holds at most 107 path bytes, and project directories nest
// deeper than that. A longer path is reached through its directory: open the
// directory (O_PATH) and use /proc/self/fd/<fd>/<name>, which the kernel
// resolves like the real path. No chdir, so other threads are unaffected.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <string>

#include "base/result.h"

namespace fracta::http::detail {

class UnixPath {
public:
    // Fails (usage error) for an empty path, or a long one whose file name
    // alone is too long; a missing directory fails with the system's reason.
    static Result<UnixPath> open(const std::string& path);

    UnixPath(UnixPath&& o) noexcept;
    UnixPath& operator=(UnixPath&& o) noexcept;
    UnixPath(const UnixPath&) = delete;
    UnixPath& operator=(const UnixPath&) = delete;
    ~UnixPath();

    const std::string& path() const { return path_; }      // as given
    const std::string& usable() const { return usable_; }  // fits in sun_path
    const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&addr_); }
    socklen_t addr_len() const { return len_; }
    // For the *at() calls (fstatat, fchmodat, unlinkat): a directory (an fd,
    // or AT_FDCWD) and the name to use in it.
    int at_dir() const { return dir_fd_ >= 0 ? dir_fd_ : AT_FDCWD; }
    const std::string& at_name() const { return dir_fd_ >= 0 ? name_ : usable_; }

private:
    UnixPath() = default;
    std::string path_, usable_, name_;
    sockaddr_un addr_{};
    socklen_t len_ = 0;
    int dir_fd_ = -1;
};

}  // namespace fracta::http::detail
