// context.h — what the control plane's HTTP handlers and workers share: the
// settings, the store pool, the session provider, the knobs a reload may
// change, the drain flag, and the counters /metrics reports.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "agents/agents.h"
#include "agents/settings.h"
#include "cp/pool.h"
#include "provider/client.h"

namespace fracta::cp {

// Counters since start, for /metrics. Thread-safe.
class Counters {
public:
    void request(int status) {
        std::lock_guard<std::mutex> lock(mu_);
        ++requests_[status];
    }
    std::map<int, uint64_t> requests() const {
        std::lock_guard<std::mutex> lock(mu_);
        return requests_;
    }
    // What ended runs reported, by runtime: fracta_agent_tokens_total and
    // fracta_agent_cost_usd_total.
    struct Usage {
        uint64_t input_tokens = 0, output_tokens = 0, cost_micro_usd = 0;
    };
    void add_usage(const std::string& runtime, const agents::Changes& run) {
        if (!run.input_tokens && !run.output_tokens && !run.cost_micro_usd) return;
        std::lock_guard<std::mutex> lock(mu_);
        Usage& u = usage_[runtime];
        u.input_tokens += static_cast<uint64_t>(run.input_tokens.value_or(0));
        u.output_tokens += static_cast<uint64_t>(run.output_tokens.value_or(0));
        u.cost_micro_usd += static_cast<uint64_t>(run.cost_micro_usd.value_or(0));
    }
    std::map<std::string, Usage> usage() const {
        std::lock_guard<std::mutex> lock(mu_);
        return usage_;
    }
    std::atomic<uint64_t> missions_started{0};
    std::atomic<uint64_t> admissions_refused{0};  // claims max_concurrent held back
    std::atomic<uint64_t> finished_completed{0}, finished_failed{0}, finished_stopped{0}, finished_released{0};

private:
    mutable std::mutex mu_;
    std::map<int, uint64_t> requests_;
    std::map<std::string, Usage> usage_;
};

struct Context {
    explicit Context(agents::Settings s)
        : settings(std::move(s)),
          pool(settings.store_url, "fracta-cp"),
          provider(settings.provider_argv, settings.provider_env, provider_options(settings)),
          max_concurrent(settings.config.max_concurrent) {}

    agents::Settings settings;  // fixed for the process's life, but for the reloadable knobs below
    StorePool pool;
    provider::ProviderClient provider;

    std::atomic<int> max_concurrent;       // reaper.max_concurrent (SIGHUP)
    std::atomic<bool> draining{false};     // SIGTERM seen: /readyz fails, no new claims
    std::atomic<int> workers{0}, busy_workers{0};
    Counters counters;

    // One line for the daemon's log (never a secret); set by the daemon.
    std::function<void(const std::string& level, const std::string& line)> log = [](auto&, auto&) {};
};

}  // namespace fracta::cp
