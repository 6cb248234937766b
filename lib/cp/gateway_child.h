// gateway_child.h — in local mode the control plane keeps the project's MCP
// gateway running beside it: `fracta-gw serve` as its child, restarted
// (with backoff) whenever it dies, stopped when the control plane stops.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fracta::cp {

class GatewayChild {
public:
    // argv: {"/path/fracta-gw", "serve", …}; env additions (FRACTA_CP_URL).
    GatewayChild(std::vector<std::string> argv, std::vector<std::string> env,
                 std::function<void(const std::string& level, const std::string& line)> log);
    ~GatewayChild() { stop(); }

    void start();
    void stop();  // SIGTERM, then SIGKILL after 5 s; idempotent
    pid_t pid() const { return pid_; }

private:
    void supervise();
    pid_t spawn();

    std::vector<std::string> argv_, env_;
    std::function<void(const std::string&, const std::string&)> log_;
    std::atomic<pid_t> pid_{0};
    std::atomic<bool> stopping_{false};
    std::mutex mu_;
    std::condition_variable cv_;
    std::thread thread_;
};

}  // namespace fracta::cp
