// events.retention on both SQL stores: the log keeps its newest N events, a
// watcher inside the window still sees every seq, and one behind the window
// gets the expired error instead of a silent gap.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "events/log.h"
#include "support.h"

using namespace fracta;
using namespace fracta::events;

namespace {

constexpr uint64_t kTotal = 20000;
constexpr uint64_t kKeep = 1000;
constexpr uint64_t kBatch = 500;  // per writer transaction; below kKeep, so a caught-up watcher stays inside
constexpr auto kPatience = std::chrono::seconds(120);

Event make(uint64_t i) {
    Event e;
    e.type = "bench.tick";
    e.ts = format_rfc3339(now());
    e.actor = "writer";
    e.message = "event " + std::to_string(i);
    return e;
}

Status append_batch(store::Store& store, EventLog& log, uint64_t count) {
    return store.transaction([&]() -> Status {
        for (uint64_t i = 0; i < count; ++i) FRACTA_TRY(log.append_in_tx(make(i)));
        return {};
    });
}

uint64_t stored_count(store::Store& store) {
    auto rows = store.query("SELECT COUNT(*) FROM events");
    REQUIRE(rows.ok());
    return static_cast<uint64_t>((*rows)[0].integer(0));
}

// The watcher reads as the writer writes; the writer waits for it after
// each batch (on the watcher's progress, not on time), so it is always
// inside the window: it must see 1..kTotal with no gap.
void watch_while_writing(const test::NamedStore& s) {
    auto reader_store = store::open(s.url);
    REQUIRE(reader_store.ok());
    int hangup[2];
    REQUIRE(::pipe(hangup) == 0);
    std::mutex m;
    std::condition_variable cv;
    uint64_t seen = 0;
    std::string writer_error;
    std::thread writer([&] {
        EventLog w(*s.store, kKeep);
        for (uint64_t written = 0; written < kTotal; written += kBatch) {
            if (Status st = append_batch(*s.store, w, kBatch); !st.ok()) {
                writer_error = st.error().message;
                break;
            }
            std::unique_lock lock(m);
            if (!cv.wait_for(lock, kPatience, [&] { return seen == written + kBatch; })) {
                writer_error = "the watcher did not catch up";
                break;
            }
        }
        if (!writer_error.empty()) ::close(hangup[1]);
    });
    uint64_t gaps = 0;
    Status st = EventLog(**reader_store).watch(0, hangup[0], [&](const Event& e) -> Status {
        std::lock_guard lock(m);
        if (e.seq != seen + 1) ++gaps;
        seen = e.seq;
        cv.notify_all();
        return seen == kTotal ? failure("all seen") : Status{};
    });
    writer.join();
    ::close(hangup[0]);
    if (writer_error.empty()) ::close(hangup[1]);
    CHECK(writer_error == "");
    CHECK(gaps == 0);
    CHECK(seen == kTotal);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message == "all seen");
}

}  // namespace

TEST_CASE("retention keeps the newest N events; watchers inside the window see every seq", "[events][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        watch_while_writing(s);
        EventLog log(*s.store);
        CHECK(*log.latest_seq() == kTotal);
        CHECK(stored_count(*s.store) == kKeep);
        auto all = log.list({});
        REQUIRE(all.ok());
        REQUIRE(all->size() == kKeep);
        CHECK(all->front().seq == kTotal - kKeep + 1);
        CHECK(all->back().seq == kTotal);

        // Behind the window: the documented error, at once.
        Status behind = log.watch(5, -1, [](const Event&) { return failure("no event may reach the sink"); });
        REQUIRE_FALSE(behind.ok());
        CHECK(behind.error().kind == ErrorKind::Failed);
        CHECK(behind.error().message == expired_error(5, kTotal - kKeep + 1).message);
        CHECK(behind.error().message.find("watch 5: expired: ") == 0);

        // At the window's edge: no gap, so no error; 0 means "the oldest kept".
        for (uint64_t after : {kTotal - kKeep, uint64_t{0}}) {
            uint64_t first = 0;
            Status edge = log.watch(after, -1, [&](const Event& e) {
                first = e.seq;
                return failure("first");
            });
            CHECK(edge.error().message == "first");
            CHECK(first == kTotal - kKeep + 1);
        }
    }
}

TEST_CASE("a watcher that falls behind the window while reading gets the expired error", "[events][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        EventLog log(*s.store, 10);
        REQUIRE(append_batch(*s.store, log, 30).ok());  // kept: 21..30
        // At its first event (21) the reader stalls while 15 more come:
        // 22..35 are gone by the time it asks past what it already holds.
        auto writer_store = store::open(s.url);
        REQUIRE(writer_store.ok());
        std::vector<uint64_t> seen;
        Status st = log.watch(20, -1, [&](const Event& e) -> Status {
            if (seen.empty()) {
                EventLog w(**writer_store, 10);
                FRACTA_TRY(append_batch(**writer_store, w, 15));  // kept: 36..45
            }
            seen.push_back(e.seq);
            return seen.size() > 10 ? failure("read on past the gap") : Status{};
        });
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().message == expired_error(30, 36).message);
        REQUIRE(seen.size() == 10);  // the page it had read: 21..30, in order
        for (size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == 21 + i);
    }
}

TEST_CASE("prune keeps the newest N; a dry run only counts", "[events][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        EventLog log(*s.store);  // no retention: appends keep everything
        REQUIRE(append_batch(*s.store, log, 50).ok());
        CHECK(*log.prune(0) == 0);
        CHECK(*log.prune(100) == 0);
        CHECK(*log.prune(20, true) == 30);
        CHECK(stored_count(*s.store) == 50);
        CHECK(*log.prune(20) == 30);
        CHECK(stored_count(*s.store) == 20);
        CHECK(log.list({})->front().seq == 31);
        CHECK(*log.latest_seq() == 50);
    }
}

TEST_CASE("a sqlite store under retention stops growing: freed pages are reused", "[events]") {
    auto stores = test::fresh_stores();
    auto& s = stores.front();
    REQUIRE(s.kind == "sqlite");
    EventLog log(*s.store, kKeep);
    auto pages = [&] {
        auto rows = s.store->query("PRAGMA page_count");
        REQUIRE(rows.ok());
        return (*rows)[0].integer(0);
    };
    for (uint64_t i = 0; i < 4; ++i) REQUIRE(append_batch(*s.store, log, kBatch).ok());  // 2000 written
    const int64_t after_two_windows = pages();
    for (uint64_t i = 0; i < 36; ++i) REQUIRE(append_batch(*s.store, log, kBatch).ok());  // 20000 written
    INFO("pages after 2000 events: " << after_two_windows << ", after 20000: " << pages());
    CHECK(pages() <= after_two_windows + after_two_windows / 4);
}
