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
#include <memory>
#include <string>

#include "http/client.h"
#include "load.h"

namespace {

using bench::die;
using bench::whole_number;

const char* const kUsage =
    "usage: post_load --url URL [--mode post|healthz] [--threads N] [--count N] [--warmup N] "
    "[--prefix P] [--contract C] [--raw FILE]";

struct Options {
    std::string url, mode = "post", prefix = "b", contract = "true", raw;
    int threads = 4, count = 1000, warmup = 20;
};

Options parse(int argc, char** argv) {
    Options o;
    bench::read_options(argc, argv, 1, [&o](const std::string& a, const char* v) {
        if (a == "--url") o.url = v;
        else if (a == "--mode") o.mode = v;
        else if (a == "--threads") o.threads = whole_number(v, 1);
        else if (a == "--count") o.count = whole_number(v, 1);
        else if (a == "--warmup") o.warmup = whole_number(v, 0);
        else if (a == "--prefix") o.prefix = v;
        else if (a == "--contract") o.contract = v;
        else if (a == "--raw") o.raw = v;
        else return false;
        return true;
    });
    if (o.url.empty() || (o.mode != "post" && o.mode != "healthz")) bench::bad_usage();
    return o;
}

// One request; its latency in ns. Dies on anything but the expected answer.
int64_t one(fracta::http::Client& client, const Options& o, const std::string& task) {
    const int64_t t0 = bench::now_ns();
    fracta::Result<fracta::http::ClientResponse> r =
        o.mode == "post" ? client.post_json("/api/v1/agents", fracta::Json{{"task", task}, {"contract", o.contract}})
                         : client.get("/healthz");
    const int64_t t1 = bench::now_ns();
    if (!r.ok()) die(o.mode + ": " + r.error().message);
    const int want = o.mode == "post" ? 201 : 200;
    if (r->status != want)
        die(o.mode + (task.empty() ? "" : " " + task) + ": HTTP " + std::to_string(r->status) + ": " + r->body);
    return t1 - t0;
}

}  // namespace

int main(int argc, char** argv) {
    bench::program = "post_load";
    bench::usage = kUsage;
    const Options o = parse(argc, argv);
    const bool post = o.mode == "post";
    const bench::Timed timed = bench::timed_loop(o.threads, o.warmup, o.count, [&](int t) {
        fracta::http::ClientOptions co;
        co.timeout = std::chrono::milliseconds(60000);
        return [&o, t, post, client = std::make_shared<fracta::http::Client>(o.url, co)](int i, bool warm) {
            return one(*client, o, post ? o.prefix + (warm ? "w" : "") + std::to_string(t) + "-" + std::to_string(i) : "");
        };
    });
    const auto& all = timed.sorted;
    const fracta::Json out = {{"mode", o.mode},
                              {"threads", o.threads},
                              {"requests", all.size()},
                              {"seconds", timed.seconds},
                              {"per_second", static_cast<double>(all.size()) / timed.seconds},
                              {"p50_ms", bench::percentile(all, 50, 1e6)},
                              {"p99_ms", bench::percentile(all, 99, 1e6)},
                              {"max_ms", static_cast<double>(all.back()) / 1e6}};
    if (!o.raw.empty()) bench::write_raw(o.raw, all, 1e6, "%.6f\n");
    std::printf("%s\n", out.dump().c_str());
    return 0;
}
