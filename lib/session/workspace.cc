#include "session/workspace.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "base/io.h"
#include "base/text.h"

namespace fracta::session {
namespace {

std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> parts;
    for (std::string& part : split(path, '/'))
        if (!part.empty() && part != ".") parts.push_back(std::move(part));
    return parts;
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    void reset(int fd) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

// Every component that exists already must be a real directory (or, for the
// last one, a regular file) — never a symlink.
Status check_no_symlinks(const std::string& root, const std::string& rel) {
    std::vector<std::string> parts = components(rel);
    std::string path = root;
    for (size_t i = 0; i < parts.size(); ++i) {
        path += "/" + parts[i];
        struct stat st;
        if (::lstat(path.c_str(), &st) != 0) return {};  // the rest will be created
        if (S_ISLNK(st.st_mode)) return usage_error("refusing to write through a symlink: " + rel);
        bool last = i + 1 == parts.size();
        if (!last && !S_ISDIR(st.st_mode)) return usage_error("not a directory on the way to " + rel);
        if (last && S_ISDIR(st.st_mode)) return usage_error("is a directory: " + rel);
    }
    return {};
}

Status write_one(int root_fd, const std::string& rel, const std::string& content) {
    std::vector<std::string> parts = components(rel);
    Fd dir(::dup(root_fd));
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        if (::mkdirat(dir.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST)
            return failure("mkdir " + rel + ": " + io::errno_text(errno));
        int next = ::openat(dir.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) return usage_error("refusing to write through a symlink: " + rel);
        dir.reset(next);
    }
    int fd = ::openat(dir.get(), parts.back().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == ELOOP) return usage_error("refusing to write through a symlink: " + rel);
        return failure("write " + rel + ": " + io::errno_text(errno));
    }
    Fd file(fd);
    std::string_view rest = content;
    while (!rest.empty()) {
        ssize_t n = ::write(fd, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failure("write " + rel + ": " + io::errno_text(errno));
        rest.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

}  // namespace

Status validate_relative_path(const std::string& path) {
    if (path.empty()) return usage_error("empty file path");
    if (path[0] == '/') return usage_error("absolute path not allowed: " + path);
    if (path.find('\0') != std::string::npos) return usage_error("bad file path");
    std::vector<std::string> parts = components(path);
    if (parts.empty()) return usage_error("not a file path: " + path);
    for (const std::string& p : parts)
        if (p == "..") return usage_error("path leaves the workdir: " + path);
    return {};
}

Status check_files(const std::string& root, const std::map<std::string, std::string>& files) {
    for (const auto& [rel, content] : files) {
        FRACTA_TRY(validate_relative_path(rel));
        FRACTA_TRY(check_no_symlinks(root, rel));
    }
    return {};
}

Status write_files(const std::string& root, const std::map<std::string, std::string>& files) {
    FRACTA_TRY(check_files(root, files));
    Fd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (root_fd.get() < 0) return failure("open workdir " + root + ": " + io::errno_text(errno));
    for (const auto& [rel, content] : files) FRACTA_TRY(write_one(root_fd.get(), rel, content));
    return {};
}

}  // namespace fracta::session
