// fuzz_start_request — the start JSON a session provider reads on stdin
// (`fracta-spawn-local start NAME`, `fracta-spawn-k8s start NAME`): run_provider
// with the real contract table, over a backend that records what reached it.
// Checks: a request that reached the backend has a mode of batch or stream
// and only workspace paths that stay inside the workspace.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "provider/contract.h"

namespace {

using namespace fracta;
using namespace fracta::provider;

// Every op answers "nothing here"; start keeps the request it was given.
class Recorder : public SessionBackend {
public:
    const std::vector<Op>& ops() const override { return contract_ops(); }
    Status check_name(const std::string&) const override { return {}; }
    Status start(const std::string&, const StartRequest& r, Io&) override {
        started = true;
        request = r;
        return {};
    }
    Status stop(const std::string&) override { return {}; }
    Status interrupt(const std::string&) override { return {}; }
    Result<Json> status(const std::string&) override { return Json{{"state", "absent"}}; }
    Result<std::vector<Json>> list(const std::string&) override { return std::vector<Json>{}; }
    Result<Json> wait(const std::string&, std::chrono::seconds) override { return Json{{"state", "absent"}}; }
    Result<bool> process_alive(const std::string&, const std::vector<std::string>&) override { return false; }
    Status nudge(const std::string&, const std::string& t, const std::vector<std::string>&, Io&) override {
        if (t.empty() || t.back() == '\n') std::abort();  // the contract: trailing newlines dropped, never empty
        return {};
    }
    Status send_keys(const std::string&, const std::vector<std::string>&) override { return {}; }
    Result<std::string> peek(const std::string&, long) override { return std::string(); }
    Status logs(const std::string&, bool, Io&) override { return {}; }
    Result<std::string> last_activity(const std::string&) override { return std::string(); }
    Result<std::string> get_meta(const std::string&, const std::string&) override { return std::string(); }
    Status set_meta(const std::string&, const std::string&, const std::string&) override { return {}; }
    Status remove_meta(const std::string&, const std::string&) override { return {}; }
    Status clear_scrollback(const std::string&) override { return {}; }
    Status copy_to(const std::string&, const std::string&, const std::string&) override { return {}; }

    bool started = false;
    StartRequest request;
};

// A path that climbs out of, or starts outside, the workspace.
bool escapes(const std::string& path) {
    if (path.empty() || path[0] == '/') return true;
    size_t start = 0;
    for (;;) {
        size_t slash = path.find('/', start);
        if (path.compare(start, slash == std::string::npos ? std::string::npos : slash - start, "..") == 0) return true;
        if (slash == std::string::npos) return false;
        start = slash + 1;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    for (const char* op : {"start", "nudge"}) {
        Recorder backend;
        Io io;
        io.read_input = [&](size_t max) -> Result<std::string> {
            if (input.size() > max) return usage_error("input over the cap");
            return input;
        };
        io.write = [](std::string_view) -> Status { return {}; };
        auto exit = run_provider(op, {"fuzz-session"}, backend, io);
        if (!backend.started) continue;
        const StartRequest& r = backend.request;
        if (r.mode != "batch" && r.mode != "stream") std::abort();
        for (const auto& [path, content] : r.workspace_files)
            if (escapes(path)) std::abort();
        for (const auto& copy : r.copy_files)
            if (!copy.rel_dst.empty() && escapes(copy.rel_dst)) std::abort();
        (void)exit;
    }
    return 0;
}
