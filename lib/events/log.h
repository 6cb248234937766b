// log.h — the event log over a Store: append with a gapless seq, list with
// filters, the latest seq, and watch (replay, then follow).
//
// Gapless and ordered by construction: the next seq comes from a counter row
// updated in the same transaction as the insert. Writers serialise on that
// row, so seq k+1 cannot commit before k, and a failed append rolls its seq
// back. A watcher at cursor N therefore never sees an event <= N appear later.
//
// Retention (events.retention: keep the newest N events) bounds the log: an
// append with a retention set deletes what fell out of the window in the
// same transaction, and prune() does it for a reap pass. Seqs stay gapless,
// so a watcher whose next seq is gone can tell: it gets expired_error()
// (as Kubernetes answers 410 Gone), never a silent gap.
#pragma once

#include <functional>
#include <vector>

#include "events/event.h"
#include "store/store.h"

namespace fracta::events {

inline constexpr const char* kChannel = "fracta_events";

// `watch AFTER: expired: …`: the events after the cursor were removed by
// retention. ErrorKind::Failed: retrying the same cursor cannot help; the
// reader starts again from latest-seq (or from 0: the oldest kept).
Error expired_error(uint64_t after_seq, uint64_t oldest_kept);

class EventLog {
public:
    // retention: keep the newest N events on each append (0: keep all).
    explicit EventLog(store::Store& store, uint64_t retention = 0) : store_(store), retention_(retention) {}

    // Assigns and returns the seq. `event.seq` is ignored.
    Result<uint64_t> append(const Event& event);
    // The same inside a transaction the caller holds (so an event commits or
    // rolls back with the change it describes).
    Result<uint64_t> append_in_tx(const Event& event);
    Result<std::vector<Event>> list(const Filter& filter);
    Result<uint64_t> latest_seq();
    // Delete every event but the newest `keep` (0: none deleted); returns how
    // many went (with dry_run: how many would, nothing deleted).
    Result<uint64_t> prune(uint64_t keep, bool dry_run = false);

    // Call `sink` for every event with seq > after_seq, in order, then for
    // each new one as it is recorded. Returns when `sink` fails, or when
    // `hangup_fd` reports that the reader went away (then: success).
    // Temporary store failures (a database restart) are waited out.
    // expired_error() when the event after the cursor is gone (retention),
    // at the start or later (a reader that fell behind); after_seq 0 means
    // "from the oldest event kept" and never expires at the start.
    Status watch(uint64_t after_seq, int hangup_fd, const std::function<Status(const Event&)>& sink);

private:
    store::Store& store_;
    uint64_t retention_;
};

}  // namespace fracta::events
