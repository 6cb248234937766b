// Long-lived children (proc::Process): talking over their pipes, telling
// their end, the shutdown order (stdin closed, SIGTERM, SIGKILL), and a
// process group that never outlives its leader.
#include "proc/process.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

using namespace fracta;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<proc::Process> started(std::vector<std::string> argv) {
    proc::Command c;
    c.argv = std::move(argv);
    auto p = proc::Process::start(c);
    if (!p.ok()) FAIL(p.error().message);
    return std::move(*p);
}

// Read `fd` until `want` has arrived or it closes.
std::string read_until(int fd, const std::string& want) {
    std::string got;
    char buf[256];
    while (got.find(want) == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        REQUIRE(::poll(&p, 1, 30000) == 1);
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == 0) break;
        if (n > 0) got.append(buf, static_cast<size_t>(n));
    }
    return got;
}

}  // namespace

TEST_CASE("process: stdin in, stdout out, and the exit status once stdin closes", "[proc]") {
    auto p = started({"sh", "-c", "while read line; do echo \"got $line\"; echo \"err $line\" >&2; done; exit 7"});
    CHECK(!p->exited());
    CHECK(p->exit_code() == -1);
    REQUIRE(p->write("one\n", 5s).ok());
    CHECK(read_until(p->stdout_fd(), "\n") == "got one\n");
    CHECK(read_until(p->stderr_fd(), "\n") == "err one\n");
    p->close_stdin();
    CHECK(p->wait_exit(30s));
    CHECK(p->exit_code() == 7);
    CHECK(p->status_text() == "exited with status 7");
    auto late = p->write("two\n", 1s);
    REQUIRE(!late.ok());
    CHECK_THAT(late.error().message, Catch::Contains("stdin is closed"));
}

TEST_CASE("process: a start failure is run()'s error", "[proc]") {
    proc::Command c;
    c.argv = {"/nonexistent/program"};
    auto p = proc::Process::start(c);
    REQUIRE(!p.ok());
    CHECK(p.error().kind == ErrorKind::NotFound);
}

TEST_CASE("process: stop escalates to SIGKILL for a child that ignores SIGTERM", "[proc]") {
    auto p = started({"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"});
    read_until(p->stdout_fd(), "ready");
    p->stop(100ms);
    CHECK(p->exited());
    CHECK(p->status_text() == "killed by signal 9");
    CHECK(::kill(p->pid(), 0) != 0);  // reaped
}

TEST_CASE("process: when the leader dies, the rest of its group goes too", "[proc]") {
    // The shell starts a sleeper in the background, says its pid, then waits.
    auto p = started({"sh", "-c", "sleep 300 & echo $!; wait"});
    std::string line = read_until(p->stdout_fd(), "\n");
    pid_t sleeper = std::stoi(line);
    // A pidfd turns readable when the sleeper dies: no polling loop needed.
    int watch = static_cast<int>(::syscall(SYS_pidfd_open, sleeper, 0));
    REQUIRE(watch >= 0);
    ::kill(p->pid(), SIGKILL);
    CHECK(p->wait_exit(30s));
    CHECK(p->status_text() == "killed by signal 9");
    pollfd died{watch, POLLIN, 0};
    CHECK(::poll(&died, 1, 30000) == 1);
    ::close(watch);
}
