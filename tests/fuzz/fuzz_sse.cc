// fuzz_sse — http::SseReader (`fracta watch`, the control-plane client, both
// MCP HTTP transports) over a stream cut into pieces where the input says:
// the first byte picks the piece size, so line ends split across pieces
// (CR | LF) are exercised. Checks: the sink sees only events under the cap.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/sse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    size_t piece = data[0] % 17 + 1;
    std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
    constexpr size_t kMax = 256;
    fracta::http::SseReader reader(kMax);
    auto sink = [&](const fracta::http::SseEvent& e) {
        if (e.data.size() > kMax) std::abort();  // the cap must hold
        return true;
    };
    for (size_t at = 0; at < stream.size(); at += piece)
        if (!reader.feed(stream.substr(at, piece), sink)) break;
    reader.restart();
    reader.feed("data: after restart\n\n", sink);
    return 0;
}
