// follower.cc — see follower.h.
#include "cp/follower.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "agents/agents.h"

namespace fracta::cp {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kPollInterval{1000};  // a provider without `watch`: one batch this often
constexpr milliseconds kRestartDelay{1000};  // a watch that ended: started again after this,
constexpr milliseconds kRestartMax{30000};   // doubled while it keeps failing before it synced
// With a watch, one `list` this often still asks after every followed
// session: a change a watch could not tell (a pod gone while its stream was
// relisting) is found within a minute.
constexpr milliseconds kResync{60000};

bool live(const std::string& state) {
    return state == "starting" || state == "running" || state == "unknown";
}

// How often the claims are renewed: three beats per lease, and often enough
// to honour a kill within seconds.
milliseconds beat_interval(const Context& ctx) {
    auto third = std::chrono::duration_cast<milliseconds>(ctx.settings.config.queue.lease_timeout) / 3;
    return std::clamp(third, milliseconds(1000), milliseconds(2000));
}

milliseconds until(Clock::time_point t) {
    return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(t - Clock::now()));
}

// Lines from a non-blocking descriptor; false once it reached its end.
bool read_lines(int fd, std::string& buf, std::vector<std::string>& lines) {
    char chunk[16384];
    for (;;) {
        ssize_t got = ::read(fd, chunk, sizeof chunk);
        if (got == 0) return false;
        if (got < 0) return errno == EAGAIN || errno == EINTR;
        buf.append(chunk, static_cast<size_t>(got));
        for (size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1))
            lines.push_back(buf.substr(0, nl));
    }
}

// The thread's state: what it follows, what the watch last said.
class Round {
public:
    Round(Context& ctx, store::Store& store) : ctx_(ctx), queue_(store), agents_(store) {}

    std::map<std::string, Followed> followed;  // by task
    std::vector<Ending> ended;                 // for the workers
    size_t dropped = 0;                        // claims found lost (no longer ours to follow)

    void add(Followed f) {
        const std::string task = f.mission.task;
        followed[task] = std::move(f);
        // The watch may have told of its end before the worker handed it over.
        if (!watching_ || !synced_ || !live(known_[task])) suspects_.insert(task);
    }

    // Wait for the watch (or the next poll, beat or wake), then do what is due.
    void step(int wake_fd, const std::atomic<bool>& stop) {
        // The watch starts with the first session to follow: a control plane
        // with nothing running asks its provider (and a cluster) nothing.
        const bool watch_due = !polling_ && !watch_ && !followed.empty();
        if (watch_due && Clock::now() >= restart_at_) start_watch();
        auto next = std::min(next_beat_, next_poll_);
        if (!polling_ && !watch_ && !followed.empty()) next = std::min(next, restart_at_);
        struct pollfd p[3] = {{wake_fd, POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}};
        if (watch_) {
            p[1].fd = watch_->stdout_fd();
            p[2].fd = watch_->stderr_fd();
        }
        ::poll(p, 3, static_cast<int>(until(next).count()));
        if (p[0].revents & POLLIN) {
            char drain[64];
            while (::read(wake_fd, drain, sizeof drain) > 0) {
            }
        }
        if (stop) return;
        if (watch_) read_watch();
        if (Clock::now() >= next_poll_) poll_provider();
        const bool beat_due = Clock::now() >= next_beat_;
        if (beat_due) suspects_.merge(lingering_);
        check_suspects();
        if (beat_due) beat();
    }

    // At stop: every mission not settled goes back to the queue.
    void hand_back(std::vector<Ending> unsettled) {
        for (auto& e : unsettled) followed.emplace(e.followed.mission.task, std::move(e.followed));
        for (const auto& [task, f] : followed) {
            Status s = queue_.release(f.mission.id, f.worker, "handed back at drain");
            if (s.ok())
                ++ctx_.counters.finished_released;
            else if (!queue::lease_lost(s.error()))
                ctx_.log("warn", "follower: " + s.error().message);
        }
        followed.clear();
        if (watch_) watch_->stop(milliseconds(500));
    }

private:
    // A watch that cannot start or ends before it synced (a cluster not
    // there, a kubeconfig missing) is tried again less and less often.
    void back_off() {
        restart_at_ = Clock::now() + restart_delay_;
        restart_delay_ = std::min(restart_delay_ * 2, kRestartMax);
    }

    void start_watch() {
        auto w = ctx_.provider.watch("");
        if (!w.ok()) {
            ctx_.log("warn", "follower: watch: " + w.error().message);
            back_off();
            return;
        }
        watch_ = std::move(*w);
        watching_ = true;
        synced_ = false;
        told_ = false;
        known_.clear();
        out_.clear();
        err_.clear();
    }

    void read_watch() {
        std::vector<std::string> lines, errors;
        bool open = read_lines(watch_->stdout_fd(), out_, lines);
        (void)read_lines(watch_->stderr_fd(), err_, errors);
        for (const std::string& e : errors) ctx_.log("warn", "follower: watch: " + e);
        for (const std::string& line : lines) {
            auto w = provider::decode_watch_line(line);
            if (!w.ok()) {
                ctx_.log("warn", "follower: " + w.error().message);
                continue;
            }
            told_ = true;
            if (w->synced) {
                synced_ = true;
                restart_delay_ = kRestartDelay;
                for (const auto& [task, f] : followed)
                    if (!live(known_[task])) suspects_.insert(task);
                continue;
            }
            const std::string& name = w->status.name;
            known_[name] = w->status.state;
            auto it = followed.find(name);
            if (it != followed.end() && w->ended) {
                ended_with(it, std::move(*w->ended));  // the line says how: no `wait` to ask
                lingering_.erase(name);
            } else if (it != followed.end() && !live(w->status.state)) {
                suspects_.insert(name);
            }
        }
        if (open && !watch_->exited()) return;
        watch_->wait_exit(milliseconds(1000));
        const int code = watch_->exit_code();
        watch_.reset();
        watching_ = false;
        if (code == exit_code(ErrorKind::Unsupported) && !told_) {
            ctx_.log("info", "follower: the provider has no watch: polling it every " +
                                 std::to_string(kPollInterval.count()) + " ms");
            polling_ = true;
            next_poll_ = Clock::now();
            return;
        }
        ctx_.log("warn", "follower: the provider's watch ended (exit " + std::to_string(code) + "); starting it again in " +
                             std::to_string(restart_delay_.count()) + " ms");
        back_off();
        for (const auto& [task, f] : followed) suspects_.insert(task);  // whatever it missed meanwhile
    }

    // No watch (or the watch's resync): one `list` for all; without `list`,
    // every followed session is a suspect (ended() then asks is-running, one
    // at a time).
    void poll_provider() {
        next_poll_ = Clock::now() + (polling_ ? kPollInterval : kResync);
        if (followed.empty()) return;
        auto all = ctx_.provider.list("");
        if (!all.ok()) {
            ctx_.log("warn", "follower: list: " + all.error().message);
            return;
        }
        std::map<std::string, std::string> states;
        if (*all)
            for (const auto& s : **all) states[s.name] = s.state;
        for (const auto& [task, f] : followed)
            if (!*all || !live(states.count(task) ? states[task] : "absent")) suspects_.insert(task);
    }

    // Ask each session the watch or the poll says stopped how it ended.
    void check_suspects() {
        std::set<std::string> now;
        now.swap(suspects_);
        for (const std::string& task : now) {
            auto it = followed.find(task);
            if (it == followed.end()) continue;
            auto e = ctx_.provider.ended(task);
            if (e.ok() && !*e) {  // still running
                // The watch told it ended, yet it still holds on: the kernel
                // tells a lock file's close before it lets go of the lock,
                // and a start still running holds it too. Asked again at
                // each beat until it lets go (no later line need come).
                if (watching_ && known_.count(task) && !live(known_[task])) lingering_.insert(task);
                continue;
            }
            if (e.ok()) {
                ended_with(it, std::move(**e));
                continue;
            }
            Ending end;
            end.why = Ending::Why::Error;
            end.error = e.error().message;
            hand_over(it, std::move(end));
        }
    }

    void ended_with(std::map<std::string, Followed>::iterator it, provider::WaitResult result) {
        Ending end;
        end.result = std::move(result);
        hand_over(it, std::move(end));
    }

    void finish(std::map<std::string, Followed>::iterator it, Ending::Why why) {
        Ending end;
        end.why = why;
        hand_over(it, std::move(end));
    }

    // No longer followed: the end goes to the workers with what was followed.
    void hand_over(std::map<std::string, Followed>::iterator it, Ending end) {
        end.followed = std::move(it->second);
        followed.erase(it);
        ended.push_back(std::move(end));
    }

    // The claims renewed, kills and time limits found: a few statements for
    // all, whatever their number.
    void beat() {
        next_beat_ = Clock::now() + beat_interval(ctx_);
        if (followed.empty()) return;
        const auto lease = ctx_.settings.config.queue.lease_timeout;
        std::map<std::string, std::vector<int64_t>> by_worker;
        for (const auto& [task, f] : followed) by_worker[f.worker].push_back(f.mission.id);
        std::set<int64_t> lost;
        for (const auto& [worker, ids] : by_worker) {
            auto held = queue_.heartbeat(ids, worker, lease);
            if (!held.ok()) {  // the store's trouble: the lease has time left; try at the next beat
                ctx_.log("warn", "follower: heartbeat: " + held.error().message);
                continue;
            }
            std::set<int64_t> kept(held->begin(), held->end());
            for (int64_t id : ids)
                if (!kept.count(id)) lost.insert(id);
        }
        for (auto it = followed.begin(); it != followed.end();) {
            if (!lost.count(it->second.mission.id)) {
                ++it;
                continue;
            }
            ctx_.log("warn", "mission " + std::to_string(it->second.mission.id) + " (" + it->first +
                                 "): lease lost; another worker has it");
            it = followed.erase(it);
            ++dropped;
        }
        std::vector<std::string> names;
        for (const auto& [task, f] : followed) names.push_back(task);
        auto beats = agents_.heartbeat(names);
        if (!beats.ok()) {
            ctx_.log("warn", "follower: agents heartbeat: " + beats.error().message);
            return;
        }
        std::set<std::string> present;
        for (const auto& b : *beats) {
            present.insert(b.name);
            auto it = followed.find(b.name);
            if (it != followed.end() && (b.cancel_requested || is_terminal(b.status))) finish(it, Ending::Why::Killed);
        }
        const auto now = Clock::now();
        for (auto it = followed.begin(); it != followed.end();) {
            auto next = std::next(it);
            if (!present.count(it->first))
                finish(it, Ending::Why::Killed);  // removed under us
            else if (it->second.deadline && now >= *it->second.deadline)
                finish(it, Ending::Why::TimedOut);
            it = next;
        }
    }

    Context& ctx_;
    queue::Queue queue_;
    agents::Agents agents_;
    std::unique_ptr<proc::Process> watch_;
    bool watching_ = false, synced_ = false, told_ = false, polling_ = false;
    std::string out_, err_;
    std::map<std::string, std::string> known_;  // session → the state the watch last told
    std::set<std::string> suspects_;            // followed sessions that may have ended
    std::set<std::string> lingering_;           // told ended, still holding on: asked again at the next beat
    Clock::time_point next_beat_ = Clock::now(), next_poll_ = Clock::now() + kResync, restart_at_ = Clock::now();
    milliseconds restart_delay_ = kRestartDelay;
};

}  // namespace

Follower::Follower(Context& ctx) : ctx_(ctx) {
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
}

Follower::~Follower() {
    stop();
    for (int fd : wake_)
        if (fd >= 0) ::close(fd);
}

void Follower::start() {
    thread_ = std::thread([this] { loop(); });
}

void Follower::wake() {
    if (wake_[1] >= 0) (void)!::write(wake_[1], "w", 1);
}

void Follower::add(Followed f) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        added_.push_back(std::move(f));
        ++followed_;
    }
    wake();
}

std::optional<Ending> Follower::take() {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_.empty()) return std::nullopt;
    Ending e = std::move(ended_.front());
    ended_.pop_front();
    --followed_;
    return e;
}

size_t Follower::count() const {
    return followed_;
}

void Follower::stop() {
    stop_ = true;
    wake();
    if (thread_.joinable()) thread_.join();
}

void Follower::loop() {
    std::unique_ptr<store::Store> store;
    while (!store && !stop_) {
        auto opened = ctx_.pool.open_dedicated();
        if (opened.ok()) {
            store = std::move(*opened);
        } else {
            ctx_.log("warn", "follower: " + opened.error().message);
            struct pollfd p = {wake_[0], POLLIN, 0};
            ::poll(&p, 1, 1000);
        }
    }
    if (!store) return;
    Round round(ctx_, *store);
    while (!stop_) {
        std::vector<Followed> fresh;
        {
            std::lock_guard<std::mutex> lock(mu_);
            fresh.swap(added_);
        }
        for (auto& f : fresh) round.add(std::move(f));
        round.step(wake_[0], stop_);
        if (round.dropped) followed_ -= std::exchange(round.dropped, 0);
        if (!round.ended.empty()) {
            std::lock_guard<std::mutex> lock(mu_);
            for (auto& e : round.ended) ended_.push_back(std::move(e));
            round.ended.clear();
        }
    }
    std::vector<Ending> unsettled;
    {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& f : added_) round.add(std::move(f));
        added_.clear();
        for (auto& e : ended_) unsettled.push_back(std::move(e));
        ended_.clear();
        followed_ = 0;
    }
    round.hand_back(std::move(unsettled));
}

}  // namespace fracta::cp
