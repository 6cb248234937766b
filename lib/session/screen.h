// screen.h — a small model of what a terminal shows: the grid of
// characters and the cursor, fed with a program's output.
//
// The supervisor keeps one per stream session so that a nudge can be
// confirmed by what the program drew, not merely by its having drawn
// something: the agent TUIs (Claude Code, Codex) and a line discipline that
// echoes all put the terminal's cursor at the end of the input being typed,
// so "the typed line is still in the input" is "the text still ends right
// before the cursor". See terminal_input.h.
//
// It interprets what moves text and the cursor (printing with autowrap,
// CR/LF/BS/TAB, cursor moves, erases, insert/delete of lines and
// characters, scroll regions, scrolling, saved cursor, the alternate
// screen); colours and every other escape are parsed and ignored. Wide
// characters take two cells. It is not a full terminal: nothing here is
// drawn for a person.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace fracta::session {

class Screen {
public:
    Screen(int rows, int cols);

    void feed(const char* data, size_t n);
    void feed(const std::string& s) { feed(s.data(), s.size()); }
    // Keeps what fits (top-left anchored); the cursor stays on the grid.
    void resize(int rows, int cols);

    int rows() const { return rows_; }
    int cols() const { return cols_; }
    int cursor_row() const { return row_; }
    int cursor_col() const { return col_; }

    // Inside a synchronized update (mode 2026, Codex's frames): what is
    // drawn is not finished.
    bool updating() const { return synchronized_; }

    // Row r's characters (UTF-8), trailing blanks dropped.
    std::string row_text(int r) const;
    // The characters left of the cursor on its row (UTF-8), trailing blanks
    // dropped: what a line editor shows as typed so far.
    std::string before_cursor() const;

private:
    using Row = std::vector<char32_t>;  // 0: the right half of a wide character
    void print(char32_t c);
    void line_feed();
    void reverse_line_feed();
    void scroll_up(int top, int bottom, int n);
    void scroll_down(int top, int bottom, int n);
    void csi(char final);
    void private_mode(int mode, bool set);
    void erase_in_line(int how);
    void erase_in_display(int how);
    void clamp();
    void decode(unsigned char b);
    void control(char32_t c);
    void escape(char c);
    int param(size_t i, int fallback) const;

    int rows_, cols_;
    std::vector<Row> grid_, other_;  // other_: the screen not shown (main or alternate)
    bool alternate_ = false;
    int row_ = 0, col_ = 0;
    bool wrap_pending_ = false;  // a character printed in the last column: the next one wraps
    bool autowrap_ = true;
    bool synchronized_ = false;
    int top_ = 0, bottom_;  // the scroll region, inclusive
    int saved_row_ = 0, saved_col_ = 0;

    // Parser state.
    enum class State { Text, Escape, EscapeIntermediate, Csi, String, StringEscape } state_ = State::Text;
    std::string params_;  // a CSI's parameter and intermediate bytes
    char32_t partial_ = 0;
    int utf8_left_ = 0;
};

}  // namespace fracta::session
