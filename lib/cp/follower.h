// follower.h — the one thread per control plane that follows every Running
// agent this process holds a claim for (spec: control-plane.md "Queue and
// workers"). Workers only start sessions (or adopt them) and settle their
// ends; between the two, an agent costs this process no thread and no
// process of its own.
//
// How ends are seen: one `watch` of the provider (fracta-spawn-local tells
// changes from inotify, fracta-spawn-k8s from one pod watch per namespace)
// for every session at once. A line that tells an end with `wait`'s answer
// (fracta-spawn-local's do) is taken as it is: no process per end, so a
// burst of ends reaches the workers at once. Any other session the watch
// says has stopped running is asked `ended()` (`wait NAME 0`). A
// provider without `watch` (exit 2) is polled instead: one `list` per
// interval for all sessions, or, without `list` either, one is-running per
// session per interval, one after another — never a process per session
// left running.
//
// The claims are kept in batches: one heartbeat statement per claiming
// worker id and one over the agents every beat (a third of the lease, 1–2
// s), which also finds kills (cancel_requested, a terminal status, the row
// gone). A run's time limit is checked at each beat.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cp/context.h"
#include "provider/client.h"
#include "queue/queue.h"

namespace fracta::cp {

// A Running agent whose claim this process holds.
struct Followed {
    queue::Mission mission;
    std::string worker;                                             // the claim's holder (claimed_by)
    std::optional<std::chrono::steady_clock::time_point> deadline;  // its time limit, if any
};

// Why an agent is no longer followed: for a worker to settle.
struct Ending {
    enum class Why { Ended, Killed, TimedOut, Error } why = Why::Ended;
    Followed followed;
    provider::WaitResult result;  // Ended
    std::string error;            // Error: why the provider could not say
};

class Follower {
public:
    explicit Follower(Context& ctx);
    ~Follower();
    Follower(const Follower&) = delete;
    Follower& operator=(const Follower&) = delete;

    void start();
    // From a worker, once the agent is Running.
    void add(Followed f);
    // An end for a worker to settle, if one is waiting.
    std::optional<Ending> take();
    // Agents followed or waiting to be settled.
    size_t count() const;
    // Stop following; hand every mission still followed or unsettled back to
    // the queue (their sessions run on; whoever claims them next adopts them).
    void stop();

private:
    void loop();
    void wake();

    Context& ctx_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    int wake_[2] = {-1, -1};  // a pipe: add() and stop() interrupt the wait
    mutable std::mutex mu_;
    std::vector<Followed> added_;  // not yet seen by the thread
    std::deque<Ending> ended_;
    std::atomic<size_t> followed_{0};
};

}  // namespace fracta::cp
