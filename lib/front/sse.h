// sse.h — reading a text/event-stream (the control plane's watch route) as it
// arrives in arbitrary chunks: `id:`, `event:` and `data:` fields, frames
// ended by a blank line, `:` comment lines (heartbeats) skipped.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace fracta::front {

struct SseFrame {
    std::string id;     // empty when the frame carried none
    std::string event;  // "message" when the frame named none
    std::string data;   // the data lines joined by '\n'
};

class SseParser {
public:
    // Feed the next bytes; `on_frame` sees each completed frame that carried
    // data. Returns false, dropping the rest, once `on_frame` returned false
    // or a line outgrew the cap (see overflowed()).
    bool feed(std::string_view bytes, const std::function<bool(const SseFrame&)>& on_frame);
    bool overflowed() const { return overflowed_; }

    static constexpr size_t kMaxLine = size_t{4} << 20;

private:
    bool end_line(const std::function<bool(const SseFrame&)>& on_frame);

    std::string line_;
    SseFrame frame_;
    bool has_data_ = false;
    bool after_cr_ = false;  // a '\n' right after '\r' belongs to the same line end
    bool overflowed_ = false;
};

}  // namespace fracta::front
