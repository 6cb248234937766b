#include "session/session_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "base/io.h"
#include "base/time.h"

namespace fracta::session {
namespace {

namespace fs = std::filesystem;

bool mtime_of(const std::string& path, struct timespec* out) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return false;
    *out = st.st_mtim;
    return true;
}

// Whether anyone holds the lock, probed without taking it (OFD GETLK).
bool lock_held(const std::string& lock_path) {
    int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    int rc = ::fcntl(fd, F_OFD_GETLK, &fl);
    ::close(fd);
    return rc == 0 && fl.l_type != F_UNLCK;
}

}  // namespace

namespace {
bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}
}  // namespace

// Plain loops rather than std::regex: these run in every provider call and
// in every supervisor, where regex's code and start-up cost show.
Status validate_name(const std::string& name) {
    bool ok = !name.empty() && name.size() <= 200 && std::all_of(name.begin(), name.end(), name_char);
    if (!ok) return usage_error("invalid session name \"" + name + "\" (use letters, digits, '_' and '-', at most 200)");
    return {};
}

Status validate_meta_key(const std::string& key) {
    bool ok = !key.empty() && key.size() <= 200 && key[0] != '.' &&
              std::all_of(key.begin(), key.end(), [](char c) { return name_char(c) || c == '.'; });
    if (!ok) return usage_error("invalid meta key \"" + key + "\"");
    return {};
}

namespace {
bool is_dir(const fs::path& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool is_file(const fs::path& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
}  // namespace

// A missing .fracta/ at one level is the normal case, not an error: probe
// with stat(2) so that nothing ends the climb before the filesystem root.
std::string state_root(const std::string& cwd) {
    if (const char* dir = std::getenv("FRACTA_STATE_DIR"); dir && *dir) return dir;
    std::error_code ec;
    fs::path p = fs::absolute(cwd, ec).lexically_normal();
    for (; !ec && !p.empty(); p = p.parent_path()) {
        if (is_dir(p / ".fracta")) return (p / ".fracta" / "sessions").string();
        // A Gas City city (city.toml at its root): its own sessions, so two
        // cities with the same agent names never meet.
        if (is_file(p / "city.toml")) return (p / ".gc" / "fracta" / "sessions").string();
        if (p == p.parent_path()) break;
    }
    if (const char* run = std::getenv("XDG_RUNTIME_DIR"); run && *run == '/')
        return std::string(run) + "/fracta/sessions";
    return "/tmp/fracta-" + std::to_string(::getuid()) + "/sessions";
}

Json State::to_json() const {
    Json j = {{"name", name}, {"mode", mode}, {"phase", phase}, {"supervisor_pid", supervisor_pid},
              {"pgid", pgid}, {"work_dir", work_dir}, {"started_at", started_at}};
    if (!control.empty()) j["control"] = control;
    if (!ended_at.empty()) j["ended_at"] = ended_at;
    if (exit_code) j["exit_code"] = *exit_code;
    if (signal) j["signal"] = signal;
    if (stopped) j["stopped"] = true;
    return j;
}

Result<State> State::from_json(const Json& j) {
    if (!j.is_object()) return failure("state.json is not an object");
    State s;
    s.name = j.value("name", "");
    s.mode = j.value("mode", "batch");
    s.phase = j.value("phase", "starting");
    s.supervisor_pid = j.value("supervisor_pid", 0);
    s.pgid = j.value("pgid", 0);
    s.work_dir = j.value("work_dir", "");
    s.control = j.value("control", "");
    s.started_at = j.value("started_at", "");
    s.ended_at = j.value("ended_at", "");
    if (j.contains("exit_code") && j["exit_code"].is_number_integer()) s.exit_code = j["exit_code"].get<int>();
    s.signal = j.value("signal", 0);
    s.stopped = j.value("stopped", false);
    return s;
}

SessionDir::SessionDir(std::string root, std::string name)
    : root_(std::move(root)), name_(std::move(name)), path_(root_ + "/" + name_) {}

bool SessionDir::exists() const { return ::access(path_.c_str(), F_OK) == 0; }

Liveness SessionDir::liveness() const {
    if (lock_held(file("lock"))) return Liveness::Alive;
    return exists() ? Liveness::Dead : Liveness::Absent;
}

Result<State> SessionDir::read_state() const {
    FRACTA_TRY_ASSIGN(text, io::read_file(file("state.json"), 1 << 20));
    FRACTA_TRY_ASSIGN(json, parse_json(text));
    return State::from_json(json);
}

Status SessionDir::write_state(const State& s) const {
    // Only the end must survive a power loss: it is the session's result.
    return io::write_file_atomic(file("state.json"), to_line(s.to_json()) + "\n", 0600, s.phase == "exited");
}

std::string SessionDir::status(std::optional<State>* out) const {
    Liveness live = liveness();
    if (live == Liveness::Absent) return "absent";
    auto state = read_state();
    if (state.ok() && out) *out = *state;
    if (state.ok() && state->phase == "exited") return "exited";
    if (live == Liveness::Alive) return state.ok() && state->phase == "running" ? "running" : "starting";
    return state.ok() ? "lost" : "absent";  // a directory without a state never started
}

Result<std::string> SessionDir::tail(long lines) const {
    int fd = ::open(file("output.log").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::string();
    struct stat st;
    ::fstat(fd, &st);
    // Enough bytes for the lines asked for, in the common case.
    const off_t window = lines > 0 ? std::min<off_t>(st.st_size, std::max<off_t>(65536, lines * 512)) : st.st_size;
    std::string data(static_cast<size_t>(window), '\0');
    ssize_t n = ::pread(fd, data.data(), data.size(), st.st_size - window);
    ::close(fd);
    data.resize(n > 0 ? static_cast<size_t>(n) : 0);
    data.erase(std::remove(data.begin(), data.end(), '\r'), data.end());
    if (lines <= 0) return data;
    size_t end = data.size();
    if (end && data[end - 1] == '\n') --end;  // a final newline does not start a line
    size_t pos = end;
    for (long i = 0; i < lines && pos != std::string::npos; ++i) {
        pos = pos == 0 ? std::string::npos : data.rfind('\n', pos - 1);
    }
    return pos == std::string::npos ? data : data.substr(pos + 1);
}

std::string SessionDir::last_activity() const {
    struct timespec out = {}, in = {};
    bool has_out = mtime_of(file("output.log"), &out);
    bool has_in = mtime_of(file("input"), &in);
    if (!has_out && !has_in) return "";
    struct timespec t = out;
    if (has_in && (!has_out || in.tv_sec > out.tv_sec || (in.tv_sec == out.tv_sec && in.tv_nsec > out.tv_nsec)))
        t = in;
    return format_rfc3339({t.tv_sec, static_cast<int32_t>(t.tv_nsec)});
}

Status SessionDir::touch_input() const {
    int fd = ::open(file("input").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return failure("touch input: " + io::errno_text(errno));
    ::futimens(fd, nullptr);
    ::close(fd);
    return {};
}

Result<std::string> SessionDir::get_meta(const std::string& key) const {
    FRACTA_TRY(validate_meta_key(key));
    auto value = io::read_file(path_ + "/meta/" + key, 1 << 20);
    if (!value.ok()) return std::string();
    return value;
}

Status SessionDir::set_meta(const std::string& key, const std::string& value) const {
    FRACTA_TRY(validate_meta_key(key));
    FRACTA_TRY(io::make_dirs(path_ + "/meta", 0700));
    return io::write_file_atomic(path_ + "/meta/" + key, value, 0600);
}

Status SessionDir::remove_meta(const std::string& key) const {
    FRACTA_TRY(validate_meta_key(key));
    if (::unlink((path_ + "/meta/" + key).c_str()) != 0 && errno != ENOENT)
        return failure("remove meta " + key + ": " + io::errno_text(errno));
    return {};
}

std::vector<std::string> list_names(const std::string& root, const std::string& prefix) {
    std::vector<std::string> names;
    DIR* dir = ::opendir(root.c_str());
    if (!dir) return names;
    while (struct dirent* e = ::readdir(dir)) {
        std::string name = e->d_name;
        if (name.empty() || name[0] == '.' || name.rfind(prefix, 0) != 0) continue;
        if (!validate_name(name).ok()) continue;
        names.push_back(name);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

Result<int> take_lock(const std::string& lock_path, std::chrono::milliseconds patience) {
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return failure("open " + lock_path + ": " + io::errno_text(errno));
    auto deadline = std::chrono::steady_clock::now() + patience;
    for (;;) {
        struct flock fl = {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (::fcntl(fd, F_OFD_SETLK, &fl) == 0) return fd;
        if (errno != EAGAIN && errno != EACCES) {
            int err = errno;
            ::close(fd);
            return failure("lock " + lock_path + ": " + io::errno_text(err));
        }
        // Someone waiting on the session holds a read lock for an instant;
        // a live owner holds it for good.
        if (std::chrono::steady_clock::now() >= deadline) {
            ::close(fd);
            return failure("session already exists");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

Result<bool> wait_unlocked(const std::string& lock_path, std::chrono::milliseconds timeout) {
    // Wake when a writer closes the lock file (its owner holds it open for
    // writing, and a dying owner closes it too), then probe. Probes open it
    // read-only, so our own probe never wakes us. The periodic probe only
    // covers filesystems without inotify.
    int in = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (in >= 0) ::inotify_add_watch(in, lock_path.c_str(), IN_CLOSE_WRITE | IN_DELETE_SELF | IN_ATTRIB);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool result = false;
    for (;;) {
        if (!lock_held(lock_path)) {
            result = true;
            break;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        struct pollfd p = {in, POLLIN, 0};
        ::poll(&p, in >= 0 ? 1 : 0, static_cast<int>(std::min<long long>(left.count(), 1000)));
        char buf[4096];
        while (in >= 0 && ::read(in, buf, sizeof buf) > 0) {
        }
    }
    if (in >= 0) ::close(in);
    return result;
}

}  // namespace fracta::session
