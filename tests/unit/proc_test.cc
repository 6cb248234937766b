// Running programs: exit statuses, separated and capped output, stdin,
// environment, working directory, timeouts that reach the whole process
// group, start failures told apart from exits, and many threads at once.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "proc/run.h"
#include "support.h"

using namespace fracta;
using namespace std::chrono_literals;

namespace {

proc::Outcome ran(const proc::Command& c) {
    auto r = proc::run(c);
    if (!r.ok()) FAIL(r.error().message);
    return *r;
}

proc::Outcome ran_shell(const std::string& line) {
    return ran(proc::shell(line));
}

// Live (not zombie) processes whose process group is `pgid`, from /proc.
std::vector<pid_t> live_members(pid_t pgid) {
    std::vector<pid_t> members;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(entry.path() / "stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream fields(stat.substr(close + 2));
        char state = 0;
        pid_t ppid = 0, pgrp = 0;
        fields >> state >> ppid >> pgrp;
        if (pgrp == pgid && state != 'Z' && state != 'X') members.push_back(std::stoi(name));
    }
    return members;
}

// A process that has closed its files may still be finishing its exit: wait
// for it (60 s only stops a hung test).
bool group_gone(pid_t pgid) {
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < until) {
        if (live_members(pgid).empty()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

}  // namespace

TEST_CASE("the exit status is the outcome, not an error", "[proc]") {
    CHECK(ran_shell("exit 0").exit_code == 0);
    CHECK(ran_shell("exit 0").ok());
    auto three = ran_shell("exit 3");
    CHECK(three.exit_code == 3);
    CHECK_FALSE(three.ok());
    CHECK(three.signal == 0);
    CHECK_FALSE(three.timed_out);
}

TEST_CASE("a program that runs and exits 127 is told apart from one that was not found", "[proc]") {
    auto r = proc::run(proc::shell("exit 127"));
    REQUIRE(r.ok());
    CHECK(r->exit_code == 127);
}

TEST_CASE("a child killed by a signal reports it, and 128 + signal as sh would", "[proc]") {
    auto o = ran_shell("kill -TERM $$");
    CHECK(o.signal == SIGTERM);
    CHECK(o.exit_code == 128 + SIGTERM);
    CHECK_FALSE(o.ok());
}

TEST_CASE("stdout and stderr are kept apart", "[proc]") {
    auto o = ran_shell("echo out; echo err >&2; printf more");
    CHECK(o.out == "out\nmore");
    CHECK(o.err == "err\n");
    CHECK_FALSE(o.truncated);
}

TEST_CASE("argv is passed as is: no shell, no splitting", "[proc]") {
    proc::Command c;
    c.argv = {"printf", "[%s]", "a b", "$HOME", "*"};
    CHECK(ran(c).out == "[a b][$HOME][*]");
}

TEST_CASE("10 MB of output neither deadlocks nor exceeds max_output", "[proc]") {
    const size_t ten_mb = 10u << 20;
    SECTION("the first max_output bytes are kept, the rest dropped") {
        auto o = ran(proc::shell("head -c 10485760 /dev/zero; echo done >&2"));
        CHECK(o.exit_code == 0);
        CHECK(o.out.size() == (4u << 20));
        CHECK(o.truncated);
        CHECK(o.err == "done\n");
    }
    SECTION("with room for it, all of it") {
        auto c = proc::shell("head -c 10485760 /dev/zero | tr '\\0' x; head -c 10485760 /dev/zero >&2");
        c.max_output = 16u << 20;
        auto o = ran(c);
        CHECK(o.out == std::string(ten_mb, 'x'));
        CHECK(o.err.size() == ten_mb);
        CHECK_FALSE(o.truncated);
    }
    SECTION("while 10 MB go in on stdin at the same time") {
        proc::Command c;
        c.argv = {"cat"};
        c.input = std::string(ten_mb, 'y');
        c.max_output = 16u << 20;
        auto o = ran(c);
        CHECK(o.exit_code == 0);
        CHECK(o.out == c.input);
    }
    SECTION("a max_output of zero keeps nothing") {
        auto c = proc::shell("echo hi");
        c.max_output = 0;
        auto o = ran(c);
        CHECK(o.out.empty());
        CHECK(o.truncated);
    }
}

TEST_CASE("stdin gets the input, without needing a trailing newline, then EOF", "[proc]") {
    proc::Command c;
    c.argv = {"cat"};
    c.input = "{\"no\":\"newline\"}";
    CHECK(ran(c).out == "{\"no\":\"newline\"}");

    auto read = proc::shell("read -r line; echo \"[$line]\"");
    read.input = "last line";
    CHECK(ran(read).out == "[last line]\n");

    c.input = "";
    CHECK(ran(c).out.empty());  // EOF at once, nothing to wait for
}

TEST_CASE("a program that does not read its input is no problem (no SIGPIPE for us)", "[proc]") {
    auto c = proc::shell("exit 0");
    c.input = std::string(4u << 20, 'z');
    CHECK(ran(c).ok());
    auto some = proc::shell("head -c 5");
    some.input = std::string(1u << 20, 'z');
    CHECK(ran(some).out == "zzzzz");
}

TEST_CASE("the environment is inherited, extended, overridden and trimmed", "[proc]") {
    setenv("FRACTA_PROC_KEEP", "kept", 1);
    setenv("FRACTA_PROC_OVERRIDE", "old", 1);
    setenv("FRACTA_PROC_UNSET", "there", 1);
    auto c =
        proc::shell("echo \"$FRACTA_PROC_KEEP,$FRACTA_PROC_OVERRIDE,${FRACTA_PROC_UNSET-unset},$FRACTA_PROC_NEW\"");
    c.env = {{"FRACTA_PROC_OVERRIDE", "new"}, {"FRACTA_PROC_NEW", "a b=c"}};
    c.unset_env = {"FRACTA_PROC_UNSET"};
    CHECK(ran(c).out == "kept,new,unset,a b=c\n");
    unsetenv("FRACTA_PROC_KEEP");
    unsetenv("FRACTA_PROC_OVERRIDE");
    unsetenv("FRACTA_PROC_UNSET");

    auto bad = proc::shell("true");
    bad.env = {{"A=B", "c"}};
    auto r = proc::run(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::Usage);
}

TEST_CASE("argv[0] is looked up in the child's PATH", "[proc]") {
    std::string dir = test::temp_dir();
    test::write_script(dir + "/fracta-hello", "#!/bin/sh\necho hello from $0\n");
    proc::Command c;
    c.argv = {"fracta-hello"};
    c.env = {{"PATH", dir + ":/usr/bin:/bin"}};
    CHECK(ran(c).out == "hello from " + dir + "/fracta-hello\n");
}

TEST_CASE("cwd sets the child's working directory", "[proc]") {
    std::string dir = test::temp_dir();
    proc::Command c;
    c.argv = {"pwd", "-P"};
    c.cwd = dir;
    CHECK(ran(c).out == std::filesystem::canonical(dir).string() + "\n");

    c.cwd = dir + "/missing";
    auto r = proc::run(c);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::Failed);
    CHECK(r.error().message == "chdir " + dir + "/missing: No such file or directory");
}

TEST_CASE("a program that cannot be found is NotFound (127)", "[proc]") {
    proc::Command c;
    c.argv = {"fracta-no-such-program"};
    auto r = proc::run(c);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::NotFound);
    CHECK(r.error().message == "exec fracta-no-such-program: not found");

    c.argv = {test::temp_dir() + "/nothing-here"};
    r = proc::run(c);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::NotFound);

    CHECK(proc::run(proc::Command{}).error().kind == ErrorKind::Usage);
}

TEST_CASE("a program that cannot be executed is CannotExec (126)", "[proc]") {
    std::string dir = test::temp_dir();
    std::ofstream(dir + "/plain") << "echo never\n";
    chmod((dir + "/plain").c_str(), 0644);

    proc::Command by_path;
    by_path.argv = {dir + "/plain"};
    auto r = proc::run(by_path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::CannotExec);
    CHECK(r.error().message == "exec " + dir + "/plain: Permission denied");

    proc::Command by_name;
    by_name.argv = {"plain"};
    by_name.env = {{"PATH", dir}};
    r = proc::run(by_name);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::CannotExec);

    proc::Command directory;
    directory.argv = {dir};
    r = proc::run(directory);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::CannotExec);
}

// The shells below must reach their first line before the timeout fires, or
// the run shows nothing. A run that shows nothing is tried again with twice
// the timeout (1 s … 64 s), so a loaded machine costs time, never the result.
namespace {
proc::Outcome ran_until_started(proc::Command c) {
    for (std::chrono::milliseconds t = 1s;; t *= 2) {
        c.timeout = t;
        proc::Outcome o = ran(c);
        if (!o.out.empty() || t >= 64s) return o;
    }
}
}  // namespace

TEST_CASE("the timeout stops the child and everything it started", "[proc]") {
    SECTION("a plain sleep") {
        proc::Command c;
        c.argv = {"sleep", "100"};
        c.timeout = 200ms;
        auto o = ran(c);
        CHECK(o.timed_out);
        CHECK(o.signal == SIGTERM);
        CHECK_FALSE(o.ok());
    }
    SECTION("a shell with a background job: the whole process group goes") {
        auto o = ran_until_started(proc::shell("echo $$; sleep 100 & sleep 100"));
        CHECK(o.timed_out);
        REQUIRE_FALSE(o.out.empty());
        pid_t group = std::stoi(o.out);
        CHECK(group_gone(group));
    }
    SECTION("a group that ignores SIGTERM gets SIGKILL") {
        auto o = ran_until_started(proc::shell("trap '' TERM; echo $$; sleep 100 & sleep 100"));
        CHECK(o.timed_out);
        REQUIRE_FALSE(o.out.empty());
        CHECK(o.signal == SIGKILL);
        CHECK(group_gone(std::stoi(o.out)));
    }
    SECTION("output written before the timeout is kept") {
        CHECK(ran_until_started(proc::shell("echo partial; exec sleep 100")).out == "partial\n");
    }
}

TEST_CASE("a background job that closed its output is not waited for", "[proc]") {
    auto o = ran_shell("echo $$; sleep 100 >/dev/null 2>&1 </dev/null &");
    CHECK(o.ok());
    pid_t group = std::stoi(o.out);
    CHECK_FALSE(live_members(group).empty());
    kill(-group, SIGKILL);
    CHECK(group_gone(group));
}

TEST_CASE("descriptors opened without O_CLOEXEC do not leak into the child", "[proc]") {
    int leaky = open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
    REQUIRE(leaky > 2);
    auto o = ran_shell("test -e /proc/$$/fd/" + std::to_string(leaky) + " && echo leaked || echo clean");
    close(leaky);
    CHECK(o.out == "clean\n");
}

TEST_CASE("runs from several threads at once do not mix", "[proc]") {
    constexpr int kThreads = 4, kRuns = 25;
    std::vector<std::vector<std::string>> got(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([t, &got] {
            for (int i = 0; i < kRuns; ++i) {
                auto c = proc::shell("cat; echo \" $0\" >&2");
                c.argv.push_back(std::to_string(t) + "." + std::to_string(i));
                c.input = "in-" + std::to_string(t) + "." + std::to_string(i);
                auto r = proc::run(c);
                got[t].push_back(r.ok() ? r->out + "|" + r->err : "error: " + r.error().message);
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) {
        REQUIRE(got[t].size() == kRuns);
        for (int i = 0; i < kRuns; ++i) {
            std::string id = std::to_string(t) + "." + std::to_string(i);
            CHECK(got[t][i] == "in-" + id + "| " + id + "\n");
        }
    }
}

TEST_CASE("shell_quote makes one command line that runs the words exactly", "[proc]") {
    std::vector<std::string> words = {"printf", "%s|", "it's", "two words", "$HOME", "", "a\"b"};
    auto out = proc::run(proc::shell(proc::shell_quote(words)));
    REQUIRE(out.ok());
    CHECK(out->out == "it's|two words|$HOME||a\"b|");
    CHECK(proc::shell_quote({"ls", "-la", "/tmp"}) == "ls -la /tmp");
}
