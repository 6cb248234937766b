// watch_stream.h — the reader of one watch stream's bytes (a JSON object a
// line, as they arrive), which Client::watch (watch.cc) feeds; apart so that
// the fuzz target (tests/fuzz) reads a stream the way the product does.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "k8s/client.h"

namespace fracta::k8s {

struct EventStream {
    using ErrorFor = std::function<ApiError(int code, const std::string& body)>;  // an ERROR event's Status
    EventStream(const Resource& r, const WatchCallback& on, WatchResult& res, ErrorFor e)
        : resource(r), on_event(on), result(res), error_for(std::move(e)) {}

    const Resource& resource;
    const WatchCallback& on_event;
    WatchResult& result;
    ErrorFor error_for;
    std::string pending;
    bool stop = false;  // on_event asked to stop
    bool gone = false;  // 410: our version is too old, list again
    int events = 0;
    std::optional<ApiError> failed;

    bool line(std::string_view text);     // one event line; false: stop reading
    bool data(std::string_view bytes);    // the next piece of the stream; false: stop reading
    void finish();  // a last line without its newline, when the stream ended well
};

}  // namespace fracta::k8s
