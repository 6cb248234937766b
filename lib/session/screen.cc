#include "session/screen.h"

#include <algorithm>

namespace fracta::session {

namespace {

constexpr char32_t kBlank = U' ';

// Cells a character takes: 0 for combining marks and zero-width ones, 2 for
// the East Asian wide ranges and emoji, else 1. An approximation of
// wcwidth(3) that does not depend on the supervisor's locale.
int width(char32_t c) {
    if ((c >= 0x300 && c <= 0x36f) || (c >= 0x200b && c <= 0x200f) || (c >= 0xfe00 && c <= 0xfe0f)) return 0;
    if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf && c != 0x303f) ||
        (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) ||
        (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
        (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd))
        return 2;
    return 1;
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xc0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xe0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (c & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (c & 0x3f));
    }
}

std::string cells_text(const std::vector<char32_t>& row, size_t end) {
    std::string out;
    for (size_t i = 0; i < end && i < row.size(); ++i)
        if (row[i] != 0) append_utf8(out, row[i]);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

}  // namespace

Screen::Screen(int rows, int cols)
    : rows_(std::max(rows, 1)),
      cols_(std::max(cols, 1)),
      grid_(rows_, Row(cols_, kBlank)),
      other_(rows_, Row(cols_, kBlank)),
      bottom_(rows_ - 1) {}

void Screen::resize(int rows, int cols) {
    rows = std::max(rows, 1);
    cols = std::max(cols, 1);
    if (rows == rows_ && cols == cols_) return;
    for (auto* g : {&grid_, &other_}) {
        g->resize(rows, Row(cols, kBlank));
        for (Row& r : *g) r.resize(cols, kBlank);
    }
    rows_ = rows;
    cols_ = cols;
    top_ = 0;
    bottom_ = rows_ - 1;
    clamp();
}

std::string Screen::row_text(int r) const {
    if (r < 0 || r >= rows_) return "";
    return cells_text(grid_[r], grid_[r].size());
}

std::string Screen::before_cursor() const {
    // After a character in the last column the cursor stays on it, but
    // what was typed includes that character.
    return cells_text(grid_[row_], static_cast<size_t>(col_ + (wrap_pending_ ? 1 : 0)));
}

void Screen::clamp() {
    row_ = std::clamp(row_, 0, rows_ - 1);
    col_ = std::clamp(col_, 0, cols_ - 1);
    wrap_pending_ = false;
}

void Screen::feed(const char* data, size_t n) {
    for (size_t i = 0; i < n; ++i) decode(static_cast<unsigned char>(data[i]));
}

// UTF-8 to characters; a malformed sequence shows as U+FFFD.
void Screen::decode(unsigned char b) {
    if (utf8_left_ > 0) {
        if ((b & 0xc0) == 0x80) {
            partial_ = (partial_ << 6) | (b & 0x3f);
            if (--utf8_left_ == 0) print(partial_);
            return;
        }
        utf8_left_ = 0;
        print(0xfffd);
    }
    if (b < 0x80 || state_ != State::Text) {
        // Escape sequences are ASCII; a string's bytes (OSC titles) are
        // skipped whole, whatever their encoding.
        if (b < 0x20 || b == 0x7f || state_ != State::Text) return control(b);
        return print(b);
    }
    if ((b & 0xe0) == 0xc0) {
        partial_ = b & 0x1f;
        utf8_left_ = 1;
    } else if ((b & 0xf0) == 0xe0) {
        partial_ = b & 0x0f;
        utf8_left_ = 2;
    } else if ((b & 0xf8) == 0xf0) {
        partial_ = b & 0x07;
        utf8_left_ = 3;
    } else {
        print(0xfffd);
    }
}

void Screen::control(char32_t c) {
    switch (state_) {
    case State::String:
        if (c == 0x07) state_ = State::Text;
        if (c == 0x1b) state_ = State::StringEscape;
        return;
    case State::StringEscape:
        state_ = State::Text;
        if (c != '\\') control(0x1b), control(c);  // a new sequence ends the string
        return;
    case State::Escape:
        return escape(static_cast<char>(c));
    case State::EscapeIntermediate:  // ESC ( B and the like: one more byte, ignored
        if (c < 0x20 || c > 0x2f) state_ = State::Text;
        return;
    case State::Csi:
        if (c >= 0x40 && c <= 0x7e) {
            state_ = State::Text;
            return csi(static_cast<char>(c));
        }
        if (c == 0x1b) {
            state_ = State::Escape;
        } else if (c >= 0x20) {
            params_ += static_cast<char>(c);
        }
        return;
    case State::Text:
        break;
    }
    switch (c) {
    case 0x1b: state_ = State::Escape; break;
    case '\r': col_ = 0, wrap_pending_ = false; break;
    case '\n': case 0x0b: case 0x0c: line_feed(); break;
    case '\b':
        if (col_ > 0) --col_;
        wrap_pending_ = false;
        break;
    case '\t':
        col_ = std::min((col_ / 8 + 1) * 8, cols_ - 1);
        wrap_pending_ = false;
        break;
    default: break;  // BEL and the rest change nothing drawn
    }
}

void Screen::escape(char c) {
    state_ = State::Text;
    switch (c) {
    case '[': state_ = State::Csi, params_.clear(); break;
    case ']': case 'P': case 'X': case '^': case '_': state_ = State::String; break;
    case '7': saved_row_ = row_, saved_col_ = col_; break;
    case '8': row_ = saved_row_, col_ = saved_col_, clamp(); break;
    case 'D': line_feed(); break;
    case 'E': col_ = 0, line_feed(); break;
    case 'M': reverse_line_feed(); break;
    case 'c': *this = Screen(rows_, cols_); break;
    default:
        if (c >= 0x20 && c <= 0x2f) state_ = State::EscapeIntermediate;
        break;
    }
}

void Screen::print(char32_t c) {
    const int w = width(c);
    if (w == 0) return;
    if (wrap_pending_ || (w == 2 && col_ == cols_ - 1 && autowrap_)) {
        if (w == 2 && !wrap_pending_) grid_[row_][col_] = kBlank;
        col_ = 0;
        wrap_pending_ = false;
        line_feed();
    }
    Row& r = grid_[row_];
    // Overwriting half of a wide character leaves a blank in its other half.
    if (r[col_] == 0 && col_ > 0) r[col_ - 1] = kBlank;
    r[col_] = c;
    if (w == 2 && col_ + 1 < cols_) r[col_ + 1] = 0;
    else if (col_ + 1 < cols_ && r[col_ + 1] == 0) r[col_ + 1] = kBlank;
    col_ += w;
    if (col_ >= cols_) {
        col_ = cols_ - 1;
        wrap_pending_ = autowrap_;
    }
}

void Screen::line_feed() {
    wrap_pending_ = false;
    if (row_ == bottom_) scroll_up(top_, bottom_, 1);
    else if (row_ < rows_ - 1) ++row_;
}

void Screen::reverse_line_feed() {
    wrap_pending_ = false;
    if (row_ == top_) scroll_down(top_, bottom_, 1);
    else if (row_ > 0) --row_;
}

void Screen::scroll_up(int top, int bottom, int n) {
    n = std::min(n, bottom - top + 1);
    if (n <= 0) return;
    std::move(grid_.begin() + top + n, grid_.begin() + bottom + 1, grid_.begin() + top);
    for (int r = bottom - n + 1; r <= bottom; ++r) grid_[r].assign(cols_, kBlank);
}

void Screen::scroll_down(int top, int bottom, int n) {
    n = std::min(n, bottom - top + 1);
    if (n <= 0) return;
    std::move_backward(grid_.begin() + top, grid_.begin() + bottom + 1 - n, grid_.begin() + bottom + 1);
    for (int r = top; r < top + n; ++r) grid_[r].assign(cols_, kBlank);
}

int Screen::param(size_t i, int fallback) const {
    size_t start = 0;
    while (start < params_.size() && (params_[start] < '0' || params_[start] > ';')) ++start;  // ? > =
    for (size_t k = 0; k < i; ++k) {
        start = params_.find(';', start);
        if (start == std::string::npos) return fallback;
        ++start;
    }
    int v = 0;
    bool any = false;
    for (size_t p = start; p < params_.size() && params_[p] >= '0' && params_[p] <= '9'; ++p) {
        v = std::min(v * 10 + (params_[p] - '0'), 100000);
        any = true;
    }
    return any && v > 0 ? v : fallback;
}

void Screen::erase_in_line(int how) {
    Row& r = grid_[row_];
    const int from = how == 0 ? col_ : 0;
    const int to = how == 1 ? col_ + 1 : cols_;
    std::fill(r.begin() + from, r.begin() + std::min(to, cols_), kBlank);
}

void Screen::erase_in_display(int how) {
    if (how == 0 || how == 1) {
        erase_in_line(how);
        const int from = how == 0 ? row_ + 1 : 0, to = how == 0 ? rows_ : row_;
        for (int r = from; r < to; ++r) grid_[r].assign(cols_, kBlank);
        return;
    }
    for (Row& r : grid_) r.assign(cols_, kBlank);
}

void Screen::private_mode(int mode, bool set) {
    if (mode == 7) autowrap_ = set;
    if (mode == 2026) synchronized_ = set;
    if (mode != 47 && mode != 1047 && mode != 1049) return;
    if (set == alternate_) return;
    if (set && mode == 1049) saved_row_ = row_, saved_col_ = col_;
    std::swap(grid_, other_);
    alternate_ = set;
    if (set) {
        for (Row& r : grid_) r.assign(cols_, kBlank);
    } else if (mode == 1049) {
        row_ = saved_row_, col_ = saved_col_;
    }
    clamp();
}

void Screen::csi(char final) {
    const bool is_private = !params_.empty() && (params_[0] == '?' || params_[0] == '>' || params_[0] == '=');
    if (params_.find_first_of(" !\"#$%&'*+,-./") != std::string::npos) return;  // intermediates: styles, resets
    if (is_private) {
        if (params_[0] == '?' && (final == 'h' || final == 'l'))
            for (size_t i = 0; param(i, -1) != -1; ++i) private_mode(param(i, -1), final == 'h');
        return;
    }
    const int n = param(0, 1);
    Row& r = grid_[row_];
    switch (final) {
    case 'A': row_ -= n; break;
    case 'B': case 'e': row_ += n; break;
    case 'C': case 'a': col_ += n; break;
    case 'D': col_ = std::max(0, col_ - n); break;
    case 'E': row_ += n, col_ = 0; break;
    case 'F': row_ -= n, col_ = 0; break;
    case 'G': case '`': col_ = n - 1; break;
    case 'd': row_ = n - 1; break;
    case 'H': case 'f': row_ = param(0, 1) - 1, col_ = param(1, 1) - 1; break;
    case 'J': erase_in_display(param(0, 0)); break;
    case 'K': erase_in_line(param(0, 0)); break;
    case 'X': std::fill(r.begin() + col_, r.begin() + std::min(cols_, col_ + n), kBlank); break;
    case '@':
        r.insert(r.begin() + col_, static_cast<size_t>(std::min(n, cols_ - col_)), kBlank);
        r.resize(cols_);
        break;
    case 'P':
        r.erase(r.begin() + col_, r.begin() + std::min(cols_, col_ + n));
        r.resize(cols_, kBlank);
        break;
    case 'L': if (row_ >= top_ && row_ <= bottom_) scroll_down(row_, bottom_, n); break;
    case 'M': if (row_ >= top_ && row_ <= bottom_) scroll_up(row_, bottom_, n); break;
    case 'S': scroll_up(top_, bottom_, n); break;
    case 'T': scroll_down(top_, bottom_, n); break;
    case 'r': {
        const int t = param(0, 1) - 1, b = param(1, rows_) - 1;
        if (t < b && b < rows_) top_ = t, bottom_ = b;
        row_ = 0, col_ = 0;
        break;
    }
    case 's': saved_row_ = row_, saved_col_ = col_; break;
    case 'u': row_ = saved_row_, col_ = saved_col_; break;
    default: return;  // colours (m) and the rest draw nothing
    }
    clamp();
}

}  // namespace fracta::session
