// The screen model the supervisor confirms nudges by (session/screen.h):
// what a terminal would show after the escapes the agent TUIs use.
#include <catch2/catch.hpp>

#include "session/screen.h"

using fracta::session::Screen;

TEST_CASE("screen: text, CR/LF, wrap and scrolling", "[screen]") {
    Screen s(3, 5);
    s.feed("ab\r\ncd");
    CHECK(s.row_text(0) == "ab");
    CHECK(s.row_text(1) == "cd");
    CHECK(s.before_cursor() == "cd");
    s.feed("efg");  // fills the row: the cursor waits on the last cell
    CHECK(s.row_text(1) == "cdefg");
    CHECK(s.before_cursor() == "cdefg");
    s.feed("h");  // wraps
    CHECK(s.row_text(2) == "h");
    s.feed("\r\nxy");  // at the bottom: scrolls
    CHECK(s.row_text(0) == "cdefg");
    CHECK(s.row_text(1) == "h");
    CHECK(s.row_text(2) == "xy");
    CHECK(s.cursor_row() == 2);
}

TEST_CASE("screen: cursor moves, erases, and escapes that draw nothing", "[screen]") {
    Screen s(5, 20);
    s.feed("\x1b[2;3Hhello\x1b[3D\x1b[K");  // CUP, CUB, EL
    CHECK(s.row_text(1) == "  he");
    CHECK(s.before_cursor() == "  he");
    s.feed("\x1b[1;31m\xe2\x9d\xaf\xc2\xa0x\x1b[0m");  // colours; UTF-8
    CHECK(s.row_text(1) == "  he\xe2\x9d\xaf\xc2\xa0x");
    s.feed("\x1b]0;title \xe2\x9c\xb3\x07\x1b[?25l\x1b[?2004h");  // an OSC title, private modes
    CHECK(s.row_text(1) == "  he\xe2\x9d\xaf\xc2\xa0x");
    s.feed("\x1b[H\x1b[2B\x1b[5Czz\x1b[1A\x1b[1G");  // Claude Code's relative moves
    CHECK(s.row_text(2) == "     zz");
    CHECK(s.cursor_row() == 1);
    CHECK(s.cursor_col() == 0);
    s.feed("\x1b[2J");
    CHECK(s.row_text(1).empty());
    CHECK(s.row_text(2).empty());
}

TEST_CASE("screen: scroll regions insert history above a fixed input area", "[screen]") {
    Screen s(6, 10);
    s.feed("\x1b[5;1H> typed");  // an input area on row 5
    s.feed("\x1b[1;4r\x1b[4;1H\r\nold\x1b[r");  // Codex: history scrolled into rows 1-4
    CHECK(s.row_text(3) == "old");
    CHECK(s.row_text(4) == "> typed");
    s.feed("\x1b[1;4r\x1b[1;1H\x1bMnew\x1b[r");  // reverse index at the region's top
    CHECK(s.row_text(0) == "new");
    CHECK(s.row_text(4) == "> typed");
    s.feed("\x1b[2;1H\x1b[2L");  // insert lines inside the full-screen region
    CHECK(s.row_text(3).empty());
    CHECK(s.row_text(5).empty());  // "> typed" pushed off the bottom
}

TEST_CASE("screen: a synchronized update is seen as unfinished until it ends", "[screen]") {
    Screen s(3, 10);
    CHECK_FALSE(s.updating());
    s.feed("\x1b[?2026h\x1b[1;1Hframe");
    CHECK(s.updating());
    s.feed("\x1b[?2026l");
    CHECK_FALSE(s.updating());
}

TEST_CASE("screen: the alternate screen leaves the main one as it was", "[screen]") {
    Screen s(3, 10);
    s.feed("main$ ");
    s.feed("\x1b[?1049h\x1b[Hfull screen");
    CHECK(s.row_text(0) == "full scree");
    s.feed("\x1b[?1049l");
    CHECK(s.row_text(0) == "main$");
    CHECK(s.before_cursor() == "main$");
}

TEST_CASE("screen: wide characters take two cells; resize keeps what fits", "[screen]") {
    Screen s(2, 6);
    s.feed("\xe4\xbd\xa0\xe5\xa5\xbd!");  // two CJK characters and '!'
    CHECK(s.cursor_col() == 5);
    CHECK(s.row_text(0) == "\xe4\xbd\xa0\xe5\xa5\xbd!");
    s.resize(4, 3);
    CHECK(s.rows() == 4);
    CHECK(s.cursor_col() == 2);
    CHECK(s.row_text(0) == "\xe4\xbd\xa0\xe5\xa5\xbd");  // the second one's left half stays
}
