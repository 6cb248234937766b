// retention_fill — the event log under events.retention: write N events, one
// transaction each (as `fracta-events record` and the control plane do),
// through the library's EventLog with retention K, and measure the store as
// it goes; then check both sides of the window with watch.
//
//   retention_fill --url STORE-URL --events N --retention K [--every M]
//
// Every M events (default N/10) prints one JSON line
//   {"kind":"sample","written","rows","bytes","seconds"}
// rows: events in the table; bytes: the store's size — for sqlite the
// database file and its -wal and -shm files, for Postgres
// pg_total_relation_size('events') (table, indexes, TOAST). At the end one
//   {"kind":"watch","inside_from","inside_seen","inside_gapless","behind_error"}
// line: a watcher from K/2 events before the newest must replay every seq to
// the newest with no gap; one from seq 1 (long gone) must get the expired
// error, whose text is printed. Exits 1 if either check fails.
#include <sys/stat.h>

#include <string>

#include "base/json.h"
#include "base/time.h"
#include "events/log.h"
#include "load.h"
#include "store/store.h"

using namespace fracta;

namespace {

using bench::die;

struct Options {
    std::string url;
    uint64_t events = 0, retention = 0, every = 0;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--url") o.url = v;
        else if (k == "--events") o.events = std::stoull(v);
        else if (k == "--retention") o.retention = std::stoull(v);
        else if (k == "--every") o.every = std::stoull(v);
        else die("unknown option " + k);
    }
    if (o.url.empty() || o.events == 0 || o.retention == 0)
        die("usage: retention_fill --url STORE-URL --events N --retention K [--every M]");
    if (o.every == 0) o.every = std::max<uint64_t>(1, o.events / 10);
    return o;
}

uint64_t file_size(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

uint64_t store_bytes(store::Store& s, const std::string& url) {
    if (s.dialect() == store::Dialect::Postgres) {
        auto rows = s.query("SELECT pg_total_relation_size('events')");
        if (!rows.ok()) die("size: " + rows.error().message);
        return static_cast<uint64_t>((*rows)[0].integer(0));
    }
    std::string path = url.substr(url.find(':') + 1);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    return file_size(path) + file_size(path + "-wal") + file_size(path + "-shm");
}

uint64_t row_count(store::Store& s) {
    auto rows = s.query("SELECT COUNT(*) FROM events");
    if (!rows.ok()) die("count: " + rows.error().message);
    return static_cast<uint64_t>((*rows)[0].integer(0));
}

// A lifecycle event of the size the control plane writes.
events::Event make(uint64_t i) {
    events::Event e;
    e.type = "lifecycle.running";
    e.ts = format_rfc3339(now());
    e.actor = "fracta-cp";
    e.subject = "task-" + std::to_string(i % 5000);
    e.message = "agent is running";
    e.payload = to_line(Json{{"category", "lifecycle"}, {"outcome", "success"}, {"severity", "info"},
                             {"mission_id", i}, {"runtime", "shell"}});
    return e;
}

}  // namespace

int main(int argc, char** argv) {
    bench::program = "retention_fill";
    const Options o = parse(argc, argv);
    auto opened = store::open(o.url, "retention_fill");
    if (!opened.ok()) die(opened.error().message);
    store::Store& s = **opened;
    events::EventLog log(s, o.retention);

    const int64_t t0 = bench::now_ns();
    for (uint64_t i = 1; i <= o.events; ++i) {
        auto seq = log.append(make(i));
        if (!seq.ok()) die("append " + std::to_string(i) + ": " + seq.error().message);
        if (i % o.every == 0 || i == o.events) {
            Json line = {{"kind", "sample"}, {"written", i}, {"rows", row_count(s)}, {"bytes", store_bytes(s, o.url)},
                         {"seconds", static_cast<double>(bench::now_ns() - t0) / 1e9}};
            std::printf("%s\n", to_line(line).c_str());
            std::fflush(stdout);
        }
    }

    // Inside the window: replay from K/2 before the newest; the sink stops
    // the watch (with a marker error) once it has the newest.
    auto latest = log.latest_seq();
    if (!latest.ok()) die(latest.error().message);
    const uint64_t from = *latest - o.retention / 2;
    uint64_t seen = 0, expect = from + 1;
    bool gapless = true;
    const std::string done = "retention_fill: reached the newest";
    Status inside = log.watch(from, -1, [&](const events::Event& e) -> Status {
        if (e.seq != expect) gapless = false;
        expect = e.seq + 1;
        ++seen;
        if (e.seq >= *latest) return failure(done);
        return {};
    });
    if (inside.ok() || inside.error().message != done) die("inside watch: " + inside.error().message);
    // Behind the window: seq 1 is long gone.
    Status behind = log.watch(1, -1, [](const events::Event&) -> Status { return {}; });
    const std::string behind_error = behind.ok() ? "" : behind.error().message;
    std::printf("%s\n", to_line(Json{{"kind", "watch"}, {"inside_from", from}, {"inside_seen", seen},
                                     {"inside_gapless", gapless && seen == *latest - from},
                                     {"behind_error", behind_error}})
                            .c_str());
    if (!gapless || seen != *latest - from) die("the watcher inside the window missed events");
    if (behind_error.find("expired") == std::string::npos) die("the watcher behind the window got no expired error");
    return 0;
}
