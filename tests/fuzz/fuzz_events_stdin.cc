// fuzz_events_stdin — what fracta-events reads on stdin: the event of
// `record` and the filter of `list`, through events::run (the library entry
// the thin main calls) over an in-memory backend. Checks: refused input never
// opens the store (the contract: bad input touches nothing), and an event
// that was recorded prints as one line under the watch-line cap that reads
// back as itself.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "events/provider.h"

namespace {

using namespace fracta;
using namespace fracta::events;

class Memory : public Backend {
public:
    Status ensure() override { return {}; }
    Result<uint64_t> append(const Event& e) override {
        events.push_back(e);
        events.back().seq = events.size();
        return events.size();
    }
    Result<std::vector<Event>> list(const Filter&) override { return events; }
    Result<uint64_t> latest_seq() override { return events.size(); }
    Status watch(uint64_t, int, const std::function<Status(const Event&)>&) override { return {}; }
    std::vector<Event> events;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    Memory store;
    int opened = 0;
    StoreOpener open = [&]() -> Result<Backend*> {
        ++opened;
        return static_cast<Backend*>(&store);
    };
    std::string out;
    Io io;
    io.read_input = [&](size_t max) -> Result<std::string> {
        if (input.size() > max) return usage_error("input over the cap");
        return input;
    };
    io.write = [&](std::string_view s) -> Status {
        out.append(s);
        return {};
    };

    Status recorded = run("record", {}, open, io, false);
    if (!recorded.ok() && opened) std::abort();
    if (recorded.ok()) {
        if (store.events.size() != 1) std::abort();
        std::string line = event_line(store.events[0]);
        if (line.find('\n') != std::string::npos || line.size() >= kMaxEventLine) std::abort();
        auto back = parse_json(line);
        if (!back.ok()) std::abort();
        auto again = event_from_json(*back, now());
        if (!again.ok() || again->type != store.events[0].type || again->payload != store.events[0].payload)
            std::abort();
    }
    opened = 0;
    for (bool text : {false, true}) {
        Status listed = run("list", {}, open, io, text);
        if (!listed.ok() && opened) std::abort();
    }
    return 0;
}
