#include "front/sse.h"

namespace fracta::front {

bool SseParser::feed(std::string_view bytes, const std::function<bool(const SseFrame&)>& on_frame) {
    if (overflowed_) return false;
    for (char c : bytes) {
        // Lines end with CRLF, LF or a lone CR (the SSE grammar allows all three).
        if (c == '\n' && after_cr_) {
            after_cr_ = false;
            continue;
        }
        after_cr_ = c == '\r';
        if (c == '\n' || c == '\r') {
            bool more = end_line(on_frame);
            line_.clear();
            if (!more) return false;
            continue;
        }
        if (line_.size() >= kMaxLine) {
            overflowed_ = true;
            return false;
        }
        line_ += c;
    }
    return true;
}

bool SseParser::end_line(const std::function<bool(const SseFrame&)>& on_frame) {
    const std::string_view line = line_;
    if (line.empty()) {  // the frame is complete
        SseFrame done = std::move(frame_);
        bool had_data = has_data_;
        frame_ = SseFrame{};
        has_data_ = false;
        if (!had_data) return true;  // nothing to deliver (the grammar drops data-less frames)
        if (!done.data.empty() && done.data.back() == '\n') done.data.pop_back();
        if (done.event.empty()) done.event = "message";
        return on_frame(done);
    }
    if (line[0] == ':') return true;  // a comment: the server's heartbeat
    std::string_view field = line, value;
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
        field = line.substr(0, colon);
        value = line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
        frame_.data += value;
        frame_.data += '\n';
        has_data_ = true;
    } else if (field == "event") {
        frame_.event = std::string(value);
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) frame_.id = std::string(value);
    }
    // "retry" and unknown fields: ignored, as the grammar says.
    return true;
}

}  // namespace fracta::front
