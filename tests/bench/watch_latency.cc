// watch_latency — how long an event takes from `fracta-events record` to a
// running `fracta-events watch`, measured end to end with real processes.
//
//   watch_latency --bin PATH --store URL [--events 200] [--interval-ms 20] [--warmup 5]
//
// Starts `PATH --store URL watch LATEST` with its stdout on a pipe, and a
// reader thread that timestamps (CLOCK_MONOTONIC, system-wide) every line the
// moment read(2) returns it. Then records warm-up events until the watcher
// has delivered each one (that is the readiness check: no sleeps), then
// records --events events one at a time, one every --interval-ms, each a
// fresh `PATH --store URL record` process whose event carries its send time:
//
//   {"type":"bench.latency","actor":"bench","payload":{"i":N,"sent_ns":T}}
//
// T is taken just before the record process is spawned, so latency =
// arrival − T covers what a caller sees: process start, store open, commit,
// notification, the watcher's query and its write. The record call's own
// duration (spawn to exit) is reported too, to split the two halves.
//
// Prints one JSON object on stdout. Exits 1 if any event is lost, duplicated
// or out of order, or a record fails.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "load.h"

namespace {

using bench::die;
using bench::now_ns;

// fork/exec argv with optional pipes for the child's stdin / stdout.
pid_t spawn(const std::vector<std::string>& args, int* stdin_w, int* stdout_r) {
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    if (stdin_w && pipe2(in, O_CLOEXEC) < 0) die("pipe: " + std::string(std::strerror(errno)));
    if (stdout_r && pipe2(out, O_CLOEXEC) < 0) die("pipe: " + std::string(std::strerror(errno)));
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) die("fork: " + std::string(std::strerror(errno)));
    if (pid == 0) {
        if (stdin_w) dup2(in[0], 0);
        if (stdout_r) dup2(out[1], 1);
        execv(argv[0], argv.data());
        _exit(127);
    }
    if (stdin_w) {
        close(in[0]);
        *stdin_w = in[1];
    }
    if (stdout_r) {
        close(out[1]);
        *stdout_r = out[0];
    }
    return pid;
}

int wait_status(pid_t pid) {
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

std::string run_capture(const std::vector<std::string>& args) {
    int r = -1;
    pid_t pid = spawn(args, nullptr, &r);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = read(r, buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    close(r);
    if (int rc = wait_status(pid); rc != 0) die(args[0] + " " + args.back() + " exited " + std::to_string(rc));
    return out;
}

// A number after `"key":` in a JSON line (our own lines: no nesting tricks).
bool number_after(const std::string& line, const char* key, size_t from, int64_t& out) {
    size_t at = line.find(key, from);
    if (at == std::string::npos) return false;
    const char* p = line.c_str() + at + std::strlen(key);
    char* end = nullptr;
    long long v = std::strtoll(p, &end, 10);
    if (end == p) return false;
    out = v;
    return true;
}

struct Arrival {
    int64_t i;       // -1 for warm-up events, which carry "w" instead
    int64_t sent;
    int64_t arrived;
    int64_t seq;
};

struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Arrival> arrivals;
    int64_t warm_seen = -1;  // highest warm-up index delivered
    bool eof = false;
};

void reader(int fd, Shared* s) {
    std::string pending;
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        int64_t t = now_ns();
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        pending.append(buf, static_cast<size_t>(n));
        size_t start = 0;
        for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
            std::string line = pending.substr(start, nl - start);
            size_t payload = line.find("\"payload\":");
            Arrival a{-1, 0, t, 0};
            number_after(line, "\"seq\":", 0, a.seq);
            std::lock_guard<std::mutex> lock(s->mu);
            int64_t w = 0;
            if (payload != std::string::npos && number_after(line, "\"w\":", payload, w)) {
                s->warm_seen = std::max(s->warm_seen, w);
            } else if (payload != std::string::npos && number_after(line, "\"i\":", payload, a.i) &&
                       number_after(line, "\"sent_ns\":", payload, a.sent)) {
                s->arrivals.push_back(a);
            } else {
                std::fprintf(stderr, "watch_latency: warning: unexpected line: %.200s\n", line.c_str());
            }
        }
        pending.erase(0, start);
        s->cv.notify_all();
    }
    std::lock_guard<std::mutex> lock(s->mu);
    s->eof = true;
    s->cv.notify_all();
}

// Record one event; returns the record call's duration in ns.
int64_t record(const std::string& bin, const std::string& store, const std::string& json, int64_t started) {
    int w = -1;
    pid_t pid = spawn({bin, "--store", store, "record"}, &w, nullptr);
    for (size_t off = 0; off < json.size();) {
        ssize_t n = write(w, json.data() + off, json.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("write to record: " + std::string(std::strerror(errno)));
        off += static_cast<size_t>(n);
    }
    close(w);
    int rc = wait_status(pid);
    int64_t done = now_ns();
    if (rc != 0) die("record exited " + std::to_string(rc));
    return done - started;
}

double percentile(std::vector<int64_t> v, double p) {  // µs
    std::sort(v.begin(), v.end());
    return bench::percentile(v, p, 1e3);
}

}  // namespace

int main(int argc, char** argv) {
    bench::program = "watch_latency";
    std::string bin, store;
    int events = 200, interval_ms = 20, warmup = 5;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die(a + " needs a value");
            return argv[++i];
        };
        if (a == "--bin") bin = value();
        else if (a == "--store") store = value();
        else if (a == "--events") events = std::atoi(value().c_str());
        else if (a == "--interval-ms") interval_ms = std::atoi(value().c_str());
        else if (a == "--warmup") warmup = std::atoi(value().c_str());
        else die("unknown argument " + a);
    }
    if (bin.empty() || store.empty() || events < 1 || interval_ms < 0 || warmup < 1)
        die("usage: watch_latency --bin PATH --store URL [--events N] [--interval-ms MS] [--warmup N]");
    signal(SIGPIPE, SIG_IGN);

    std::string latest = run_capture({bin, "--store", store, "latest-seq"});
    while (!latest.empty() && (latest.back() == '\n' || latest.back() == '\r')) latest.pop_back();

    int watch_out = -1;
    pid_t watcher = spawn({bin, "--store", store, "watch", latest}, nullptr, &watch_out);
    Shared shared;
    std::thread read_thread(reader, watch_out, &shared);

    auto wait_for = [&](auto done, int timeout_ms) {
        std::unique_lock<std::mutex> lock(shared.mu);
        return shared.cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                  [&] { return done() || shared.eof; }) &&
               done();
    };

    // Readiness: each warm-up event must come back before the next is sent.
    for (int w = 0; w < warmup; ++w) {
        std::string json = "{\"type\":\"bench.warmup\",\"actor\":\"bench\",\"payload\":{\"w\":" +
                           std::to_string(w) + "}}";
        record(bin, store, json, now_ns());
        if (!wait_for([&] { return shared.warm_seen >= w; }, 10000))
            die("the watcher did not deliver warm-up event " + std::to_string(w) + " within 10 s");
    }

    std::vector<int64_t> record_ns;
    const int64_t start = now_ns() + 1000000;
    for (int i = 0; i < events; ++i) {
        int64_t due = start + int64_t{i} * interval_ms * 1000000;
        timespec ts{static_cast<time_t>(due / 1000000000), static_cast<long>(due % 1000000000)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
        }
        int64_t sent = now_ns();
        std::string json = "{\"type\":\"bench.latency\",\"actor\":\"bench\",\"payload\":{\"i\":" +
                           std::to_string(i) + ",\"sent_ns\":" + std::to_string(sent) + "}}";
        record_ns.push_back(record(bin, store, json, sent));
    }
    bool all = wait_for([&] { return shared.arrivals.size() >= static_cast<size_t>(events); }, 10000);

    kill(watcher, SIGTERM);
    wait_status(watcher);
    read_thread.join();
    close(watch_out);

    std::vector<int64_t> latency;
    int out_of_order = 0, duplicates = 0;
    std::vector<bool> seen(static_cast<size_t>(events), false);
    int64_t prev_seq = 0, prev_i = -1;
    for (const Arrival& a : shared.arrivals) {
        if (a.i < 0 || a.i >= events) continue;
        if (seen[static_cast<size_t>(a.i)]) ++duplicates;
        seen[static_cast<size_t>(a.i)] = true;
        if (a.seq <= prev_seq || a.i <= prev_i) ++out_of_order;
        prev_seq = a.seq;
        prev_i = a.i;
        latency.push_back(a.arrived - a.sent);
    }
    int missing = static_cast<int>(std::count(seen.begin(), seen.end(), false));
    if (latency.empty()) die("no event arrived");

    std::printf(
        "{\"events\":%d,\"interval_ms\":%d,\"received\":%zu,\"missing\":%d,\"duplicates\":%d,"
        "\"out_of_order\":%d,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
        "\"min_us\":%.1f,\"record_p50_us\":%.1f,\"record_p99_us\":%.1f}\n",
        events, interval_ms, latency.size(), missing, duplicates, out_of_order, percentile(latency, 50),
        percentile(latency, 90), percentile(latency, 99), percentile(latency, 100), percentile(latency, 0),
        percentile(record_ns, 50), percentile(record_ns, 99));
    if (!all || missing || duplicates || out_of_order) {
        std::fprintf(stderr, "watch_latency: error: %d missing, %d duplicated, %d out of order\n", missing,
                     duplicates, out_of_order);
        return 1;
    }
    return 0;
}
