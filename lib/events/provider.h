// provider.h — fracta-events: the events provider contract of Gas City
// (ensure-running, record, list, latest-seq, watch) plus fracta's queries over
// the same log (query, tail), as one library entry the thin main calls.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/cli.h"
#include "base/tool.h"
#include "config/config.h"
#include "events/event.h"
#include "store/store.h"

namespace fracta::events {

// How the provider talks to the world is base/tool.h's Io (read_input,
// write; hangup_fd is watched for the reader going away: watch, tail -f).

// One event store as the operations see it. The SQL stores (sqlite:,
// postgres:) are an EventLog over a store::Store; k8s: is K8sStore
// (k8s_store.h). Each keeps the contract's guarantees its own way.
class Backend {
public:
    virtual ~Backend() = default;
    // ensure-running: create whatever a first record would need.
    virtual Status ensure() = 0;
    virtual Result<uint64_t> append(const Event& event) = 0;  // the assigned seq
    virtual Result<std::vector<Event>> list(const Filter& filter) = 0;
    virtual Result<uint64_t> latest_seq() = 0;
    // As EventLog::watch: every event with seq > after_seq in order, then new
    // ones; returns when `sink` fails or `hangup_fd` reports the reader gone.
    virtual Status watch(uint64_t after_seq, int hangup_fd, const std::function<Status(const Event&)>& sink) = 0;
};

// How a k8s: store finds its cluster (the rest: lib/k8s/config.h).
struct OpenOptions {
    std::string kubeconfig;  // --kubeconfig
    std::string context;     // --context
    uint64_t retention = 0;  // events.retention: sqlite: and postgres: keep the newest N (0: all)
};

// events.retention of a loaded fracta.yaml (validated by config::load): keep
// the newest N events; 0 (the default) keeps all.
uint64_t retention(const config::Config& config);

// Open the store a URL names: sqlite:…, postgres(ql)://…, k8s:[NAMESPACE].
Result<std::unique_ptr<Backend>> open_backend(const std::string& url, const OpenOptions& options);

// The store is opened only once the input is known to be good, so bad input
// never creates or touches a store.
using StoreOpener = std::function<Result<Backend*>()>;

struct StoreChoice {
    std::string url;
    std::string source;                 // "--store", "FRACTA_EVENTS_STORE", the fracta.yaml path, "default"
    std::vector<std::string> warnings;  // from fracta.yaml
    uint64_t retention = 0;             // events.retention of that fracta.yaml (0: keep all)
};

// --store, then FRACTA_EVENTS_STORE, then runtime.state of the nearest
// fracta.yaml, then sqlite:$XDG_STATE_HOME/fracta/events.db.
Result<StoreChoice> choose_store(const std::string& flag, const std::string& cwd);

// Run one operation. `text` selects the human format (--format text).
Status run(const std::string& op, const std::vector<std::string>& args, const StoreOpener& open_store, Io& io,
           bool text);

}  // namespace fracta::events
