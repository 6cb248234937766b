// local_watch.cc — `watch PREFIX` of fracta-spawn-local (see local.h): one
// process that tells a control plane when any of its sessions changes state,
// so that it needs no process per session to learn of an end.
//
// inotify, not polling: a supervisor's end is a close of its lock file (it
// holds it open for writing its whole life; the kernel closes it even on
// SIGKILL) and, when it ended cleanly, the rename of state.json just before.
// Probes of the lock open it read-only (IN_CLOSE_NOWRITE, not watched), so
// reading a session's status here never wakes this loop again. A rescan
// every 30 s, and at once after an event queue overflow, covers anything
// inotify could not say. The line of a session whose supervisor has let go
// of its lock carries `wait`'s answer ("ended"), so the control plane needs
// no `wait` process per end.
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <vector>

#include "base/io.h"
#include "provider/local.h"

namespace fracta::provider {
namespace {

using session::SessionDir;

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kRescan{30000};
constexpr std::chrono::milliseconds kLingerEvery{10};  // an ended session still holding its lock: looked at again
constexpr std::chrono::milliseconds kLingerFor{2000};  // … this long, then told without its end
constexpr uint32_t kSessionEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF;
constexpr uint32_t kRootEvents = IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR;

class Watcher {
public:
    Watcher(std::string root, std::string prefix, Io& io)
        : root_(std::move(root)), prefix_(std::move(prefix)), io_(io) {}
    ~Watcher() {
        if (in_ >= 0) ::close(in_);
    }

    Status run() {
        FRACTA_TRY(io::make_dirs(root_, 0700));
        in_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (in_ < 0) return failure("watch: inotify: " + io::errno_text(errno));
        root_wd_ = ::inotify_add_watch(in_, root_.c_str(), kRootEvents);
        if (root_wd_ < 0) return failure("watch " + root_ + ": " + io::errno_text(errno));
        FRACTA_TRY(rescan());
        FRACTA_TRY(io_.write("{\"synced\":true}\n"));
        auto next_rescan = Clock::now() + kRescan;
        for (;;) {
            const auto wait = !lingering() ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                                       next_rescan - Clock::now())
                                                 : kLingerEvery;
            struct pollfd p[2] = {{in_, POLLIN, 0}, {io_.hangup_fd, 0, 0}};
            int n = ::poll(p, io_.hangup_fd >= 0 ? 2 : 1, static_cast<int>(std::max<int64_t>(0, wait.count())));
            if (n < 0 && errno != EINTR) return failure("watch: poll: " + io::errno_text(errno));
            if (reader_gone(io_)) return {};
            if (n > 0 && (p[0].revents & POLLIN)) FRACTA_TRY(drain_events());
            FRACTA_TRY(recheck_lingering());
            if (Clock::now() >= next_rescan) {
                FRACTA_TRY(rescan());
                next_rescan = Clock::now() + kRescan;
            }
        }
    }

private:
    bool wanted(const std::string& name) const {
        return name.rfind(prefix_, 0) == 0 && session::validate_name(name).ok();
    }

    void follow_dir(const std::string& name) {
        int wd = ::inotify_add_watch(in_, (root_ + "/" + name).c_str(), kSessionEvents);
        if (wd >= 0) names_[wd] = name;
    }

    // Print the session's status when its state, exit code or supervisor's
    // presence differs from what was printed last.
    Status tell(const std::string& name) {
        SessionDir dir(root_, name);
        Json j = session_status(dir);
        const std::string state = j.value("state", "");
        const bool held = dir.liveness() == session::Liveness::Alive;
        // The supervisor records the end, then lets go of its lock: `wait`
        // says "ended" only after the second. The kernel may tell the lock's
        // close before it lets go of the lock, and nothing tells the
        // release: such a session is looked at again shortly and told once
        // it let go, with how it ended — or, still held after a while, told
        // as it is (the reader then asks `wait` itself).
        if (state == "exited" && held) {
            auto l = lingering_.try_emplace(name, Lingering{Clock::now() + kLingerFor, false});
            if (Clock::now() < l.first->second.until) return {};
            l.first->second.given_up = true;
        } else {
            lingering_.erase(name);
        }
        std::string key = state + "/" + (j.contains("exit_code") ? j["exit_code"].dump() : "") + (held ? "/held" : "");
        auto [it, fresh] = told_.try_emplace(name, key);
        if (!fresh && it->second == key) return {};
        it->second = key;
        if (key.rfind("absent/", 0) == 0) told_.erase(it);
        // An end comes with `wait`'s answer: the reader needs no `wait` (a
        // process per session) to learn how it ended.
        if (!held && (state == "exited" || state == "lost")) j["ended"] = end_answer(dir);
        return io_.write(to_line(j) + "\n");
    }

    bool lingering() const {
        return std::any_of(lingering_.begin(), lingering_.end(), [](const auto& l) { return !l.second.given_up; });
    }

    // The sessions ended while still holding their lock, again.
    Status recheck_lingering() {
        std::vector<std::string> names;
        for (const auto& [name, l] : lingering_)
            if (!l.given_up) names.push_back(name);
        for (const std::string& name : names) FRACTA_TRY(tell(name));
        return {};
    }

    Status rescan() {
        std::map<std::string, std::string> before = told_;
        for (const std::string& name : session::list_names(root_, prefix_)) {
            follow_dir(name);  // inotify gives the same wd for a directory watched twice
            before.erase(name);
            FRACTA_TRY(tell(name));
        }
        for (const auto& [name, state] : before) FRACTA_TRY(tell(name));  // gone since: absent
        return {};
    }

    Status drain_events() {
        alignas(struct inotify_event) char buf[16384];
        for (;;) {
            ssize_t got = ::read(in_, buf, sizeof buf);
            if (got <= 0) return {};
            for (char* p = buf; p < buf + got;) {
                auto* e = reinterpret_cast<struct inotify_event*>(p);
                p += sizeof(struct inotify_event) + e->len;
                if (e->mask & IN_Q_OVERFLOW) {
                    FRACTA_TRY(rescan());
                } else if (e->wd == root_wd_) {
                    std::string name = e->len ? e->name : "";
                    if (!wanted(name)) continue;
                    if (e->mask & (IN_CREATE | IN_MOVED_TO)) follow_dir(name);
                    FRACTA_TRY(tell(name));
                } else if (auto it = names_.find(e->wd); it != names_.end()) {
                    std::string name = it->second;
                    if (e->mask & IN_IGNORED) names_.erase(it);
                    FRACTA_TRY(tell(name));
                }
            }
        }
    }

    std::string root_, prefix_;
    Io& io_;
    int in_ = -1, root_wd_ = -1;
    std::map<int, std::string> names_;         // watch descriptor → session
    std::map<std::string, std::string> told_;  // session → "state/exit code" last printed
    struct Lingering {
        Clock::time_point until;  // looked at again until then
        bool given_up = false;    // … and then told as it was
    };
    std::map<std::string, Lingering> lingering_;  // ended, its lock still held
};

}  // namespace

Status watch_sessions(const std::string& root, const std::string& prefix, Io& io) {
    return Watcher(root, prefix, io).run();
}

}  // namespace fracta::provider
