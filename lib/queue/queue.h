// queue.h — the durable mission queue over a Store: enqueue, claim with a
// lease, heartbeat, finish (complete, fail, release), expire lost leases.
//
// One row per mission in `missions`. A worker claims the oldest pending
// mission of the highest priority; the claim sets a lease that heartbeats
// extend. Every change after the claim is a compare-and-set on (id, status
// 'claimed', claimed_by): a worker whose lease was reaped and handed to
// another can no longer touch the mission, and learns so from the error
// ("lease lost"). On Postgres the claim locks its candidate with FOR UPDATE
// SKIP LOCKED, so replicas sharing one database never take the same mission
// nor wait on each other; sqlite serialises writers (BEGIN IMMEDIATE).
//
// `attempt` counts claims. A lease that expires sends the mission back to
// pending with the attempt kept (the next claim counts the next one), or,
// once attempt >= max_attempts, to failed with error "lease expired". A
// release (drain) gives the attempt back: handing work over is not a failure.
//
// A Queue is used by one thread at a time, like the Store it wraps; workers
// each hold their own Store connection and Queue.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "base/time.h"
#include "base/units.h"
#include "store/store.h"

namespace fracta::queue {

// Notified when a mission may have become claimable (enqueued, released,
// expired back to pending) or capacity was freed (completed, failed).
inline constexpr const char* kChannel = "fracta_missions";

// The last words of the error of a compare-and-set that found the mission
// no longer claimed by the caller.
inline constexpr const char* kLeaseLost = "lease lost";

struct Mission {
    int64_t id = 0;
    std::string task;
    Json payload = Json::object();
    std::string status;  // pending | claimed | completed | failed | cancelled
    int priority = 0;
    int attempt = 0;  // claims so far (a release gives its claim back)
    int max_attempts = 3;
    std::string claimed_by;        // kept after complete/fail: who finished it
    std::string lease_expires_at;  // RFC 3339 UTC; "" unless claimed
    std::string created_at, updated_at;
    std::string error;  // why it failed, or the last release/expiry note
};

class Queue {
public:
    explicit Queue(store::Store& store, std::function<Timestamp()> clock = now);

    // Add a pending mission (its own transaction); returns its id.
    Result<int64_t> enqueue(const std::string& task, const Json& payload, int priority = 0, int max_attempts = 3);
    // The same, inside a transaction the caller has open on this Store (the
    // control plane inserts an agent row and its mission together). Never
    // call enqueue() there: store transactions do not nest.
    Result<int64_t> enqueue_in_tx(const std::string& task, const Json& payload, int priority = 0,
                                  int max_attempts = 3);

    // Take the pending mission with the highest priority, oldest first: status
    // claimed, claimed_by = worker, attempt + 1, lease until now + lease.
    // Nothing pending: nullopt. `admit`, if given, sees the candidate inside
    // the claim transaction (it may query this Store, not open a transaction;
    // it may run again if the transaction is retried). Refused: the mission
    // stays pending and the next one in order is offered (up to 8 in all:
    // one whose runtime is at its cap must not hold back the others); none
    // admitted: nullopt. An error aborts the claim.
    Result<std::optional<Mission>> claim(const std::string& worker, Duration lease,
                                         const std::function<Result<bool>(const Mission&)>& admit = {});

    // Compare-and-set on the caller's claim; error "mission N: lease lost" when
    // the mission is no longer claimed by `worker`. A lease that has run out but
    // has not been reaped yet is still the worker's.
    Status heartbeat(int64_t id, const std::string& worker, Duration lease);  // lease = now + lease
    // The same for many of `worker`'s missions in one statement (a few
    // hundred at a time); returns the ids still claimed by `worker` (the
    // others' leases are lost).
    Result<std::vector<int64_t>> heartbeat(const std::vector<int64_t>& ids, const std::string& worker, Duration lease);
    Status complete(int64_t id, const std::string& worker);                   // → completed
    Status fail(int64_t id, const std::string& worker, const std::string& error);  // → failed, for good
    // Hand the mission back (drain): → pending, the claim's attempt returned,
    // `error` kept as a note.
    Status release(int64_t id, const std::string& worker, const std::string& error);

    // Pending missions of `task` → cancelled; returns how many. Claimed ones are
    // left to their worker (the agent's cancel flag stops them).
    Result<int64_t> cancel_for_task(const std::string& task);
    Result<int64_t> cancel_for_task_in_tx(const std::string& task);

    // Claimed missions whose lease is before now: back to pending while
    // attempt < max_attempts, else failed with error "lease expired". Returns
    // the missions changed, as they are now.
    Result<std::vector<Mission>> expire_leases();

    // What expire_leases() would change now, changing nothing (a dry run).
    Result<std::vector<Mission>> expired_leases();
    Result<std::optional<Mission>> get(int64_t id);
    Result<std::vector<Mission>> for_task(const std::string& task);  // oldest first
    // Missions by status, every status present (zero included): for /metrics.
    Result<std::map<std::string, int64_t>> counts();

    // Block until a mission may have become claimable, or the timeout passes
    // (true: woken; false: timed out). Postgres: LISTEN kChannel; sqlite: the
    // database file changed (any write, so wakes can be spurious). The first
    // call subscribes and returns true at once, because work may have arrived
    // before the subscription: claim again, then wait.
    Result<bool> wait_for_work(std::chrono::milliseconds timeout);

private:
    Result<int64_t> insert(const std::string& task, const Json& payload, int priority, int max_attempts);
    Result<int64_t> cancel_pending(const std::string& task);
    // Run `sql` (an UPDATE … RETURNING id) in a transaction, notifying when
    // `notify`; an error ending in kLeaseLost when no row changed.
    Status compare_and_set(int64_t id, const std::string& what, const std::string& sql, const store::Params& params,
                           bool notify);
    std::string stamp() const;

    store::Store& store_;
    std::function<Timestamp()> clock_;
    bool listening_ = false;
};

// Whether `error` says the caller's claim is gone (another worker has it, or
// it was reaped, finished or cancelled): stop working on it, do not retry.
bool lease_lost(const Error& error);

}  // namespace fracta::queue
