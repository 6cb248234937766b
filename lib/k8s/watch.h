// watch.h — what Client::watch, Client::log and Client::follow_log take and
// give (implemented in watch.cc). A watch is list-then-watch: the callback
// first sees every object as it is (listed: true), then each change; it
// remembers the last resourceVersion (BOOKMARKs included), reconnects from
// there when the stream ends or drops, and lists again after 410 Gone (the
// version fell out of the server's window; that ERROR event is handled here,
// not shown). Any other ERROR event reaches the callback and then ends the
// watch with its Status as the error. It also ends when the callback says
// stop, at the deadline, or when `cancelled` says so.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "base/json.h"

namespace fracta::k8s {

struct WatchEvent {
    std::string type;     // ADDED MODIFIED DELETED BOOKMARK ERROR
    Json object;          // the object (ERROR: a Status)
    bool listed = false;  // from a LIST (the start, or after 410), not the stream
};

struct WatchOptions {
    std::string label_selector, field_selector;  // e.g. "metadata.name=fracta-agent-x"
    std::string resource_version;                // set: no LIST, watch from here
    std::optional<std::chrono::steady_clock::time_point> deadline;
    std::function<bool()> cancelled;  // polled about once a second
    long server_timeout_seconds = 300;  // each watch request's timeoutSeconds; then it reconnects
};

enum class WatchEnd { Stopped, Deadline, Cancelled };

struct WatchResult {
    WatchEnd end = WatchEnd::Stopped;
    std::string resource_version;  // the last one seen: resume a later watch here
    int reconnects = 0;            // streams reopened (dropped or ended)
    int relists = 0;               // LISTs after 410 Gone
};

// Return false to stop the watch (then WatchEnd::Stopped).
using WatchCallback = std::function<bool(const WatchEvent&)>;

struct LogOptions {
    std::string container;          // empty: the pod's only container
    std::optional<long> tail_lines;
    std::function<bool()> cancelled;  // follow_log: polled about once a second
};

}  // namespace fracta::k8s
