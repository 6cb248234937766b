// fuzz_k8s_watch — a Kubernetes watch stream (JSON object a line: ADDED,
// MODIFIED, DELETED, BOOKMARK, ERROR with a Status) read by k8s::EventStream
// as Client::watch reads it, cut into pieces where the first byte says.
// Checks: once the reader said stop (the callback's stop, 410 Gone, an ERROR,
// a line that is not JSON), finishing the stream delivers nothing more.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "k8s/watch_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace fracta::k8s;
    if (size == 0) return 0;
    size_t piece = data[0] % 23 + 1;
    std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
    WatchResult result;
    int seen = 0;
    WatchCallback on_event = [&](const WatchEvent& e) {
        ++seen;
        return e.type != "DELETED";  // a callback that stops on a deletion
    };
    EventStream events(kPods, on_event, result, [&](int code, const std::string& body) {
        return ApiError{code, "Failure", body, fracta::failure("watch: " + body)};
    });
    bool open = true;
    for (size_t at = 0; at < stream.size() && open; at += piece) open = events.data(stream.substr(at, piece));
    int before = seen;
    events.finish();
    if (!open && seen != before) std::abort();
    return 0;
}
