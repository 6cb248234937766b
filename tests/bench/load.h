// load.h — what the benchmark's load generators share: the monotonic clock,
// the one-line death, reading "--NAME VALUE" options, nearest-rank
// percentiles, the raw-latency file, and the timed client loop (threads that warm up, meet at a barrier, then time each
// request one after the other). Header only: watch_latency.cc is built
// without fracta's library.
#pragma once

#include <time.h>

#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace bench {

// The generator's name, for die(); each main sets it first.
inline const char* program = "bench";

inline int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

[[noreturn]] inline void die(const std::string& what) {
    std::fprintf(stderr, "%s: error: %s\n", program, what.c_str());
    std::exit(1);
}

// The generator's usage line ("usage: NAME …"), for bad_usage(); each main
// that reads options sets it with program.
inline const char* usage = "usage: see the generator's header";

[[noreturn]] inline void bad_usage() {
    die(usage);
}

// `text` as a whole number from `min` to 10^8, else bad_usage().
inline int whole_number(const char* text, int min) {
    char* end = nullptr;
    long n = std::strtol(text, &end, 10);
    if (!end || *end || n < min || n > 100000000) bad_usage();
    return static_cast<int>(n);
}

// Reads argv[first…] as "--NAME VALUE" pairs: set(name, value) stores one and
// says whether NAME is one of the generator's options. An unknown name, or a
// name without a value, is bad_usage().
template <class Set>
void read_options(int argc, char** argv, int first, Set set) {
    for (int i = first; i < argc; i += 2)
        if (i + 1 >= argc || !set(std::string(argv[i]), argv[i + 1])) bad_usage();
}

// The sample at percentile p (0–100) of sorted samples, by nearest rank,
// divided by `unit` (1e6: ns → ms). 0 when there is none.
inline double percentile(const std::vector<int64_t>& sorted, double p, double unit) {
    if (sorted.empty()) return 0;
    auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    return static_cast<double>(sorted[rank - 1]) / unit;
}

// Every sample divided by `unit`, one a line in `format` ("%.3f\n"), to
// pool several runs. Dies when the file cannot be written.
inline void write_raw(const std::string& path, const std::vector<int64_t>& samples, double unit, const char* format) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) die("cannot write " + path);
    for (int64_t v : samples) std::fprintf(f, format, static_cast<double>(v) / unit);
    if (std::fclose(f) != 0) die("cannot write " + path);
}

struct Timed {
    std::vector<int64_t> sorted;  // every timed request's latency, ns, sorted
    double seconds = 0;           // from the barrier to the last thread's last answer
};

// `threads` threads; thread t makes its client with open(t) — a callable
// int64_t(int i, bool warm_up) that sends request i and returns its latency in
// ns — sends `warmup` untimed requests, waits for the others at a barrier,
// then sends `count` timed ones. The client is destroyed after its thread's
// last request, outside the time taken.
template <class Open>
Timed timed_loop(int threads, int warmup, int count, Open open) {
    std::vector<std::vector<int64_t>> latencies(threads);
    std::vector<int64_t> done_at(threads, 0);
    int64_t started_at = 0;
    std::barrier sync(threads, [&]() noexcept { started_at = now_ns(); });
    std::vector<std::thread> running;
    for (int t = 0; t < threads; ++t) {
        running.emplace_back([&, t] {
            auto request = open(t);
            for (int i = 0; i < warmup; ++i) request(i, true);
            auto& mine = latencies[t];
            mine.reserve(count);
            sync.arrive_and_wait();
            for (int i = 0; i < count; ++i) mine.push_back(request(i, false));
            done_at[t] = now_ns();
        });
    }
    for (auto& th : running) th.join();
    Timed out;
    for (const auto& l : latencies) out.sorted.insert(out.sorted.end(), l.begin(), l.end());
    std::sort(out.sorted.begin(), out.sorted.end());
    out.seconds = static_cast<double>(*std::max_element(done_at.begin(), done_at.end()) - started_at) / 1e9;
    return out;
}

}  // namespace bench
