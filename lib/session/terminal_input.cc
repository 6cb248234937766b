#include "session/terminal_input.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "base/io.h"
#include "session/keys.h"

namespace fracta::session {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kSubmitPause{100};  // after the program read a nudge's text
constexpr std::chrono::seconds kNoWaitDrain{2};         // how long --no-wait lets it read the text
constexpr std::chrono::seconds kEchoWait{1};            // for the text to show at the cursor
constexpr std::chrono::milliseconds kAtRest{50};        // no output for this long: a frame is done
constexpr std::chrono::milliseconds kSyncGiveUp{500};
constexpr size_t kTailMatch = 16;                       // characters of the text matched before the cursor

namespace {

// What of a nudge's text a line editor shows last: its last line, without
// trailing blanks, from after its last control character.
std::string text_tail(const std::string& text) {
    std::string t = text;
    while (!t.empty() && (t.back() == ' ' || static_cast<unsigned char>(t.back()) < 0x20)) t.pop_back();
    size_t cut = t.size();
    while (cut > 0 && static_cast<unsigned char>(t[cut - 1]) >= 0x20 && t[cut - 1] != 0x7f) --cut;
    return t.substr(cut);
}

size_t common_suffix(const std::string& a, const std::string& b) {
    size_t n = 0;
    while (n < a.size() && n < b.size() && a[a.size() - 1 - n] == b[b.size() - 1 - n]) ++n;
    return n;
}

std::string within_text(std::chrono::milliseconds wait) {
    const long long s = wait.count();
    return std::to_string(s / 1000) + (s % 1000 ? "." + std::to_string(s % 1000 / 100) : "") + "s";
}

}  // namespace

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

bool TerminalInput::at_cursor(const std::string& tail) const {
    std::string shown = screen_.before_cursor();
    shown.erase(0, shown.find_first_not_of(' ') == std::string::npos ? shown.size() : shown.find_first_not_of(' '));
    const size_t need = std::min(tail.size(), kTailMatch);
    // The text wrapped, leaving only its end on the cursor's row (after the
    // editor's indentation): the row above holds the rest.
    if (!shown.empty() && shown.size() < need && screen_.cursor_row() > 0)
        shown = screen_.row_text(screen_.cursor_row() - 1) + shown;
    return need > 0 && common_suffix(shown, tail) >= need;
}

bool TerminalInput::wait_for_echo(const std::string& tail, Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(out_mu_);
    while (!at_cursor(tail)) {
        if (ended_ || Clock::now() >= deadline) return false;
        out_cv_.wait_until(lock, deadline);
    }
    return true;
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
    // Whether the program shows the text at its cursor: then that is how
    // it is seen to leave the input (terminal_input.h).
    const std::string tail = text_tail(text);
    const bool echoed = wait.count() > 0 && !input_pending() &&
                        wait_for_echo(tail, std::min(deadline, Clock::now() + kEchoWait));
    uint64_t before;
    {
        std::lock_guard<std::mutex> lock(out_mu_);
        before = output_;
        if (ended_ && input_pending()) return fail(ErrorKind::NotFound, "the session ended before it read the nudge");
    }
    FRACTA_TRY(type(keys_bytes(keys_.submit)));
    if (wait.count() <= 0) return ordinal;

    bool read_it = false, shown = false, left = false;
    for (;;) {
        read_it = peer_ < 0 || !input_pending();
        std::unique_lock<std::mutex> lock(out_mu_);
        shown = output_ > before;
        // Mid-frame the cursor may be anywhere: look when the program rests
        // (a synchronized update never ended is taken as done after a while,
        // as terminals do).
        const bool at_rest = Clock::now() >= output_at_ + (screen_.updating() ? kSyncGiveUp : kAtRest);
        left = !echoed || (at_rest && !at_cursor(tail));
        if (read_it && shown && left) return ordinal;
        if (ended_ && read_it) return ordinal;  // it took the nudge and ended (an `exit`, say)
        // Ended without reading it: as for a nudge to an ended session.
        if (ended_) return fail(ErrorKind::NotFound, "the session ended before it read the nudge");
        if (Clock::now() >= deadline) break;
        // Output wakes us; reading leaves no trace but the emptied queue, so
        // look again every little while.
        out_cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
    const std::string within = "no reaction within " + within_text(wait) + ": ";
    if (!read_it) return temporary_error(within + "the program did not read the nudge");
    if (!left) return temporary_error(within + "the program read the nudge but it stayed on its input line");
    return temporary_error(within + "the program read the nudge but showed nothing");
}

void TerminalInput::saw_output(const char* data, size_t n) {
    // The size the program draws for: the pty's, which an attach changes.
    struct winsize ws = {};
    const bool sized = master_ >= 0 && ::ioctl(master_, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0;
    {
        std::lock_guard<std::mutex> lock(out_mu_);
        output_ += n;
        output_at_ = Clock::now();
        if (sized) screen_.resize(ws.ws_row, ws.ws_col);
        if (master_ >= 0) screen_.feed(data, n);
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
