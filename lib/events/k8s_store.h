// k8s_store.h — the `k8s:` / `k8s:<namespace>` event store: the log kept in
// ConfigMaps, in the layout Gas City's gc-events-k8s script reads (so its
// `list` and `watch` work on what fracta records), with the contract's
// guarantees the script lacks (spec/exec-provider.md, "Events contract").
//
// Layout, in the namespace of the URL (else the client config's):
//   gc-events-seq        the counter. data.seq: the highest assigned seq
//                        (decimal); data.last-event: that event's JSON.
//                        Labels gc/component=event-seq, managed-by.
//   gc-evt-%010d         one per event. data.event: the event JSON (seq set).
//                        Labels gc/component=event, gc/type, gc/actor
//                        (sanitised to label values; readers re-check the
//                        exact strings), managed-by.
//
// Why the counter carries the event: a seq is taken by a compare-and-swap
// replace of the counter (its resourceVersion as precondition; 409 Conflict:
// read again, retry after a jittered backoff, bounded; then 111). Writing the
// event into that same replace makes the CAS the commit point: once it
// succeeds the event is durable, even if the process dies before it creates
// gc-evt-<seq>. Whoever later reads the counter and finds last-event's
// ConfigMap missing creates it from the counter ("helping"): every writer
// before its own CAS (an error there fails the record), and list and watch
// when their LIST lacks it (best effort: they answer with the counter's copy
// either way, so read-only clients work). So:
//   - no gaps, nothing lost: each seq <= data.seq has its event either as a
//     ConfigMap or in last-event; a CAS that fails commits nothing;
//   - visible in seq order: gc-evt-N+1 is created only after the CAS to N+1,
//     which its writer made only after it saw gc-evt-N exist. A consistent
//     LIST or watch therefore never shows N+1 without N (watch still buffers
//     out-of-order arrivals, in case a server does not keep that order);
//   - latest-seq (the counter) equals the last seq list prints.
// A record whose CAS succeeded reports success even if creating its own
// ConfigMap then fails: the event is recorded (readers already answer with
// it) and the next writer creates the ConfigMap, or fails loudly if it cannot.
//
// Old events may be deleted (Gas City's retention CronJob): readers treat
// seqs below the oldest ConfigMap as gone, not as a gap to wait for.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "events/provider.h"
#include "k8s/client.h"

namespace fracta::events {

inline constexpr const char* kK8sCounterName = "gc-events-seq";
inline constexpr const char* kK8sEventPrefix = "gc-evt-";

// "k8s:" or "k8s:<namespace>".
bool is_k8s_url(std::string_view url);

// gc-evt-0000000042 (ten digits at least, as Gas City names them).
std::string k8s_event_name(uint64_t seq);
// A label value for any string: characters outside [A-Za-z0-9._-] become
// '_', at most 63 characters, starting and ending alphanumeric (else "").
std::string k8s_label_value(std::string_view text);

class K8sStore final : public Backend {
public:
    // Resolves the client config (no request is made yet).
    static Result<std::unique_ptr<K8sStore>> open(const std::string& url, const OpenOptions& options);
    explicit K8sStore(k8s::Client client) : client_(std::move(client)) {}

    Status ensure() override;
    Result<uint64_t> append(const Event& event) override;
    Result<std::vector<Event>> list(const Filter& filter) override;
    Result<uint64_t> latest_seq() override;
    Status watch(uint64_t after_seq, int hangup_fd, const std::function<Status(const Event&)>& sink) override;

    // CAS attempts per record before giving up with 111.
    static constexpr int kCasAttempts = 24;

private:
    struct Counter {
        uint64_t seq = 0;
        std::optional<Event> last;  // the event with seq == this seq, if the counter holds it
        Json object;                // as read: the base of the next replace
    };
    // `create`: a missing counter is created (seq 0); else read as seq 0.
    Result<Counter> read_counter(bool create);
    Status materialise(const Counter& c);  // create gc-evt-<c.seq> from c.last if missing
    Result<Counter> settled_counter(bool create);  // read_counter + materialise
    // True when `listed` lacks the counter's last event (which it then tries
    // to materialise): the caller adds c.last to its answer.
    bool adopt_last(const Counter& c, const std::vector<Event>& listed);
    Result<std::vector<Event>> list_events(const std::string& selector, std::string* resource_version);

    k8s::Client client_;
};

}  // namespace fracta::events
