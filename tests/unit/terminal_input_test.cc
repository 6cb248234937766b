// Nudge confirmation (session/terminal_input.h) against programs on a real
// pty, each a thread of this test: a nudge is confirmed once its line has
// left the program's input, not at the program's first output after the
// submit.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "session/terminal_input.h"

using fracta::session::NudgeKeys;
using fracta::session::TerminalInput;
using namespace std::chrono_literals;

namespace {

void say(int fd, const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
        ssize_t n = ::write(fd, s.data() + done, s.size() - done);
        if (n <= 0) return;
        done += static_cast<size_t>(n);
    }
}

// A pty with a program (a function of the terminal's side) on it, the
// supervisor's peer handle, and the output pumped into a TerminalInput as
// the supervisor does. The program gets `stop` to look at between reads.
class Terminal {
public:
    using Program = std::function<void(int tty, const std::atomic<bool>& stop)>;

    explicit Terminal(Program program, bool raw) {
        master_ = ::posix_openpt(O_RDWR | O_NOCTTY);
        REQUIRE(master_ >= 0);
        REQUIRE(::grantpt(master_) == 0);
        REQUIRE(::unlockpt(master_) == 0);
        struct winsize ws = {10, 60, 0, 0};
        ::ioctl(master_, TIOCSWINSZ, &ws);
        tty_ = ::open(::ptsname(master_), O_RDWR | O_NOCTTY);
        peer_ = ::open(::ptsname(master_), O_RDWR | O_NOCTTY);
        REQUIRE(tty_ >= 0);
        REQUIRE(peer_ >= 0);
        if (raw) {
            struct termios t;
            ::tcgetattr(tty_, &t);
            ::cfmakeraw(&t);
            ::tcsetattr(tty_, TCSANOW, &t);
        }
        ::fcntl(master_, F_SETFL, ::fcntl(master_, F_GETFL) | O_NONBLOCK);
        input_ = std::make_unique<TerminalInput>(master_, peer_, NudgeKeys{});
        pump_ = std::thread([this] {
            char buf[4096];
            while (!stop_) {
                struct pollfd p = {master_, POLLIN, 0};
                if (::poll(&p, 1, 20) <= 0) continue;
                ssize_t n = ::read(master_, buf, sizeof buf);
                if (n > 0) input_->saw_output(buf, static_cast<size_t>(n));
            }
        });
        if (program) program_ = std::thread([this, program] { program(tty_, stop_); });
    }
    ~Terminal() {
        stop_ = true;
        if (program_.joinable()) program_.join();
        pump_.join();
        ::close(tty_);
        ::close(peer_);
        ::close(master_);
    }

    TerminalInput& input() { return *input_; }

private:
    int master_ = -1, tty_ = -1, peer_ = -1;
    std::atomic<bool> stop_{false};
    std::unique_ptr<TerminalInput> input_;
    std::thread pump_, program_;
};

// Bytes the program's terminal has for it, or "" after a short while.
std::string read_some(int tty) {
    struct pollfd p = {tty, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) return "";
    char buf[4096];
    ssize_t n = ::read(tty, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// A TUI's prompt, as the agent TUIs draw theirs: the line being typed after
// "> " with the cursor at its end; C-u empties it. On Enter it first draws a
// spinner elsewhere (the cursor put back), and takes the line out of the
// prompt only `takes` later — Claude Code while a reply streams. `submits`
// false: Enter never registers (the line stays, the spinner still moves).
// `mid_frame`: the spinner's frame comes in two writes, the cursor left on
// the spinner between them, as a large frame can reach the supervisor.
struct Prompt {
    std::chrono::milliseconds takes = 400ms;
    bool submits = true;
    bool mid_frame = false;
    std::mutex mu;
    std::vector<std::string> taken;

    size_t taken_count() {
        std::lock_guard<std::mutex> lock(mu);
        return taken.size();
    }

    void run(int tty, const std::atomic<bool>& stop) {
        std::string line;
        say(tty, "\x1b[10;1H> ");
        while (!stop) {
            for (char c : read_some(tty)) {
                if (c == 0x15) {
                    line.clear();
                } else if (c == '\r') {
                    if (mid_frame) {
                        say(tty, "\x1b[1;1H* working");
                        std::this_thread::sleep_for(10ms);
                        say(tty, "\x1b[10;" + std::to_string(3 + line.size()) + "H");
                    } else {
                        say(tty, "\x1b" "7\x1b[1;1H* working\x1b" "8");
                    }
                    if (!submits) continue;
                    std::this_thread::sleep_for(takes);
                    std::lock_guard<std::mutex> lock(mu);
                    taken.push_back(line);
                    line.clear();
                } else {
                    line += c;
                }
                say(tty, "\r\x1b[K> " + line);
            }
        }
    }
};

}  // namespace

TEST_CASE("a nudge is confirmed once its line has left the TUI's prompt, not at its first output", "[nudge]") {
    Prompt prompt;
    Terminal term([&](int tty, const std::atomic<bool>& stop) { prompt.run(tty, stop); }, true);
    for (int i = 1; i <= 3; ++i) {
        auto r = term.input().nudge("message number " + std::to_string(i), 5s);
        REQUIRE(r.ok());
        CHECK(*r == static_cast<uint64_t>(i));
        // Taken before the answer: the next nudge's C-u cannot erase it.
        REQUIRE(prompt.taken_count() == static_cast<size_t>(i));
    }
    std::lock_guard<std::mutex> lock(prompt.mu);
    CHECK(prompt.taken == std::vector<std::string>{"message number 1", "message number 2", "message number 3"});
}

TEST_CASE("the cursor is looked at once the TUI rests, not mid-frame", "[nudge]") {
    Prompt prompt;
    prompt.mid_frame = true;
    Terminal term([&](int tty, const std::atomic<bool>& stop) { prompt.run(tty, stop); }, true);
    auto r = term.input().nudge("between frames", 5s);
    REQUIRE(r.ok());
    CHECK(prompt.taken_count() == 1);
}

TEST_CASE("a nudge whose Enter never registers fails within its timeout, though the TUI drew", "[nudge]") {
    Prompt prompt;
    prompt.submits = false;
    Terminal term([&](int tty, const std::atomic<bool>& stop) { prompt.run(tty, stop); }, true);
    const auto started = std::chrono::steady_clock::now();
    auto r = term.input().nudge("are you there?", 1500ms);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "no reaction within 1.5s: the program read the nudge but it stayed on its input line");
    CHECK(std::chrono::steady_clock::now() - started < 3s);
}

TEST_CASE("a nudge to a line-mode program (the kernel echoes) is confirmed when it read the line", "[nudge]") {
    std::mutex mu;
    std::vector<std::string> lines;
    Terminal term(
        [&](int tty, const std::atomic<bool>& stop) {
            std::string got;
            while (!stop) {
                got += read_some(tty);
                for (size_t nl; (nl = got.find('\n')) != std::string::npos; got.erase(0, nl + 1)) {
                    say(tty, "got " + got.substr(0, nl) + "\n");
                    std::lock_guard<std::mutex> lock(mu);
                    lines.push_back(got.substr(0, nl));
                }
            }
        },
        false);
    // The kernel moved the cursor past the echoed line; the program has read
    // it (and may not have answered yet).
    auto r = term.input().nudge("hello there", 5s);
    REQUIRE(r.ok());
    for (int i = 0; i < 200; ++i) {
        std::lock_guard<std::mutex> lock(mu);
        if (!lines.empty()) break;
        std::this_thread::sleep_for(10ms);
    }
    std::lock_guard<std::mutex> lock(mu);
    CHECK(lines == std::vector<std::string>{"hello there"});
}

TEST_CASE("a nudge to a program that does not show what is typed is confirmed by its output", "[nudge]") {
    Terminal term(
        [&](int tty, const std::atomic<bool>& stop) {
            while (!stop)
                if (read_some(tty).find('\r') != std::string::npos) say(tty, "ok\r\n");
        },
        true);
    auto r = term.input().nudge("silent input", 5s);
    REQUIRE(r.ok());
}

TEST_CASE("a nudge to a program that never reads fails within its timeout", "[nudge]") {
    Terminal term(nullptr, true);
    const auto started = std::chrono::steady_clock::now();
    auto r = term.input().nudge("anyone?", 1s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "no reaction within 1s: the program did not read the nudge");
    CHECK(std::chrono::steady_clock::now() - started < 3s);
}
