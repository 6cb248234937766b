#include "session/terminal_input.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "base/io.h"
#include "session/keys.h"

namespace fracta::session {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kSubmitPause{100};  // after the program read a nudge's text
constexpr std::chrono::seconds kNoWaitDrain{2};         // how long --no-wait lets it read the text
// After a nudge's submit was read and answered with output: a TUI may still
// be moving the line out of its prompt (Claude Code while a reply streams,
// whose spinner is the output we saw), and the next nudge's clear key must
// not reach that line.
constexpr std::chrono::milliseconds kSubmitSettle{300};

Result<bool> TerminalInput::type(const std::string& bytes) {
    std::lock_guard<std::mutex> lock(input_mu_);
    if (master_ < 0) return false;
    std::string_view rest = bytes;
    auto give_up = Clock::now() + std::chrono::seconds(5);
    while (!rest.empty()) {
        ssize_t n = ::write(master_, rest.data(), rest.size());
        if (n > 0) {
            rest.remove_prefix(static_cast<size_t>(n));
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (Clock::now() > give_up) return temporary_error("session is not reading its input");
            struct pollfd p = {master_, POLLOUT, 0};
            ::poll(&p, 1, 50);
        } else {
            return failure("write to session: " + io::errno_text(errno));
        }
    }
    return true;
}

// poll(2) on the terminal's side first moves what was written to the master
// into the line discipline, then says whether any of it is unread (in
// canonical mode: a whole line). So "not readable" right after a write means
// the program has taken it.
bool TerminalInput::input_pending() const {
    struct pollfd p = {peer_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

void TerminalInput::wait_until_read(Clock::time_point deadline) {
    while (peer_ >= 0 && input_pending() && Clock::now() < deadline) {
        {
            std::lock_guard<std::mutex> lock(out_mu_);
            if (ended_) return;  // nobody will read it
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

Result<uint64_t> TerminalInput::nudge(const std::string& text, std::chrono::milliseconds wait) {
    if (master_ < 0) return usage_error("the session has no terminal (batch mode): a nudge cannot reach it");
    std::lock_guard<std::mutex> serial(nudge_mu_);
    {
        // Its command has ended: nobody would read the text, and the
        // supervisor is about to go (NotFound: the control API's 410).
        std::lock_guard<std::mutex> lock(out_mu_);
        if (ended_) return fail(ErrorKind::NotFound, "the session has ended");
    }
    const uint64_t ordinal = ++nudges_;
    const auto deadline = Clock::now() + wait;  // for reading the text and reacting to it, together
    FRACTA_TRY(type(keys_bytes(keys_.clear) + text));
    // The submit must reach the program in a read of its own: the agent TUIs
    // take text and CR read together for a paste and keep the CR in the
    // prompt instead of sending it (seen with Codex, and with Claude Code on
    // a busy machine, where a fixed pause was not enough). So first let the
    // program read the text, then give it a moment to handle it.
    wait_until_read(wait.count() > 0 ? deadline : Clock::now() + kNoWaitDrain);
    std::this_thread::sleep_for(kSubmitPause);
    uint64_t before;
    {
        std::lock_guard<std::mutex> lock(out_mu_);
        before = output_;
    }
    {
        std::lock_guard<std::mutex> lock(out_mu_);
        if (ended_ && input_pending()) return fail(ErrorKind::NotFound, "the session ended before it read the nudge");
    }
    FRACTA_TRY(type(keys_bytes(keys_.submit)));
    if (wait.count() <= 0) return ordinal;

    bool read_it = false, shown = false;
    for (;;) {
        read_it = peer_ < 0 || !input_pending();
        std::unique_lock<std::mutex> lock(out_mu_);
        shown = output_ > before;
        if (read_it && shown) {
            lock.unlock();
            std::this_thread::sleep_for(kSubmitSettle);
            return ordinal;
        }
        if (ended_ && read_it) return ordinal;  // it took the nudge and ended (an `exit`, say)
        // Ended without reading it: as for a nudge to an ended session.
        if (ended_) return fail(ErrorKind::NotFound, "the session ended before it read the nudge");
        if (Clock::now() >= deadline) break;
        // Output wakes us; reading leaves no trace but the emptied queue, so
        // look again every little while.
        out_cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
    const long long s = std::chrono::duration_cast<std::chrono::milliseconds>(wait).count();
    const std::string within = std::to_string(s / 1000) + (s % 1000 ? "." + std::to_string(s % 1000 / 100) : "") + "s";
    if (!read_it) return temporary_error("no reaction within " + within + ": the program did not read the nudge");
    return temporary_error("no reaction within " + within + ": the program read the nudge but showed nothing");
}

void TerminalInput::saw_output(size_t bytes) {
    {
        std::lock_guard<std::mutex> lock(out_mu_);
        output_ += bytes;
    }
    out_cv_.notify_all();
}

void TerminalInput::ended() {
    {
        std::lock_guard<std::mutex> lock(out_mu_);
        ended_ = true;
    }
    out_cv_.notify_all();
}

}  // namespace fracta::session
