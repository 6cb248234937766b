// sse.cc — the event-stream writer and parser (see sse.h).
#include "http/sse.h"

namespace fracta::http {

std::string sse_frame(std::string_view event, std::string_view data, std::string_view id) {
    std::string out;
    if (!id.empty()) out.append("id: ").append(id).append("\n");
    out.append("event: ").append(event).append("\n");
    for (;;) {
        size_t nl = data.find('\n');
        out.append("data: ").append(data.substr(0, nl)).append("\n");
        if (nl == std::string_view::npos) break;
        data.remove_prefix(nl + 1);
    }
    return out + "\n";
}

bool SseReader::feed(std::string_view bytes, const Sink& sink) {
    if (!started_) {
        // A byte order mark may open the stream; wait until we can tell.
        std::string_view bom = "\xEF\xBB\xBF";
        std::string head = partial_ + std::string(bytes.substr(0, 3));
        if (head.size() < 3 && bom.substr(0, head.size()) == head) {
            partial_ = head;
            return true;
        }
        started_ = true;
        std::string all = partial_ + std::string(bytes);
        partial_.clear();
        std::string_view rest(all);
        if (rest.substr(0, 3) == bom) rest.remove_prefix(3);
        return feed(rest, sink);
    }
    size_t start = 0;
    if (after_cr_ && !bytes.empty() && bytes[0] == '\n') start = 1;
    after_cr_ = false;
    for (size_t i = start; i < bytes.size(); ++i) {
        char c = bytes[i];
        if (c != '\n' && c != '\r') continue;
        std::string_view piece = bytes.substr(start, i - start);
        bool ok;
        if (partial_.empty()) {
            ok = line(piece, sink);
        } else {
            partial_.append(piece);
            std::string whole = std::move(partial_);
            partial_.clear();
            ok = line(whole, sink);
        }
        if (c == '\r') {
            if (i + 1 < bytes.size()) {
                if (bytes[i + 1] == '\n') ++i;
            } else {
                after_cr_ = true;
            }
        }
        start = i + 1;
        if (!ok) return false;
    }
    if (start < bytes.size()) {
        std::string_view rest = bytes.substr(start);
        if (partial_.size() + rest.size() > max_) {
            too_big_ = true;  // a line this long cannot belong to an event we keep
            partial_.clear();
        } else {
            partial_.append(rest);
        }
    }
    return true;
}

void SseReader::restart() {
    partial_.clear();
    after_cr_ = false;
    started_ = false;
    too_big_ = false;
    type_.clear();
    data_.clear();
    event_retry_.reset();
}

bool SseReader::line(std::string_view text, const Sink& sink) {
    if (text.empty()) {  // dispatch
        SseEvent e;
        bool has_data = !data_.empty();
        if (has_data) {
            e.type = type_.empty() ? "message" : type_;
            e.data = std::move(data_);
            if (!e.data.empty() && e.data.back() == '\n') e.data.pop_back();
            e.id = last_id_;
            e.retry = event_retry_;
        }
        bool dropped = too_big_;
        type_.clear();
        data_.clear();
        event_retry_.reset();
        too_big_ = false;
        if (dropped) {
            ++dropped_;
            return true;
        }
        return has_data ? sink(e) : true;
    }
    if (text[0] == ':') return true;  // a comment (keep-alive)
    std::string_view field = text, value;
    if (auto colon = text.find(':'); colon != std::string_view::npos) {
        field = text.substr(0, colon);
        value = text.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
        if (data_.size() + value.size() + 1 > max_) {
            too_big_ = true;
            data_.clear();
        } else if (!too_big_) {
            data_.append(value);
            data_.push_back('\n');
        }
    } else if (field == "event") {
        type_ = std::string(value);
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) last_id_ = std::string(value);
    } else if (field == "retry") {
        if (!value.empty() && value.size() < 10 && value.find_first_not_of("0123456789") == std::string_view::npos) {
            event_retry_ = std::stol(std::string(value));
            retry_ = event_retry_;
        }
    }
    return true;
}

}  // namespace fracta::http
