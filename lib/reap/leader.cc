#include "reap/leader.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fracta::reap {
namespace {

// Any constant distinct from the control plane's admission lock (7142037).
constexpr const char* kLockKey = "7142038";

}  // namespace

Result<std::optional<Leadership>> Leadership::take(store::Store& store, const std::string& store_url) {
    if (store.dialect() == store::Dialect::Postgres) {
        FRACTA_TRY_ASSIGN(rows, store.query(std::string("SELECT CASE WHEN pg_try_advisory_lock(") + kLockKey +
                                            ") THEN 1 ELSE 0 END"));
        if (rows.empty() || rows[0].integer(0) != 1) return std::optional<Leadership>();
        return std::optional<Leadership>(Leadership(&store, -1));
    }
    std::string path = store_url.rfind("sqlite:", 0) == 0 ? store_url.substr(7) : store_url;
    path += ".reap.lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return failure("reaper lock " + path + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        ::close(fd);
        if (err == EWOULDBLOCK) return std::optional<Leadership>();
        return failure("reaper lock " + path + ": " + std::strerror(err));
    }
    return std::optional<Leadership>(Leadership(nullptr, fd));
}

Leadership::Leadership(Leadership&& other) noexcept : pg_(other.pg_), fd_(other.fd_) {
    other.pg_ = nullptr;
    other.fd_ = -1;
}

Leadership::~Leadership() {
    if (pg_) (void)pg_->query(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")");
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace fracta::reap
