// terminal_input.h — everything typed into a stream session's pty goes
// through here: keys and attach input byte by byte, nudges as one unit that
// is confirmed.
//
// A nudge is serialized against every other nudge of the session (never
// interleaved), and is typed as: the clear sequence (the runtime's "empty the
// input line", C-u by default), the text, then the runtime's submit sequence
// (Enter by default; Esc Enter for the Codex TUI), once the program has read
// the text. Both sequences come from the start request, never from this code.
//
// Confirmed means the program took the line: it has read everything typed
// (the pty's input queue, seen from the supervisor's own handle on the
// terminal, is empty again) and the line has left its input. The supervisor
// keeps a model of the screen (screen.h) from the program's output: when,
// before the submit, the text shows right before the cursor (a line editor's
// caret: the agent TUIs', a shell's, the kernel's echo), the line has left
// once it no longer does. Mere output is not enough: Claude Code's spinner
// moves while a reply streams, before its prompt has taken the line, and the
// next nudge's clear key would erase it there. The cursor is looked at only
// once the program has paused drawing (a TUI moves it about mid-frame). A
// program that does not show
// what is typed has reacted once it wrote output after the submit. The
// kernel's echo of a line that nobody reads does not count: that line stays
// queued.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "session/screen.h"

namespace fracta::session {

struct NudgeKeys {
    std::vector<std::string> clear = {"C-u"};
    std::vector<std::string> submit = {"Enter"};
};

class TerminalInput {
public:
    // `master` is the pty master (input is written there), `peer` the
    // supervisor's own open handle on the terminal's other side (to see
    // whether typed input has been read). -1, -1: a batch session.
    TerminalInput(int master, int peer, NudgeKeys keys) : master_(master), peer_(peer), keys_(std::move(keys)) {}

    bool has_terminal() const { return master_ >= 0; }

    // Write bytes as they are; false for a batch session.
    Result<bool> type(const std::string& bytes);

    // Type a nudge; with `wait` > 0 return only once the program reacted, or
    // fail (Temporary) after `wait`. A batch session cannot take one (usage),
    // nor one whose command has ended, or ends before reading it (NotFound).
    // The answer is the nudge's ordinal in this session (1, 2, …): the order
    // in which concurrent nudges were typed, which callers cannot see.
    Result<uint64_t> nudge(const std::string& text, std::chrono::milliseconds wait);

    // From the supervisor's output loop: output arrived; the session ended.
    void saw_output(const char* data, size_t n);
    void ended();

private:
    bool input_pending() const;
    // The text's last line shows right before the cursor (out_mu_ held).
    bool at_cursor(const std::string& tail) const;
    // Until the program shows the typed text at its cursor, the deadline or
    // the session's end; whether it does.
    bool wait_for_echo(const std::string& tail, std::chrono::steady_clock::time_point deadline);
    // Until the program has read what was typed, or the deadline.
    void wait_until_read(std::chrono::steady_clock::time_point deadline);  // or until the session ended

    int master_, peer_;
    NudgeKeys keys_;
    std::mutex input_mu_;   // one writer to the pty at a time
    std::mutex nudge_mu_;   // one nudge at a time, from typing to confirmation
    uint64_t nudges_ = 0;   // typed so far (guarded by nudge_mu_)
    std::mutex out_mu_;
    std::condition_variable out_cv_;
    uint64_t output_ = 0;   // bytes of output so far
    std::chrono::steady_clock::time_point output_at_;  // of the last output
    Screen screen_{50, 200};  // what the program drew (the size: the pty's, read on each output)
    bool ended_ = false;
};

}  // namespace fracta::session
