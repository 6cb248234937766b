// worker.h — the control plane's workers: threads that claim missions from
// the durable queue, start their sessions, and settle them when they end
// (spec: control-plane.md "Queue and workers"). `workers` bounds how many
// starts (and settlements) run at once, not how many agents run: between
// start and end an agent is the follower's (follower.h), and how many run
// is max_concurrent's to say.
//
// Per mission: claim → (adopt a session that is already there, or) render
// the runtime's files and command, mint the agent's gateway token (only its
// hash is stored), provider `start` → Running → handed to the follower,
// which keeps the lease and notices the end, a kill or the time limit → a
// worker parses the output → Completed / Failed → finishes the mission.
//
// Never twice: before `start` the agent row records that a start was asked
// for; a later claim of the same mission (after a crash, an expired lease or
// a drain) asks the provider about the session first and adopts it when it
// exists. The lease is stretched over each provider call's budget before it
// begins (the start, an adoption's status, the status after Running) — until
// the follower's first beat nothing else renews it — so neither a slow start
// nor a slow adoption is claimed from under it; a store failing around the
// start gives the mission back (the session, if any, is left to be adopted)
// rather than failing the agent. Every status change is a compare-and-set, so
// a kill that got there first (Stopped) is never overwritten.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cp/context.h"
#include "cp/follower.h"

namespace fracta::cp {

class Workers {
public:
    // `id_prefix` names this process in claims: "<host>-<pid>".
    Workers(Context& ctx, std::string id_prefix) : ctx_(ctx), id_prefix_(std::move(id_prefix)), follower_(ctx) {}
    ~Workers() { stop(); }

    void start(int count);
    // Stop claiming; wait up to `timeout` for starts to finish and running
    // agents to end (and be settled), then hand the rest back to the queue
    // (their sessions keep running and are adopted by whoever claims them
    // next); join.
    void drain(std::chrono::milliseconds timeout);
    void stop() { drain(std::chrono::milliseconds(0)); }

private:
    void loop(int index);
    bool sleep_for(std::chrono::milliseconds d);  // false when handing back

    Context& ctx_;
    std::string id_prefix_;
    Follower follower_;
    std::vector<std::thread> threads_;
    std::atomic<bool> stop_claiming_{false}, hand_back_{false};
    std::mutex mu_;
    std::condition_variable cv_;
    std::atomic<int64_t> next_expiry_ms_{0};
};

}  // namespace fracta::cp
