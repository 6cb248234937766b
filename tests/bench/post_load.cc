// post_load — request throughput and latency of a control plane's API.
//
//   post_load --url URL [--mode post|healthz] [--threads 4] [--count 1000]
//             [--warmup 20] [--prefix b] [--contract true] [--raw FILE]
//
// --threads threads, each with its own http::Client (one keep-alive
// connection), send --count requests one after the other, after --warmup
// untimed ones; a barrier starts the timed requests of all threads together.
//
//   post     POST /api/v1/agents {"task":"<prefix><thread>-<i>","contract":…}
//            (every task unique; the warm-up ones are <prefix>w<thread>-<i>);
//            each must answer 201
//   healthz  GET /healthz; each must answer 200 — the in-run baseline
//
// Each request's latency is taken with CLOCK_MONOTONIC around the call;
// seconds = from the barrier until the last thread's last answer. Prints one
// JSON object:
//
//   {"mode","threads","requests","seconds","per_second","p50_ms","p99_ms","max_ms"}
//
// --raw FILE also writes every timed request's latency there, in ms, one a
// line (to pool several runs). Exits 1 on the first unexpected status or transport error (with the
// response on stderr).
#include <time.h>

#include <algorithm>
#include <barrier>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/client.h"

namespace {

int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "post_load: error: %s\n", what.c_str());
    std::exit(1);
}

[[noreturn]] void usage() {
    die("usage: post_load --url URL [--mode post|healthz] [--threads N] [--count N] [--warmup N] "
        "[--prefix P] [--contract C] [--raw FILE]");
}

struct Options {
    std::string url, mode = "post", prefix = "b", contract = "true", raw;
    int threads = 4, count = 1000, warmup = 20;
};

int positive(const char* text, bool zero_ok) {
    char* end = nullptr;
    long n = std::strtol(text, &end, 10);
    if (!end || *end || n < (zero_ok ? 0 : 1) || n > 10000000) usage();
    return static_cast<int>(n);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (i + 1 >= argc) usage();
        const char* v = argv[++i];
        if (a == "--url") o.url = v;
        else if (a == "--mode") o.mode = v;
        else if (a == "--threads") o.threads = positive(v, false);
        else if (a == "--count") o.count = positive(v, false);
        else if (a == "--warmup") o.warmup = positive(v, true);
        else if (a == "--prefix") o.prefix = v;
        else if (a == "--contract") o.contract = v;
        else if (a == "--raw") o.raw = v;
        else usage();
    }
    if (o.url.empty() || (o.mode != "post" && o.mode != "healthz")) usage();
    return o;
}

// One request; its latency in ns. Dies on anything but the expected answer.
int64_t one(fracta::http::Client& client, const Options& o, const std::string& task) {
    const int64_t t0 = now_ns();
    fracta::Result<fracta::http::ClientResponse> r =
        o.mode == "post" ? client.post_json("/api/v1/agents", fracta::Json{{"task", task}, {"contract", o.contract}})
                         : client.get("/healthz");
    const int64_t t1 = now_ns();
    if (!r.ok()) die(o.mode + ": " + r.error().message);
    const int want = o.mode == "post" ? 201 : 200;
    if (r->status != want)
        die(o.mode + (task.empty() ? "" : " " + task) + ": HTTP " + std::to_string(r->status) + ": " + r->body);
    return t1 - t0;
}

double percentile_ms(const std::vector<int64_t>& sorted, double p) {
    if (sorted.empty()) return 0;
    // nearest rank
    size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    return static_cast<double>(sorted[rank - 1]) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    std::vector<std::vector<int64_t>> latencies(o.threads);
    std::vector<int64_t> done_at(o.threads, 0);
    int64_t started_at = 0;
    std::barrier sync(o.threads, [&]() noexcept { started_at = now_ns(); });
    std::vector<std::thread> threads;
    for (int t = 0; t < o.threads; ++t) {
        threads.emplace_back([&, t] {
            fracta::http::ClientOptions co;
            co.timeout = std::chrono::milliseconds(60000);
            fracta::http::Client client(o.url, co);
            const bool post = o.mode == "post";
            for (int i = 0; i < o.warmup; ++i)
                one(client, o, post ? o.prefix + "w" + std::to_string(t) + "-" + std::to_string(i) : "");
            auto& mine = latencies[t];
            mine.reserve(o.count);
            sync.arrive_and_wait();
            for (int i = 0; i < o.count; ++i)
                mine.push_back(one(client, o, post ? o.prefix + std::to_string(t) + "-" + std::to_string(i) : ""));
            done_at[t] = now_ns();
        });
    }
    for (auto& th : threads) th.join();
    std::vector<int64_t> all;
    for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    const double seconds = static_cast<double>(*std::max_element(done_at.begin(), done_at.end()) - started_at) / 1e9;
    const fracta::Json out = {{"mode", o.mode},
                              {"threads", o.threads},
                              {"requests", all.size()},
                              {"seconds", seconds},
                              {"per_second", static_cast<double>(all.size()) / seconds},
                              {"p50_ms", percentile_ms(all, 50)},
                              {"p99_ms", percentile_ms(all, 99)},
                              {"max_ms", static_cast<double>(all.back()) / 1e6}};
    if (!o.raw.empty()) {
        std::FILE* f = std::fopen(o.raw.c_str(), "w");
        if (!f) die("cannot write " + o.raw);
        for (int64_t ns : all) std::fprintf(f, "%.6f\n", static_cast<double>(ns) / 1e6);
        if (std::fclose(f) != 0) die("cannot write " + o.raw);
    }
    std::printf("%s\n", out.dump().c_str());
    return 0;
}
