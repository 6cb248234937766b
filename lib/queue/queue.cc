#include "queue/queue.h"

#include <algorithm>
#include <string_view>
#include <utility>

namespace fracta::queue {
namespace {

constexpr const char* kColumns =
    "id, task, payload, status, priority, attempt, max_attempts, claimed_by, lease_expires_at, created_at, "
    "updated_at, error";

const char* const kStatuses[] = {"pending", "claimed", "completed", "failed", "cancelled"};

Result<Mission> mission_from_row(const store::Row& r) {
    Mission m;
    m.id = r.integer(0);
    m.task = r.text(1);
    auto payload = parse_json(r.text(2));
    if (!payload.ok()) return std::move(payload).take_error().context("mission " + std::to_string(m.id) + " payload");
    m.payload = std::move(*payload);
    m.status = r.text(3);
    m.priority = static_cast<int>(r.integer(4));
    m.attempt = static_cast<int>(r.integer(5));
    m.max_attempts = static_cast<int>(r.integer(6));
    m.claimed_by = r.text(7);
    m.lease_expires_at = r.text(8);
    m.created_at = r.text(9);
    m.updated_at = r.text(10);
    m.error = r.text(11);
    return m;
}

Result<std::vector<Mission>> missions_from_rows(const store::Rows& rows) {
    std::vector<Mission> out;
    out.reserve(rows.size());
    for (const store::Row& r : rows) {
        FRACTA_TRY_ASSIGN(m, mission_from_row(r));
        out.push_back(std::move(m));
    }
    return out;
}

Timestamp plus(Timestamp t, Duration d) {
    constexpr int64_t kBillion = 1'000'000'000;
    int64_t ns = static_cast<int64_t>(t.nanos) + d.count() % kBillion;
    int64_t s = t.seconds + d.count() / kBillion + ns / kBillion;
    ns %= kBillion;
    if (ns < 0) {
        ns += kBillion;
        --s;
    }
    return {s, static_cast<int32_t>(ns)};
}

Status check_lease(Duration lease) {
    if (lease <= Duration::zero()) return usage_error("lease must be positive");
    return {};
}

}  // namespace

Queue::Queue(store::Store& store, std::function<Timestamp()> clock) : store_(store), clock_(std::move(clock)) {}

std::string Queue::stamp() const { return format_rfc3339(clock_()); }

Result<int64_t> Queue::insert(const std::string& task, const Json& payload, int priority, int max_attempts) {
    if (task.empty()) return usage_error("enqueue: mission has no task");
    if (max_attempts < 1) return usage_error("enqueue: max_attempts must be at least 1");
    const std::string t = stamp();
    FRACTA_TRY_ASSIGN(rows, store_.query("INSERT INTO missions (task, payload, status, priority, attempt, "
                                         "max_attempts, created_at, updated_at) VALUES (?, ?, 'pending', ?, 0, ?, ?, ?) "
                                         "RETURNING id",
                                         {task, to_line(payload), int64_t{priority}, int64_t{max_attempts}, t, t}));
    if (rows.size() != 1) return failure("enqueue: no id returned");
    FRACTA_TRY(store_.notify(kChannel));
    return rows[0].integer(0);
}

Result<int64_t> Queue::enqueue_in_tx(const std::string& task, const Json& payload, int priority, int max_attempts) {
    auto id = insert(task, payload, priority, max_attempts);
    if (!id.ok()) return std::move(id).take_error().context("enqueue " + task);
    return id;
}

Result<int64_t> Queue::enqueue(const std::string& task, const Json& payload, int priority, int max_attempts) {
    int64_t id = 0;
    Status done = store_.transaction([&]() -> Status {
        FRACTA_TRY_ASSIGN(inserted, insert(task, payload, priority, max_attempts));
        id = inserted;
        return {};
    });
    if (!done.ok()) return std::move(done).take_error().context("enqueue " + task);
    return id;
}

// Pending missions a claim looks at, in order: one `admit` refuses (its
// runtime at its cap) must not hold back the others behind it.
constexpr size_t kCandidates = 8;

Result<std::optional<Mission>> Queue::claim(const std::string& worker, Duration lease,
                                            const std::function<Result<bool>(const Mission&)>& admit) {
    if (worker.empty()) return usage_error("claim: no worker name");
    FRACTA_TRY(check_lease(lease));
    // Postgres: lock the candidate, skipping rows other claimers hold, so
    // replicas neither collide nor queue up behind each other. sqlite:
    // BEGIN IMMEDIATE already made this transaction the only writer.
    // One candidate at a time (a refused one stays locked until the end of the
    // transaction, the next is not locked before it is looked at). A frozen
    // objective's missions stay queued until it is unfrozen (the circuit
    // breaker; objectives/objectives.h).
    auto pick = [&](const std::vector<int64_t>& refused) -> std::pair<std::string, store::Params> {
        std::string sql = std::string("SELECT ") + kColumns +
                          " FROM missions WHERE status = 'pending' AND task NOT IN (SELECT a.name FROM agents a"
                          " JOIN objectives o ON o.id = a.objective_id WHERE o.status = 'frozen')";
        store::Params params;
        for (size_t i = 0; i < refused.size(); ++i) {
            sql += i == 0 ? " AND id NOT IN (?" : ", ?";
            params.emplace_back(refused[i]);
        }
        if (!refused.empty()) sql += ")";
        sql += " ORDER BY priority DESC, id LIMIT 1";
        if (store_.dialect() == store::Dialect::Postgres) sql += " FOR UPDATE SKIP LOCKED";
        return {sql, params};
    };
    const std::string take = std::string("UPDATE missions SET status = 'claimed', claimed_by = ?, attempt = attempt + 1, "
                                         "lease_expires_at = ?, updated_at = ? WHERE id = ? AND status = 'pending' "
                                         "RETURNING ") +
                             kColumns;

    std::optional<Mission> claimed;
    Status done = store_.transaction([&]() -> Status {
        claimed.reset();
        std::optional<Mission> chosen;
        std::vector<int64_t> refused;
        while (!chosen && refused.size() < kCandidates) {
            auto [sql, params] = pick(refused);
            FRACTA_TRY_ASSIGN(rows, store_.query(sql, params));
            if (rows.empty()) break;
            FRACTA_TRY_ASSIGN(candidate, mission_from_row(rows[0]));
            if (admit) {
                FRACTA_TRY_ASSIGN(admitted, admit(candidate));
                if (!admitted) {
                    refused.push_back(candidate.id);
                    continue;
                }
            }
            chosen = std::move(candidate);
        }
        if (!chosen) return {};
        const Mission& candidate = *chosen;
        const Timestamp t = clock_();
        FRACTA_TRY_ASSIGN(updated, store_.query(take, {worker, format_rfc3339(plus(t, lease)), format_rfc3339(t),
                                                       candidate.id}));
        if (updated.empty()) return {};  // cannot happen while we hold the row; nothing claimed
        FRACTA_TRY_ASSIGN(m, mission_from_row(updated[0]));
        claimed = std::move(m);
        return {};
    });
    if (!done.ok()) return std::move(done).take_error().context("claim");
    return claimed;
}

Status Queue::compare_and_set(int64_t id, const std::string& what, const std::string& sql,
                              const store::Params& params, bool notify) {
    bool changed = false;
    Status done = store_.transaction([&]() -> Status {
        FRACTA_TRY_ASSIGN(rows, store_.query(sql, params));
        changed = !rows.empty();
        if (changed && notify) FRACTA_TRY(store_.notify(kChannel));
        return {};
    });
    const std::string context = what + " mission " + std::to_string(id);
    if (!done.ok()) return std::move(done).take_error().context(context);
    if (!changed) return failure(context + ": " + kLeaseLost);
    return {};
}

Status Queue::heartbeat(int64_t id, const std::string& worker, Duration lease) {
    FRACTA_TRY(check_lease(lease));
    const Timestamp t = clock_();
    return compare_and_set(id, "heartbeat",
                           "UPDATE missions SET lease_expires_at = ?, updated_at = ? "
                           "WHERE id = ? AND status = 'claimed' AND claimed_by = ? RETURNING id",
                           {format_rfc3339(plus(t, lease)), format_rfc3339(t), id, worker}, false);
}

Result<std::vector<int64_t>> Queue::heartbeat(const std::vector<int64_t>& ids, const std::string& worker,
                                              Duration lease) {
    FRACTA_TRY(check_lease(lease));
    constexpr size_t kChunk = 500;
    const Timestamp t = clock_();
    std::vector<int64_t> held;
    for (size_t from = 0; from < ids.size(); from += kChunk) {
        const size_t n = std::min(kChunk, ids.size() - from);
        std::string sql =
            "UPDATE missions SET lease_expires_at = ?, updated_at = ? WHERE status = 'claimed' AND claimed_by = ? "
            "AND id IN (?";
        for (size_t i = 1; i < n; ++i) sql += ", ?";
        sql += ") RETURNING id";
        store::Params params = {format_rfc3339(plus(t, lease)), format_rfc3339(t), worker};
        for (size_t i = 0; i < n; ++i) params.emplace_back(ids[from + i]);
        FRACTA_TRY_ASSIGN(rows, store_.query(sql, params));
        for (const auto& r : rows) held.push_back(r.integer(0));
    }
    return held;
}

Status Queue::complete(int64_t id, const std::string& worker) {
    return compare_and_set(id, "complete",
                           "UPDATE missions SET status = 'completed', lease_expires_at = '', error = '', updated_at = ? "
                           "WHERE id = ? AND status = 'claimed' AND claimed_by = ? RETURNING id",
                           {stamp(), id, worker}, true);
}

Status Queue::fail(int64_t id, const std::string& worker, const std::string& error) {
    return compare_and_set(id, "fail",
                           "UPDATE missions SET status = 'failed', lease_expires_at = '', error = ?, updated_at = ? "
                           "WHERE id = ? AND status = 'claimed' AND claimed_by = ? RETURNING id",
                           {error, stamp(), id, worker}, true);
}

Status Queue::release(int64_t id, const std::string& worker, const std::string& error) {
    return compare_and_set(id, "release",
                           "UPDATE missions SET status = 'pending', claimed_by = '', lease_expires_at = '', "
                           "attempt = CASE WHEN attempt > 0 THEN attempt - 1 ELSE 0 END, error = ?, updated_at = ? "
                           "WHERE id = ? AND status = 'claimed' AND claimed_by = ? RETURNING id",
                           {error, stamp(), id, worker}, true);
}

Result<int64_t> Queue::cancel_pending(const std::string& task) {
    FRACTA_TRY_ASSIGN(rows, store_.query("UPDATE missions SET status = 'cancelled', updated_at = ? "
                                         "WHERE task = ? AND status = 'pending' RETURNING id",
                                         {stamp(), task}));
    return static_cast<int64_t>(rows.size());
}

Result<int64_t> Queue::cancel_for_task_in_tx(const std::string& task) {
    auto n = cancel_pending(task);
    if (!n.ok()) return std::move(n).take_error().context("cancel missions of " + task);
    return n;
}

Result<int64_t> Queue::cancel_for_task(const std::string& task) {
    int64_t cancelled = 0;
    Status done = store_.transaction([&]() -> Status {
        FRACTA_TRY_ASSIGN(n, cancel_pending(task));
        cancelled = n;
        return {};
    });
    if (!done.ok()) return std::move(done).take_error().context("cancel missions of " + task);
    return cancelled;
}

Result<std::vector<Mission>> Queue::expire_leases() {
    // One statement: on Postgres a heartbeat committed meanwhile is re-read
    // before the row is changed (the WHERE is re-checked), so a lease renewed
    // in time is never reaped.
    const std::string sql =
        std::string("UPDATE missions SET "
                    "status = CASE WHEN attempt < max_attempts THEN 'pending' ELSE 'failed' END, "
                    "claimed_by = CASE WHEN attempt < max_attempts THEN '' ELSE claimed_by END, "
                    "lease_expires_at = '', error = 'lease expired', updated_at = ? "
                    "WHERE status = 'claimed' AND lease_expires_at <> '' AND lease_expires_at < ? RETURNING ") +
        kColumns;
    std::vector<Mission> changed;
    Status done = store_.transaction([&]() -> Status {
        changed.clear();
        const std::string t = stamp();
        FRACTA_TRY_ASSIGN(rows, store_.query(sql, {t, t}));
        FRACTA_TRY_ASSIGN(missions, missions_from_rows(rows));
        changed = std::move(missions);
        for (const Mission& m : changed)
            if (m.status == "pending") return store_.notify(kChannel);
        return {};
    });
    if (!done.ok()) return std::move(done).take_error().context("expire leases");
    std::sort(changed.begin(), changed.end(), [](const Mission& a, const Mission& b) { return a.id < b.id; });
    return changed;
}

Result<std::vector<Mission>> Queue::expired_leases() {
    FRACTA_TRY_ASSIGN(rows, store_.query(std::string("SELECT ") + kColumns +
                                             " FROM missions WHERE status = 'claimed' AND lease_expires_at <> '' "
                                             "AND lease_expires_at < ? ORDER BY id",
                                         {stamp()}));
    return missions_from_rows(rows);
}

Result<std::optional<Mission>> Queue::get(int64_t id) {
    FRACTA_TRY_ASSIGN(rows, store_.query(std::string("SELECT ") + kColumns + " FROM missions WHERE id = ?", {id}));
    if (rows.empty()) return std::optional<Mission>();
    FRACTA_TRY_ASSIGN(m, mission_from_row(rows[0]));
    return std::optional<Mission>(std::move(m));
}

Result<std::vector<Mission>> Queue::for_task(const std::string& task) {
    FRACTA_TRY_ASSIGN(rows, store_.query(std::string("SELECT ") + kColumns + " FROM missions WHERE task = ? ORDER BY id",
                                         {task}));
    return missions_from_rows(rows);
}

Result<std::map<std::string, int64_t>> Queue::counts() {
    FRACTA_TRY_ASSIGN(rows, store_.query("SELECT status, COUNT(*) FROM missions GROUP BY status"));
    std::map<std::string, int64_t> out;
    for (const char* s : kStatuses) out[s] = 0;
    for (const store::Row& r : rows) out[r.text(0)] = r.integer(1);
    return out;
}

Result<bool> Queue::wait_for_work(std::chrono::milliseconds timeout) {
    if (!listening_) {
        FRACTA_TRY(store_.listen(kChannel));
        listening_ = true;
        return true;
    }
    FRACTA_TRY_ASSIGN(wake, store_.wait_change(timeout, -1));
    return wake == store::Wake::Changed;
}

bool lease_lost(const Error& error) {
    const std::string_view m = error.message, tail = kLeaseLost;
    return error.kind == ErrorKind::Failed && m.size() >= tail.size() && m.substr(m.size() - tail.size()) == tail;
}

}  // namespace fracta::queue
