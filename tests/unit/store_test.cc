// The store, on sqlite and on a real Postgres: statements, transactions,
// migrations, notification, and how failures are classified.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "store/store.h"
#include "support.h"

using namespace fracta;
using namespace std::chrono_literals;

TEST_CASE("placeholders become $n for Postgres, except inside quotes", "[store]") {
    CHECK(store::postgres_placeholders("SELECT ? , '?' , \"a?\", ?") == "SELECT $1 , '?' , \"a?\", $2");
}

TEST_CASE("statements bind text, integers and NULL alike on both stores", "[store][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        auto& db = *s.store;
        REQUIRE(db.exec("CREATE TABLE t (id BIGINT, name TEXT, note TEXT)").ok());
        REQUIRE(db.exec("INSERT INTO t (id, name, note) VALUES (?, ?, ?)",
                        {int64_t{1} << 40, std::string("it's ?"), store::Value{}}).ok());
        auto rows = db.query("SELECT id, name, note FROM t WHERE id = ?", {int64_t{1} << 40});
        REQUIRE(rows.ok());
        REQUIRE(rows->size() == 1);
        CHECK((*rows)[0].integer(0) == (int64_t{1} << 40));
        CHECK((*rows)[0].text(1) == "it's ?");
        CHECK((*rows)[0].is_null(2));
    }
}

TEST_CASE("a failing transaction body leaves nothing behind", "[store][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        auto& db = *s.store;
        REQUIRE(db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY)").ok());
        Status st = db.transaction([&]() -> Status {
            FRACTA_TRY(db.exec("INSERT INTO t (id) VALUES (?)", {int64_t{1}}));
            return failure("changed my mind");
        });
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().message == "changed my mind");
        CHECK(db.query("SELECT id FROM t")->empty());

        REQUIRE(db.transaction([&] { return db.exec("INSERT INTO t (id) VALUES (?)", {int64_t{2}}); }).ok());
        CHECK(db.query("SELECT id FROM t")->size() == 1);

        auto bad_sql = db.exec("SELEC nonsense");
        REQUIRE_FALSE(bad_sql.ok());
        CHECK(bad_sql.error().kind == ErrorKind::Failed);
    }
}

TEST_CASE("migrations are recorded once and reopening is a no-op", "[store][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        auto versions = s.store->query("SELECT version, name FROM schema_migrations ORDER BY version");
        REQUIRE(versions.ok());
        REQUIRE(versions->size() == store::migrations().size());
        CHECK((*versions)[0].integer(0) == 1);
        auto again = store::open(s.url);
        REQUIRE(again.ok());
        CHECK((*again)->query("SELECT version FROM schema_migrations")->size() == store::migrations().size());
    }
}

TEST_CASE("several processes migrating one fresh Postgres at once agree", "[store][pg]") {
    std::string url = test::fresh_postgres_url();
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            if (store::open(url).ok()) ++ok;
        });
    for (auto& t : threads) t.join();
    CHECK(ok == 4);
    auto db = store::open(url);
    REQUIRE(db.ok());
    CHECK((*db)->query("SELECT version FROM schema_migrations")->size() == store::migrations().size());
}

TEST_CASE("a listener wakes when another connection commits a change", "[store][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        auto listener = store::open(s.url);
        REQUIRE(listener.ok());
        REQUIRE((*listener)->listen("chan").ok());
        REQUIRE(s.store->exec("CREATE TABLE t (id BIGINT)").ok());
        // The DDL may have woken it (sqlite: inotify events, queued by the
        // time exec returned): take what is there, without waiting.
        for (int i = 0; i < 100; ++i) {
            auto drained = (*listener)->wait_change(0ms, -1);
            REQUIRE(drained.ok());
            if (*drained == store::Wake::Timeout) break;
        }

        auto quiet = (*listener)->wait_change(100ms, -1);
        REQUIRE(quiet.ok());
        CHECK(*quiet == store::Wake::Timeout);

        REQUIRE(s.store->transaction([&]() -> Status {
            FRACTA_TRY(s.store->exec("INSERT INTO t (id) VALUES (1)", {}));
            return s.store->notify("chan");
        }).ok());
        auto woke = (*listener)->wait_change(60000ms, -1);  // Changed, not Timeout: 60 s only stops a hang
        REQUIRE(woke.ok());
        CHECK(*woke == store::Wake::Changed);
    }
}

TEST_CASE("a watcher notices its reader hanging up", "[store][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        REQUIRE(s.store->listen("chan").ok());
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        close(fds[0]);  // the reader is gone
        auto wake = s.store->wait_change(5000ms, fds[1]);
        close(fds[1]);
        REQUIRE(wake.ok());
        CHECK(*wake == store::Wake::Hangup);
    }
}

TEST_CASE("bad URLs are usage errors; an unreachable server is temporary", "[store]") {
    for (const char* bad : {"mysql://x", "sqlite:", "", "k8s:"}) {
        INFO(bad);
        auto r = store::open(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind == ErrorKind::Usage);
    }
    auto down = store::open("postgresql://u:hunter2@127.0.0.1:1/x");
    REQUIRE_FALSE(down.ok());
    CHECK(down.error().kind == ErrorKind::Temporary);
    CHECK(down.error().message.find("hunter2") == std::string::npos);  // never leak the password

    auto unparsable = store::open("postgresql://[oops");
    REQUIRE_FALSE(unparsable.ok());
    CHECK(unparsable.error().kind == ErrorKind::Usage);
}

TEST_CASE("a sqlite store creates its directory", "[store]") {
    std::string path = test::temp_dir() + "/deep/er/state.db";
    auto db = store::open("sqlite:" + path);
    REQUIRE(db.ok());
    CHECK(access(path.c_str(), F_OK) == 0);
    CHECK((*db)->describe() == "sqlite:" + path);
}
