// lib/provider/client: the caller's side of the session contract, against the
// real fracta-spawn-local, a minimal Gas City–style script provider (no
// wait/status/list/logs), one that never answers, and one that answers
// whatever it is told to (tests/fixtures/providers).
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <poll.h>
#include <unistd.h>

#include "provider/client.h"
#include "support.h"

using namespace fracta;
using provider::ClientOptions;
using provider::ProviderClient;
using provider::WaitResult;
using provider::WatchLine;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using test::source_root;

std::string spawn_local() {
    return test::binary("fracta-spawn-local");
}

std::string fixture(const std::string& name) {
    std::string path = source_root() + "/tests/fixtures/providers/" + name;
    REQUIRE(fs::exists(path));
    return path;
}

Json batch(const std::string& command, const std::string& work_dir) {
    return {{"work_dir", work_dir}, {"command", command}, {"mode", "batch"}};
}

template <class T>
std::string error_text(const Result<T>& r) {
    return r.ok() ? "ok" : r.error().message;
}

constexpr auto kPatience = 60s;

// The lines of a running `watch`, one at a time; nothing once it ends or
// stays silent past kPatience.
class WatchReader {
public:
    explicit WatchReader(proc::Process& p) : p_(p) {}
    std::optional<WatchLine> next() {
        const auto until = std::chrono::steady_clock::now() + kPatience;
        for (;;) {
            if (auto nl = buf_.find('\n'); nl != std::string::npos) {
                auto line = provider::decode_watch_line(buf_.substr(0, nl));
                buf_.erase(0, nl + 1);
                INFO(error_text(line));
                REQUIRE(line.ok());
                return *line;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            struct pollfd fd = {p_.stdout_fd(), POLLIN, 0};
            if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
            char chunk[4096];
            ssize_t got = ::read(p_.stdout_fd(), chunk, sizeof chunk);
            if (got == 0) return std::nullopt;
            if (got > 0) buf_.append(chunk, static_cast<size_t>(got));
        }
    }

private:
    proc::Process& p_;
    std::string buf_;
};


}  // namespace

TEST_CASE("provider client drives fracta-spawn-local", "[provider-client]") {
    std::string work = test::temp_dir();
    ProviderClient p({spawn_local()}, {{"FRACTA_STATE_DIR", test::temp_dir() + "/state"}});

    // start, then start again: adopted
    auto started = p.start("pc-long", batch("sleep 30", work));
    INFO(error_text(started));
    REQUIRE(started.ok());
    CHECK_FALSE(started->adopted);
    auto again = p.start("pc-long", batch("sleep 30", work));
    INFO(error_text(again));
    REQUIRE(again.ok());
    CHECK(again->adopted);

    auto running = p.is_running("pc-long");
    REQUIRE(running.ok());
    CHECK(*running);

    auto st = p.status("pc-long");
    REQUIRE(st.ok());
    REQUIRE(st->has_value());
    CHECK((*st)->name == "pc-long");
    CHECK((*st)->state == "running");
    CHECK_FALSE((*st)->exit_code.has_value());
    CHECK_FALSE((*st)->started_at.empty());
    CHECK_FALSE((*st)->ref.empty());

    auto absent = p.status("pc-nothing");
    REQUIRE(absent.ok());
    REQUIRE(absent->has_value());
    CHECK((*absent)->state == "absent");

    auto names = p.list_running("pc-");
    REQUIRE(names.ok());
    CHECK(*names == std::vector<std::string>{"pc-long"});
    auto none = p.list_running("zz-");
    REQUIRE(none.ok());
    CHECK(none->empty());

    SECTION("wait, peek, logs, status and list of a session that exited 3") {
        REQUIRE(p.start("pc-three", batch("echo hi; exit 3", work)).ok());
        auto w = p.wait("pc-three", 10s);
        INFO(error_text(w));
        REQUIRE(w.ok());
        REQUIRE(w->has_value());
        const auto& r = **w;
        CHECK(r.name == "pc-three");
        CHECK(r.state == "exited");
        CHECK(r.exit_code == std::optional<int>(3));
        CHECK(r.output_tail == "hi");  // trailing newline stripped
        CHECK_FALSE(r.started_at.empty());
        CHECK_FALSE(r.ended_at.empty());

        auto peeked = p.peek("pc-three", 5);
        REQUIRE(peeked.ok());
        CHECK(*peeked == "hi");
        auto logs = p.logs("pc-three");
        REQUIRE(logs.ok());
        CHECK(*logs == std::optional<std::string>("hi"));

        auto s = p.status("pc-three");
        REQUIRE(s.ok());
        REQUIRE(s->has_value());
        CHECK((*s)->state == "exited");
        CHECK((*s)->exit_code == std::optional<int>(3));

        auto all = p.list("pc-");
        REQUIRE(all.ok());
        REQUIRE(all->has_value());
        REQUIRE((*all)->size() == 2);
        std::map<std::string, std::string> states;
        for (const auto& one : **all) states[one.name] = one.state;
        CHECK(states == std::map<std::string, std::string>{{"pc-long", "running"}, {"pc-three", "exited"}});
    }

    SECTION("wait on a running session: Temporary; on no session: Failed") {
        auto w = p.wait("pc-long", 0s);
        REQUIRE_FALSE(w.ok());
        CHECK(w.error().kind == ErrorKind::Temporary);
        auto missing = p.wait("pc-nothing", 0s);
        REQUIRE_FALSE(missing.ok());
        CHECK(missing.error().kind == ErrorKind::Failed);
        CHECK(missing.error().message.find("no session") != std::string::npos);
    }

    SECTION("ended: nothing while the session runs, then how it ended") {
        const std::string gate = work + "/gate";
        REQUIRE(p.start("pc-slow", batch("while [ ! -e gate ]; do sleep 0.05; done; echo slow", work)).ok());
        auto early = p.ended("pc-slow");
        INFO(error_text(early));
        REQUIRE(early.ok());
        CHECK_FALSE(early->has_value());
        std::ofstream(gate) << "go";
        REQUIRE(p.wait("pc-slow", 60s).ok());
        auto r = p.ended("pc-slow");
        REQUIRE(r.ok());
        REQUIRE(r->has_value());
        CHECK((*r)->state == "exited");
        CHECK((*r)->exit_code == std::optional<int>(0));
        CHECK((*r)->output_tail == "slow");
        auto missing = p.ended("pc-nothing");
        REQUIRE_FALSE(missing.ok());
        CHECK(missing.error().kind == ErrorKind::Failed);
    }

    SECTION("watch: every session, the end of the listing, then each change of state") {
        auto w = p.watch("pc-");
        INFO(error_text(w));
        REQUIRE(w.ok());
        WatchReader lines(**w);
        std::map<std::string, std::string> states;
        for (auto l = lines.next(); l && !l->synced; l = lines.next()) states[l->status.name] = l->status.state;
        CHECK(states == std::map<std::string, std::string>{{"pc-long", "running"}});
        REQUIRE(p.start("pc-new", batch("true", work)).ok());
        std::string last;
        while (last != "exited") {
            auto l = lines.next();
            if (!l) break;
            if (l->status.name == "pc-new") last = l->status.state;
        }
        CHECK(last == "exited");
    }

    // stop: idempotent; the session then reads killed
    REQUIRE(p.stop("pc-long").ok());
    CHECK_FALSE(*p.is_running("pc-long"));
    REQUIRE(p.stop("pc-long").ok());
    auto w = p.wait("pc-long", 5s);
    REQUIRE(w.ok());
    REQUIRE(w->has_value());
    CHECK((*w)->state == "killed");
    CHECK(p.interrupt("pc-nothing").ok());
    CHECK(p.nudge("pc-nothing", "").ok());
}

TEST_CASE("provider client copes with a minimal Gas City-style provider", "[provider-client]") {
    std::string work = test::temp_dir();
    ProviderClient p({fixture("minimal")}, {{"GC_EXEC_STATE_DIR", test::temp_dir()}});

    auto started = p.start("m1", batch("echo out; while [ ! -e gate ]; do sleep 0.05; done", work));
    INFO(error_text(started));
    REQUIRE(started.ok());
    CHECK_FALSE(started->adopted);
    auto again = p.start("m1", batch("echo out; while [ ! -e gate ]; do sleep 0.05; done", work));
    REQUIRE(again.ok());
    CHECK(again->adopted);
    CHECK(*p.is_running("m1"));
    auto names = p.list_running("");
    REQUIRE(names.ok());
    CHECK(*names == std::vector<std::string>{"m1"});

    // fracta's extra ops: exit 2 → nullopt; Gas City ops it lacks: success
    auto w = p.wait("m1", 0s);
    REQUIRE(w.ok());
    CHECK_FALSE(w->has_value());
    auto st = p.status("m1");
    REQUIRE(st.ok());
    CHECK_FALSE(st->has_value());
    auto all = p.list("");
    REQUIRE(all.ok());
    CHECK_FALSE(all->has_value());
    auto logs = p.logs("m1");
    REQUIRE(logs.ok());
    CHECK_FALSE(logs->has_value());
    CHECK(p.interrupt("m1").ok());
    CHECK(p.nudge("m1", "hello").ok());

    // ended() falls back to is-running, then peeks
    auto running = p.ended("m1");
    REQUIRE(running.ok());
    CHECK_FALSE(running->has_value());
    std::ofstream(work + "/gate") << "go";  // the session may end now
    std::optional<WaitResult> r;
    for (auto until = std::chrono::steady_clock::now() + kPatience; !r && std::chrono::steady_clock::now() < until;
         std::this_thread::sleep_for(50ms)) {
        auto e = p.ended("m1");
        INFO(error_text(e));
        REQUIRE(e.ok());
        r = *e;
    }
    REQUIRE(r.has_value());
    CHECK(r->name == "m1");
    CHECK(r->state == "exited");
    CHECK_FALSE(r->exit_code.has_value());
    CHECK(r->output_tail == "out");
    CHECK_FALSE(*p.is_running("m1"));

    // no watch: it exits 2 at once
    auto watch = p.watch("");
    REQUIRE(watch.ok());
    REQUIRE((*watch)->wait_exit(kPatience));
    CHECK((*watch)->exit_code() == 2);

    // an invalid name: the provider's exit 100 is a usage error, with its text
    auto bad = p.start("bad name", batch("true", work));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().kind == ErrorKind::Usage);
    CHECK(bad.error().message == "minimal: error: invalid session name \"bad name\"");
}

// The fixture sleeps forever: a timeout that did not end the op would hang
// the test (ctest's limit), so no clock is read here.
TEST_CASE("provider client times out a provider that never answers", "[provider-client]") {
    ClientOptions quick;
    quick.op_timeout = 300ms;
    ProviderClient p({fixture("hang")}, {}, quick);

    auto running = p.is_running("h1");
    REQUIRE_FALSE(running.ok());
    CHECK(running.error().kind == ErrorKind::Temporary);
    CHECK(running.error().message == "is-running timed out after 0.3 s");

    auto started = p.start("h1", Json::object(), 200ms);
    REQUIRE_FALSE(started.ok());
    CHECK(started.error().kind == ErrorKind::Temporary);
    CHECK(started.error().message == "start timed out after 0.2 s");

    auto w = p.wait("h1", 0s);  // its timeout + the op timeout
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().message == "wait timed out after 0.3 s");
}

TEST_CASE("provider client maps exit statuses and outputs", "[provider-client]") {
    auto with = [](std::map<std::string, std::string> env) {
        return ProviderClient({fixture("exits")}, std::move(env));
    };
    SECTION("0: stdout without trailing newlines; lists without blanks or foreign names") {
        auto peeked = with({{"EXITS_STDOUT", "a\\n\\nb\\n\\n\\n"}}).peek("x", 0);
        REQUIRE(peeked.ok());
        CHECK(*peeked == "a\n\nb");
        auto names = with({{"EXITS_STDOUT", "p-1\\n\\nother\\np-2\\n"}}).list_running("p-");
        REQUIRE(names.ok());
        CHECK(*names == std::vector<std::string>{"p-1", "p-2"});
        CHECK(*with({{"EXITS_STDOUT", "true\\n"}}).is_running("x"));
        CHECK_FALSE(*with({{"EXITS_STDOUT", ""}}).is_running("x"));
        auto garbage = with({{"EXITS_STDOUT", "yes"}}).is_running("x");
        REQUIRE_FALSE(garbage.ok());
        CHECK(garbage.error().kind == ErrorKind::Failed);
    }
    SECTION("2: not supported — empty, false, none, a no-op; start fails") {
        auto p = with({{"EXITS_CODE", "2"}, {"EXITS_STDOUT", "ignored"}});
        CHECK(*p.is_running("x") == false);
        CHECK(*p.peek("x", 5) == "");
        CHECK(p.list_running("")->empty());
        CHECK(p.stop("x").ok());
        CHECK(p.nudge("x", "hi").ok());
        CHECK_FALSE(p.status("x")->has_value());
        auto s = p.start("x", Json::object());
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().kind == ErrorKind::Failed);
    }
    SECTION("error kinds and texts") {
        struct Case {
            std::string code, err;
            ErrorKind kind;
            std::string message;
        };
        for (const Case& k : std::vector<Case>{
                 {"1", "prov: error: no session \"x\"\\n", ErrorKind::Failed, "prov: error: no session \"x\""},
                 {"1", "", ErrorKind::Failed, "stop: exit 1"},
                 {"3", "\\n  broken  \\nmore\\n", ErrorKind::Failed, "broken"},
                 {"1", "prov: warning: slow\\nprov: error: gone\\n", ErrorKind::Failed, "prov: error: gone"},
                 {"100", "prov: error: bad flag\\n", ErrorKind::Usage, "prov: error: bad flag"},
                 {"111", "prov: error: api unreachable\\n", ErrorKind::Temporary, "prov: error: api unreachable"},
                 {"126", "kubectl: permission denied\\n", ErrorKind::CannotExec, "kubectl: permission denied"},
                 {"127", "", ErrorKind::NotFound, "stop: exit 127"},
             }) {
            INFO("exit " << k.code << " stderr " << k.err);
            auto r = with({{"EXITS_CODE", k.code}, {"EXITS_STDERR", k.err}}).stop("x");
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().kind == k.kind);
            CHECK(r.error().message == k.message);
        }
        auto killed = with({{"EXITS_SIGNAL", "KILL"}}).stop("x");
        REQUIRE_FALSE(killed.ok());
        CHECK(killed.error().kind == ErrorKind::Failed);
        CHECK(killed.error().message == "stop: killed by signal 9");
    }
    SECTION("already exists, any case, on a failed start: adopted") {
        auto s = with({{"EXITS_CODE", "1"}, {"EXITS_STDERR", "Session \"x\" ALREADY EXISTS\\n"}}).start("x", {});
        REQUIRE(s.ok());
        CHECK(s->adopted);
        auto usage = with({{"EXITS_CODE", "100"}, {"EXITS_STDERR", "already exists\\n"}}).start("x", {});
        REQUIRE_FALSE(usage.ok());
        CHECK(usage.error().kind == ErrorKind::Usage);
    }
    SECTION("the extra ops' JSON") {
        auto st = with({{"EXITS_STDOUT", "{\"state\":\"pending\",\"ref\":42,\"exit_code\":null}\\n"}}).status("x");
        INFO(error_text(st));
        REQUIRE(st.ok());
        CHECK((*st)->name == "x");
        CHECK((*st)->state == "unknown");
        CHECK((*st)->ref == "42");
        CHECK_FALSE((*st)->exit_code.has_value());
        auto bad = with({{"EXITS_STDOUT", "{\"state\":"}}).status("x");
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.error().kind == ErrorKind::Failed);
        auto lost = with({{"EXITS_STDOUT", "{\"state\":\"lost\",\"exit_code\":null}"}}).wait("x", 1s);
        REQUIRE(lost.ok());
        CHECK((*lost)->state == "lost");
        CHECK_FALSE((*lost)->exit_code.has_value());
        auto odd = with({{"EXITS_STDOUT", "{\"state\":\"running\"}"}}).wait("x", 1s);
        REQUIRE_FALSE(odd.ok());
        CHECK(odd.error().kind == ErrorKind::Failed);
        auto empty_list = with({{"EXITS_STDOUT", "[]"}}).list("");
        REQUIRE(empty_list.ok());
        CHECK((*empty_list)->empty());
        auto not_array = with({{"EXITS_STDOUT", "{}"}}).list("");
        REQUIRE_FALSE(not_array.ok());
    }
}

TEST_CASE("provider client reports a provider it cannot run", "[provider-client]") {
    auto missing = ProviderClient({"/nonexistent/fracta-provider"}).is_running("x");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().kind == ErrorKind::NotFound);
    CHECK(exit_code(missing.error().kind) == 127);
    auto not_exec = ProviderClient({source_root() + "/tests/fixtures/lib.bash"}).stop("x");
    REQUIRE_FALSE(not_exec.ok());
    CHECK(not_exec.error().kind == ErrorKind::CannotExec);
}
