// The mission queue on both stores: claim order, leases and their expiry,
// compare-and-set transitions, admission, cancellation, wake-ups, and many
// workers on separate connections claiming each mission exactly once.
#include <algorithm>
#include <catch2/catch.hpp>
#include <latch>
#include <mutex>
#include <set>
#include <thread>

#include "queue/queue.h"
#include "support.h"

using namespace fracta;
using namespace fracta::queue;
using namespace std::chrono_literals;

namespace {

// A clock the test moves by hand.
struct FakeClock {
    Timestamp t{1800000000, 500};
    std::function<Timestamp()> fn() {
        return [this] { return t; };
    }
    void advance(std::chrono::seconds s) { t.seconds += s.count(); }
};

Timestamp later(Timestamp t, std::chrono::seconds s) { return {t.seconds + s.count(), t.nanos}; }

Mission claimed(Queue& q, const std::string& worker, Duration lease = 10min) {
    auto c = q.claim(worker, lease);
    if (!c.ok()) FAIL(c.error().message);
    if (!c->has_value()) FAIL("nothing claimed");
    return **c;
}

// The claim succeeded and found no mission to take.
bool claims_nothing(Queue& q, const std::string& worker, Duration lease = 1min) {
    auto c = q.claim(worker, lease);
    if (!c.ok()) FAIL(c.error().message);
    return !c->has_value();
}

Mission fetched(Queue& q, int64_t id) {
    auto m = q.get(id);
    if (!m.ok()) FAIL(m.error().message);
    if (!m->has_value()) FAIL("no mission " << id);
    return **m;
}

// The call failed because the caller's claim is gone.
bool lost(const Status& s) { return !s.ok() && lease_lost(s.error()); }

template <class T>
ErrorKind kind_of(const Result<T>& r) {
    REQUIRE_FALSE(r.ok());
    return r.error().kind;
}

int64_t enqueued(Queue& q, const std::string& task, int priority = 0, int max_attempts = 3) {
    auto id = q.enqueue(task, Json{{"task", task}}, priority, max_attempts);
    if (!id.ok()) FAIL(id.error().message);
    return *id;
}

}  // namespace

TEST_CASE("claims take the highest priority first, oldest first within one", "[queue]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Queue q(*s.store);
        CHECK(claims_nothing(q, "w"));

        int64_t a = enqueued(q, "a", 0), b = enqueued(q, "b", 5), c = enqueued(q, "c", 0), d = enqueued(q, "d", 5),
                e = enqueued(q, "e", -1);
        std::vector<int64_t> order;
        for (int i = 0; i < 5; ++i) order.push_back(claimed(q, "w").id);
        CHECK(order == std::vector<int64_t>{b, d, a, c, e});

        CHECK(claims_nothing(q, "w"));
    }
}

TEST_CASE("a claim sets the lease, the attempt and the worker; the payload is compact JSON", "[queue]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        FakeClock clock;
        Queue q(*s.store, clock.fn());
        auto id = q.enqueue("t1", Json::parse(R"({"contract": "do it", "n": [1, 2]})"), 2, 4);
        REQUIRE(id.ok());
        auto raw = s.store->query("SELECT payload FROM missions WHERE id = ?", {*id});
        REQUIRE(raw.ok());
        CHECK((*raw)[0].text(0) == R"({"contract":"do it","n":[1,2]})");

        Mission pending = fetched(q, *id);
        CHECK(pending.status == "pending");
        CHECK(pending.attempt == 0);
        CHECK(pending.max_attempts == 4);
        CHECK(pending.priority == 2);
        CHECK(pending.claimed_by.empty());
        CHECK(pending.lease_expires_at.empty());
        CHECK(pending.created_at == format_rfc3339(clock.t));

        clock.advance(5s);
        Mission m = claimed(q, "worker-1", 90s);
        CHECK(m.id == *id);
        CHECK(m.task == "t1");
        CHECK(m.status == "claimed");
        CHECK(m.claimed_by == "worker-1");
        CHECK(m.attempt == 1);
        CHECK(m.lease_expires_at == format_rfc3339(later(clock.t, 90s)));
        CHECK(m.updated_at == format_rfc3339(clock.t));
        CHECK(m.payload["contract"] == "do it");
        CHECK(m.payload["n"] == Json::array({1, 2}));
        CHECK(fetched(q, *id).lease_expires_at == m.lease_expires_at);

        CHECK_FALSE(q.get(*id + 100)->has_value());
        CHECK(kind_of(q.enqueue("", Json::object())) == ErrorKind::Usage);
        CHECK(kind_of(q.enqueue("t", Json::object(), 0, 0)) == ErrorKind::Usage);
        CHECK(kind_of(q.claim("w", 0s)) == ErrorKind::Usage);
    }
}

TEST_CASE("heartbeats extend the caller's lease and nobody else's", "[queue]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        FakeClock clock;
        Queue q(*s.store, clock.fn());
        int64_t id = enqueued(q, "t");
        claimed(q, "w1", 60s);

        clock.advance(50s);
        REQUIRE(q.heartbeat(id, "w1", 60s).ok());
        CHECK(fetched(q, id).lease_expires_at == format_rfc3339(later(clock.t, 60s)));

        Status other = q.heartbeat(id, "w2", 60s);
        REQUIRE_FALSE(other.ok());
        CHECK(lease_lost(other.error()));
        CHECK(other.error().message == "heartbeat mission " + std::to_string(id) + ": lease lost");
        CHECK(fetched(q, id).claimed_by == "w1");

        REQUIRE(q.complete(id, "w1").ok());
        CHECK(lost(q.heartbeat(id, "w1", 60s)));
        CHECK(lost(q.heartbeat(id + 7, "w1", 60s)));
    }
}

TEST_CASE("complete, fail and release are compare-and-set on the claim", "[queue]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Queue q(*s.store);
        int64_t a = enqueued(q, "a"), b = enqueued(q, "b"), c = enqueued(q, "c");
        claimed(q, "w1");
        claimed(q, "w1");
        claimed(q, "w1");

        CHECK(lost(q.complete(a, "w2")));
        REQUIRE(q.complete(a, "w1").ok());
        Status again = q.complete(a, "w1");
        REQUIRE_FALSE(again.ok());
        CHECK(lease_lost(again.error()));
        CHECK(lost(q.fail(a, "w1", "late")));
        CHECK(lost(q.release(a, "w1", "late")));
        Mission done = fetched(q, a);
        CHECK(done.status == "completed");
        CHECK(done.claimed_by == "w1");
        CHECK(done.lease_expires_at.empty());

        REQUIRE(q.fail(b, "w1", "exit status 3").ok());
        CHECK(lost(q.complete(b, "w1")));
        Mission failed = fetched(q, b);
        CHECK(failed.status == "failed");
        CHECK(failed.error == "exit status 3");

        // A release hands the mission back without spending an attempt.
        CHECK(lost(q.release(c, "w2", "draining")));
        REQUIRE(q.release(c, "w1", "draining").ok());
        Mission back = fetched(q, c);
        CHECK(back.status == "pending");
        CHECK(back.attempt == 0);
        CHECK(back.claimed_by.empty());
        CHECK(back.lease_expires_at.empty());
        CHECK(back.error == "draining");
        Mission retaken = claimed(q, "w3");
        CHECK(retaken.id == c);
        CHECK(retaken.attempt == 1);
        CHECK(lost(q.complete(c, "w1")));
        REQUIRE(q.complete(c, "w3").ok());
    }
}

TEST_CASE("expired leases go back to pending, then fail past max_attempts", "[queue]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        FakeClock clock;
        Queue q(*s.store, clock.fn());
        int64_t id = enqueued(q, "t", 0, 2);
        int64_t kept = enqueued(q, "kept", 0, 2);
        claimed(q, "w1", 60s);
        claimed(q, "w2", 60s);

        clock.advance(60s);  // exactly at the lease: not yet expired
        REQUIRE(q.expire_leases()->empty());
        REQUIRE(q.heartbeat(kept, "w2", 120s).ok());

        clock.advance(1s);
        auto expired = q.expire_leases();
        REQUIRE(expired.ok());
        REQUIRE(expired->size() == 1);
        Mission m = (*expired)[0];
        CHECK(m.id == id);
        CHECK(m.status == "pending");
        CHECK(m.attempt == 1);
        CHECK(m.claimed_by.empty());
        CHECK(m.lease_expires_at.empty());
        CHECK(m.error == "lease expired");
        CHECK(fetched(q, kept).status == "claimed");
        CHECK(lost(q.heartbeat(id, "w1", 60s)));  // reaped: the old worker has lost it
        REQUIRE(q.expire_leases()->empty());

        Mission second = claimed(q, "w3", 60s);
        CHECK(second.id == id);
        CHECK(second.attempt == 2);

        clock.advance(61s);
        expired = q.expire_leases();
        REQUIRE(expired.ok());
        REQUIRE(expired->size() == 1);
        CHECK((*expired)[0].status == "failed");
        CHECK((*expired)[0].claimed_by == "w3");
        CHECK((*expired)[0].error == "lease expired");
        Mission gone = fetched(q, id);
        CHECK(gone.status == "failed");
        CHECK(gone.attempt == 2);
        CHECK(fetched(q, kept).status == "claimed");  // its lease ran to 181 s; now is 122 s

        CHECK(claims_nothing(q, "w4", 60s));
    }
}

TEST_CASE("admission sees the candidate inside the claim and may refuse it", "[queue]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Queue q(*s.store);
        int64_t id = enqueued(q, "t");
        int64_t seen = 0;
        auto refused = q.claim("w", 1min, [&](const Mission& m) -> Result<bool> {
            seen = m.id;
            CHECK(m.status == "pending");
            return false;
        });
        REQUIRE(refused.ok());
        CHECK_FALSE(refused->has_value());
        CHECK(seen == id);
        Mission still = fetched(q, id);
        CHECK(still.status == "pending");
        CHECK(still.attempt == 0);

        auto broken = q.claim("w", 1min, [](const Mission&) -> Result<bool> { return failure("store says no"); });
        REQUIRE_FALSE(broken.ok());
        CHECK(broken.error().message == "claim: store says no");
        CHECK(fetched(q, id).status == "pending");

        // The callback may query the same store, inside the transaction.
        auto admitted = q.claim("w", 1min, [&](const Mission&) -> Result<bool> {
            FRACTA_TRY_ASSIGN(rows, s.store->query("SELECT COUNT(*) FROM missions WHERE status = 'claimed'"));
            return rows[0].integer(0) < 1;
        });
        REQUIRE(admitted.ok());
        REQUIRE(admitted->has_value());
        CHECK((*admitted)->id == id);

        // A refused mission does not hold back the ones behind it.
        int64_t held = enqueued(q, "held"), next = enqueued(q, "next");
        auto skipped = q.claim("w", 1min, [](const Mission& m) -> Result<bool> { return m.task != "held"; });
        REQUIRE(skipped.ok());
        REQUIRE(skipped->has_value());
        CHECK((*skipped)->id == next);
        CHECK(fetched(q, held).status == "pending");
    }
}

TEST_CASE("cancel_for_task cancels the task's pending missions only", "[queue]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Queue q(*s.store);
        int64_t running = enqueued(q, "a", 9);
        claimed(q, "w");
        int64_t a1 = enqueued(q, "a"), b1 = enqueued(q, "b"), a2 = enqueued(q, "a");

        auto n = q.cancel_for_task("a");
        REQUIRE(n.ok());
        CHECK(*n == 2);
        CHECK(*q.cancel_for_task("a") == 0);
        auto missions = q.for_task("a");
        REQUIRE(missions.ok());
        REQUIRE(missions->size() == 3);
        CHECK((*missions)[0].id == running);
        CHECK((*missions)[0].status == "claimed");
        CHECK((*missions)[1].id == a1);
        CHECK((*missions)[1].status == "cancelled");
        CHECK((*missions)[2].id == a2);
        CHECK((*missions)[2].status == "cancelled");
        CHECK(fetched(q, b1).status == "pending");
        CHECK(claimed(q, "w").id == b1);

        auto counts = q.counts();
        REQUIRE(counts.ok());
        CHECK(*counts == std::map<std::string, int64_t>{
                             {"cancelled", 2}, {"claimed", 2}, {"completed", 0}, {"failed", 0}, {"pending", 0}});
    }
}

TEST_CASE("enqueue_in_tx joins the caller's transaction", "[queue]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Queue q(*s.store);
        const std::string t = format_rfc3339(now());
        auto with_agent = [&](const std::string& name, bool commit) {
            int64_t id = 0;
            Status st = s.store->transaction([&]() -> Status {
                FRACTA_TRY(s.store->exec(
                    "INSERT INTO agents (name, status, created_at, updated_at) VALUES (?, 'Queued', ?, ?)", {name, t, t}));
                FRACTA_TRY_ASSIGN(inserted, q.enqueue_in_tx(name, Json{{"agent", name}}, 1, 3));
                id = inserted;
                if (!commit) return failure("changed my mind");
                return {};
            });
            return std::make_pair(st, id);
        };
        auto [kept, kept_id] = with_agent("kept", true);
        REQUIRE(kept.ok());
        CHECK(fetched(q, kept_id).task == "kept");

        auto [dropped, dropped_id] = with_agent("dropped", false);
        CHECK_FALSE(dropped.ok());
        CHECK(dropped_id > 0);
        CHECK_FALSE(q.get(dropped_id)->has_value());
        CHECK(q.for_task("dropped")->empty());
        CHECK(s.store->query("SELECT name FROM agents WHERE name = 'dropped'")->empty());
    }
}

TEST_CASE("wait_for_work wakes on an enqueue from another connection, else times out", "[queue]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Queue q(*s.store);
        auto subscribed = q.wait_for_work(5s);  // the first call only subscribes
        REQUIRE(subscribed.ok());
        CHECK(*subscribed);

        auto quiet = q.wait_for_work(300ms);
        REQUIRE(quiet.ok());
        CHECK_FALSE(*quiet);

        auto other = store::open(s.url);
        REQUIRE(other.ok());
        Status produced;
        std::thread producer([&] {
            Queue p(**other);
            auto id = p.enqueue("wake", Json::object());
            if (!id.ok()) produced = id.error();
        });
        auto woke = q.wait_for_work(60s);  // true: woken, not timed out (60 s only stops a hang)
        producer.join();
        REQUIRE(produced.ok());
        REQUIRE(woke.ok());
        CHECK(*woke);
        CHECK(claimed(q, "w").task == "wake");
    }
}

TEST_CASE("Postgres claims skip missions another transaction holds", "[queue]") {
    std::string url = test::fresh_postgres_url();
    auto a = store::open(url), b = store::open(url);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    // Without SKIP LOCKED the second claim would wait for the first: fail instead.
    REQUIRE((*b)->exec("SET lock_timeout = '1s'").ok());
    Queue qa(**a), qb(**b);
    int64_t first = enqueued(qa, "first"), second = enqueued(qa, "second");

    std::optional<Mission> inner;
    auto outer = qa.claim("wa", 1min, [&](const Mission& m) -> Result<bool> {
        CHECK(m.id == first);
        // qa's transaction holds `first` locked: qb takes the next one.
        auto c = qb.claim("wb", 1min);
        if (!c.ok()) return failure(c.error().message);  // Failed: no retry of the outer claim
        inner = *c;
        return true;
    });
    REQUIRE(outer.ok());
    REQUIRE(outer->has_value());
    CHECK((*outer)->id == first);
    REQUIRE(inner.has_value());
    CHECK(inner->id == second);
    CHECK(inner->claimed_by == "wb");
}

TEST_CASE("four workers on their own connections claim every mission exactly once", "[queue]") {
    constexpr int kMissions = 200, kWorkers = 4;
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        Queue q(*s.store);
        REQUIRE(s.store->transaction([&]() -> Status {
                    for (int i = 0; i < kMissions; ++i)
                        FRACTA_TRY(q.enqueue_in_tx("t" + std::to_string(i), Json{{"i", i}}, i % 3, 3));
                    return {};
                }).ok());

        std::mutex mu;
        std::vector<int64_t> ids;
        std::vector<std::string> errors;
        std::map<std::string, int> by_worker;
        std::vector<std::thread> workers;
        std::latch connected(kWorkers);  // all connections open before anyone claims
        for (int w = 0; w < kWorkers; ++w) {
            workers.emplace_back([&, w] {
                auto report = [&](const std::string& e) {
                    std::lock_guard<std::mutex> lock(mu);
                    errors.push_back(e);
                };
                auto conn = store::open(s.url);
                connected.arrive_and_wait();
                if (!conn.ok()) return report(conn.error().message);
                Queue mine(**conn);
                const std::string name = "w" + std::to_string(w);
                for (;;) {
                    auto c = mine.claim(name, 1min);
                    if (!c.ok()) return report(c.error().message);
                    if (!c->has_value()) return;
                    {
                        std::lock_guard<std::mutex> lock(mu);
                        ids.push_back((*c)->id);
                        by_worker[name]++;
                    }
                    if (Status done = mine.complete((*c)->id, name); !done.ok()) return report(done.error().message);
                }
            });
        }
        for (auto& t : workers) t.join();

        for (const auto& e : errors) FAIL_CHECK(e);
        for (const auto& [w, n] : by_worker) UNSCOPED_INFO(w << " claimed " << n);
        CHECK(ids.size() == size_t(kMissions));
        CHECK(std::set<int64_t>(ids.begin(), ids.end()).size() == size_t(kMissions));
        auto counts = q.counts();
        REQUIRE(counts.ok());
        CHECK((*counts)["completed"] == kMissions);
        CHECK((*counts)["pending"] == 0);
        CHECK((*counts)["claimed"] == 0);
        auto attempts = s.store->query("SELECT COUNT(*) FROM missions WHERE attempt <> 1");
        REQUIRE(attempts.ok());
        CHECK((*attempts)[0].integer(0) == 0);
    }
}
