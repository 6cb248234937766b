// reaper_child.h — the control plane's reaper: `fracta-reap --once` (the
// sibling binary) run every reaper.interval while fracta-cp runs. A separate
// process, so a pass that hangs on a provider call is killed by its timeout
// and never holds up the API or the workers; the reaper's leader lock lets
// every replica do this without two passes at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fracta::cp {

class ReaperChild {
public:
    // argv: {"/path/fracta-reap", "--once", …}, run in `cwd`; every line it
    // prints is logged (stdout info, stderr warn).
    ReaperChild(std::vector<std::string> argv, std::string cwd, std::chrono::milliseconds interval,
                std::function<void(const std::string& level, const std::string& line)> log);
    ~ReaperChild() { stop(); }

    void start();
    void stop();  // waits for a pass under way (bounded by its timeout); idempotent

private:
    void loop();

    std::vector<std::string> argv_;
    std::string cwd_;
    std::chrono::milliseconds interval_;
    std::function<void(const std::string&, const std::string&)> log_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace fracta::cp
