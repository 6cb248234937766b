#include "cp/reaper_child.h"

#include <algorithm>

#include "proc/run.h"

namespace fracta::cp {

ReaperChild::ReaperChild(std::vector<std::string> argv, std::string cwd, std::chrono::milliseconds interval,
                         std::function<void(const std::string&, const std::string&)> log)
    : argv_(std::move(argv)), cwd_(std::move(cwd)), interval_(interval), log_(std::move(log)) {}

void ReaperChild::start() { thread_ = std::thread([this] { loop(); }); }

void ReaperChild::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void ReaperChild::loop() {
    auto each_line = [this](const std::string& text, const char* level) {
        size_t pos = 0;
        while (pos < text.size()) {
            size_t end = text.find('\n', pos);
            if (end == std::string::npos) end = text.size();
            if (end > pos) log_(level, "reaper: " + text.substr(pos, end - pos));
            pos = end + 1;
        }
    };
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mu_);
            if (cv_.wait_for(lock, interval_, [this] { return stopping_; })) return;
        }
        proc::Command c;
        c.argv = argv_;
        c.cwd = cwd_;
        // A pass may take a while on a big store, never longer than this.
        c.timeout = std::clamp(interval_ * 10, std::chrono::milliseconds(60000), std::chrono::milliseconds(600000));
        auto outcome = proc::run(c);
        if (!outcome.ok()) {
            log_("warn", "reaper: " + outcome.error().message);
            continue;
        }
        each_line(outcome->out, "info");
        each_line(outcome->err, "warn");
        if (outcome->timed_out) log_("warn", "reaper: the pass timed out and was killed");
    }
}

}  // namespace fracta::cp
