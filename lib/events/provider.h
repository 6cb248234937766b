// provider.h — fracta-events: the events provider contract of Gas City
// (ensure-running, record, list, latest-seq, watch) plus fracta's queries over
// the same log (query, tail), as one library entry the thin main calls.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/cli.h"
#include "store/store.h"

namespace fracta::events {

// How the provider talks to the world; main wires these to stdin/stdout.
struct Io {
    std::function<Result<std::string>(size_t max_bytes)> read_input;
    std::function<Status(std::string_view)> write;
    int hangup_fd = -1;  // watched for the reader going away (watch, tail -f)
};

// The store is opened only once the input is known to be good, so bad input
// never creates or touches a store.
using StoreOpener = std::function<Result<store::Store*>()>;

const cli::Command& command();
bool is_operation(const std::string& op);

struct StoreChoice {
    std::string url;
    std::string source;                 // "--store", "FRACTA_EVENTS_STORE", the fracta.yaml path, "default"
    std::vector<std::string> warnings;  // from fracta.yaml
};

// --store, then FRACTA_EVENTS_STORE, then runtime.state of the nearest
// fracta.yaml, then sqlite:$XDG_STATE_HOME/fracta/events.db.
Result<StoreChoice> choose_store(const std::string& flag, const std::string& cwd);

// Run one operation. `text` selects the human format (--format text).
Status run(const std::string& op, const std::vector<std::string>& args, const StoreOpener& open_store, Io& io,
           bool text);

}  // namespace fracta::events
