#include "events/log.h"

#include <algorithm>
#include <thread>

namespace fracta::events {
namespace {

constexpr const char* kColumns = "SELECT seq, ts, type, actor, subject, message, payload FROM events";

Event event_from_row(const store::Row& r) {
    Event e;
    e.seq = static_cast<uint64_t>(r.integer(0));
    e.ts = r.text(1);
    e.type = r.text(2);
    e.actor = r.text(3);
    e.subject = r.text(4);
    e.message = r.text(5);
    e.payload = r.text(6);
    return e;
}

}  // namespace

Error expired_error(uint64_t after_seq, uint64_t oldest_kept) {
    return {ErrorKind::Failed, "watch " + std::to_string(after_seq) + ": expired: the events after seq " +
                                   std::to_string(after_seq) + " were removed by events.retention (oldest kept: " +
                                   std::to_string(oldest_kept) + "); start again from latest-seq"};
}

Result<uint64_t> EventLog::append_in_tx(const Event& event) {
    // ts_utc: the normalised form that compares as time (ts is validated upstream).
    FRACTA_TRY_ASSIGN(parsed, parse_rfc3339(event.ts));
    FRACTA_TRY_ASSIGN(rows, store_.query("UPDATE event_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq"));
    if (rows.size() != 1) return failure("event log: sequence row missing");
    const uint64_t seq = static_cast<uint64_t>(rows[0].integer(0));
    store::Value payload = event.payload.empty() ? store::Value{} : store::Value{event.payload};
    FRACTA_TRY(store_.exec(
        "INSERT INTO events (seq, ts, ts_utc, type, actor, subject, message, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        {static_cast<int64_t>(seq), event.ts, format_rfc3339(parsed), event.type, event.actor, event.subject,
         event.message, payload}));
    // One indexed delete of (usually) the one event that left the window.
    if (retention_ && seq > retention_)
        FRACTA_TRY(store_.exec("DELETE FROM events WHERE seq <= ?", {static_cast<int64_t>(seq - retention_)}));
    FRACTA_TRY(store_.notify(kChannel));
    return seq;
}

Result<uint64_t> EventLog::append(const Event& event) {
    uint64_t seq = 0;
    Status done = store_.transaction([&]() -> Status {
        FRACTA_TRY_ASSIGN(assigned, append_in_tx(event));
        seq = assigned;
        return {};
    });
    if (!done.ok()) return std::move(done).take_error().context("record");
    return seq;
}

Result<std::vector<Event>> EventLog::list(const Filter& f) {
    std::string sql = std::string(kColumns) + " WHERE seq > ?";
    store::Params params = {static_cast<int64_t>(std::min<uint64_t>(f.after_seq, INT64_MAX))};
    auto add = [&](const char* clause, store::Value v) {
        sql += clause;
        params.push_back(std::move(v));
    };
    if (!f.type.empty()) add(" AND type = ?", f.type);
    if (!f.actor.empty()) add(" AND actor = ?", f.actor);
    if (!f.subject.empty()) add(" AND subject = ?", f.subject);
    if (f.since) add(" AND ts_utc >= ?", format_rfc3339(*f.since));
    sql += f.newest ? " ORDER BY seq DESC" : " ORDER BY seq";
    if (f.limit) sql += " LIMIT " + std::to_string(std::min<uint64_t>(f.limit, INT64_MAX));

    FRACTA_TRY_ASSIGN(rows, store_.query(sql, params));
    std::vector<Event> events;
    events.reserve(rows.size());
    for (const store::Row& r : rows) events.push_back(event_from_row(r));
    if (f.newest) std::reverse(events.begin(), events.end());
    return events;
}

Result<uint64_t> EventLog::latest_seq() {
    FRACTA_TRY_ASSIGN(rows, store_.query("SELECT seq FROM event_seq WHERE id = 1"));
    if (rows.empty()) return failure("event log: sequence row missing");
    return static_cast<uint64_t>(rows[0].integer(0));
}

Result<uint64_t> EventLog::prune(uint64_t keep, bool dry_run) {
    if (keep == 0) return uint64_t{0};
    FRACTA_TRY_ASSIGN(latest, latest_seq());
    if (latest <= keep) return uint64_t{0};
    const store::Params upto = {static_cast<int64_t>(latest - keep)};
    FRACTA_TRY_ASSIGN(rows, store_.query("SELECT COUNT(*) FROM events WHERE seq <= ?", upto));
    if (!dry_run) FRACTA_TRY(store_.exec("DELETE FROM events WHERE seq <= ?", upto));
    return static_cast<uint64_t>(rows[0].integer(0));
}

Status EventLog::watch(uint64_t after_seq, int hangup_fd, const std::function<Status(const Event&)>& sink) {
    constexpr size_t kBatch = 1000;
    // Notifications wake us; the timeout is only a safety net for a lost one.
    constexpr std::chrono::milliseconds kRecheck(2000);
    std::chrono::milliseconds backoff(0);
    bool listening = false;
    uint64_t cursor = after_seq;

    auto pause_after = [&](const Error& e) -> Status {
        if (e.kind != ErrorKind::Temporary) return e;
        backoff = std::min(std::chrono::milliseconds(10000), std::max(std::chrono::milliseconds(250), backoff * 2));
        std::this_thread::sleep_for(backoff);
        return {};
    };

    for (;;) {
        if (!listening) {
            Status l = store_.listen(kChannel);
            if (!l.ok()) {
                FRACTA_TRY(pause_after(l.error()));
                continue;
            }
            listening = true;
        }
        Filter page;
        page.after_seq = cursor;
        page.limit = kBatch;
        auto batch = list(page);
        if (!batch.ok()) {
            FRACTA_TRY(pause_after(batch.error()));
            continue;
        }
        backoff = std::chrono::milliseconds(0);
        for (const Event& e : *batch) {
            // Seqs have no gaps, so a jump means the events between were pruned.
            if (cursor != 0 && e.seq != cursor + 1) return expired_error(cursor, e.seq);
            FRACTA_TRY(sink(e));
            cursor = e.seq;
        }
        if (batch->size() == kBatch) continue;

        auto wake = store_.wait_change(kRecheck, hangup_fd);
        if (!wake.ok()) {
            FRACTA_TRY(pause_after(wake.error()));
            continue;
        }
        if (*wake == store::Wake::Hangup) return {};
    }
}

}  // namespace fracta::events
