#include "events/event.h"

namespace fracta::events {
namespace {

// The first present, non-null key among `names`.
const Json* field(const Json& object, std::initializer_list<const char*> names) {
    for (const char* n : names) {
        auto it = object.find(n);
        if (it == object.end() || it->is_null()) continue;
        if (it->is_string() && it->get_ref<const std::string&>().empty()) continue;  // Go zero value
        return &*it;
    }
    return nullptr;
}

Result<std::string> text(const Json& object, std::initializer_list<const char*> names) {
    const Json* v = field(object, names);
    if (!v) return std::string();
    if (!v->is_string()) return usage_error(std::string("\"") + *names.begin() + "\" must be a string");
    return v->get<std::string>();
}

Result<uint64_t> count(const Json& object, std::initializer_list<const char*> names) {
    const Json* v = field(object, names);
    if (!v) return uint64_t{0};
    if (v->is_number_unsigned()) return v->get<uint64_t>();
    if (v->is_number_integer() && v->get<int64_t>() >= 0) return static_cast<uint64_t>(v->get<int64_t>());
    return usage_error(std::string("\"") + *names.begin() + "\" must be a non-negative integer");
}

}  // namespace

Result<Event> event_from_json(const Json& value, Timestamp now) {
    if (!value.is_object()) return usage_error("event must be a JSON object");
    Event e;
    FRACTA_TRY_ASSIGN(type, text(value, {"type"}));
    if (type.empty()) return usage_error("event has no \"type\"");
    e.type = std::move(type);
    FRACTA_TRY_ASSIGN(actor, text(value, {"actor"}));
    FRACTA_TRY_ASSIGN(subject, text(value, {"subject"}));
    FRACTA_TRY_ASSIGN(message, text(value, {"message"}));
    FRACTA_TRY_ASSIGN(ts, text(value, {"ts"}));
    e.actor = std::move(actor);
    e.subject = std::move(subject);
    e.message = std::move(message);
    if (ts.empty()) {
        e.ts = format_rfc3339(now);
    } else {
        FRACTA_TRY_ASSIGN(parsed, parse_rfc3339(ts));
        e.ts = parsed == zero_time() ? format_rfc3339(now) : ts;
    }
    if (const Json* payload = field(value, {"payload"})) e.payload = to_line(*payload);

    // Check the line length with the widest seq it could get.
    Event widest = e;
    widest.seq = UINT64_MAX;
    size_t length = event_line(widest).size();
    if (length >= kMaxEventLine)
        return usage_error("event too large: " + std::to_string(length) + " bytes as one line (limit " +
                           std::to_string(kMaxEventLine - 1) + ")");
    return e;
}

Json event_to_json(const Event& e) {
    Json j = Json::object();
    j["seq"] = e.seq;
    j["type"] = e.type;
    j["ts"] = e.ts;
    j["actor"] = e.actor;
    if (!e.subject.empty()) j["subject"] = e.subject;
    if (!e.message.empty()) j["message"] = e.message;
    if (!e.payload.empty()) {
        auto payload = parse_json(e.payload, SIZE_MAX);
        j["payload"] = payload.ok() ? std::move(*payload) : Json(e.payload);
    }
    return j;
}

std::string event_line(const Event& e) { return to_line(event_to_json(e)); }

Result<Filter> filter_from_json(const Json& value) {
    Filter f;
    if (value.is_null()) return f;
    if (!value.is_object()) return usage_error("filter must be a JSON object");
    FRACTA_TRY_ASSIGN(type, text(value, {"Type", "type"}));
    FRACTA_TRY_ASSIGN(actor, text(value, {"Actor", "actor"}));
    FRACTA_TRY_ASSIGN(subject, text(value, {"Subject", "subject"}));
    FRACTA_TRY_ASSIGN(since, text(value, {"Since", "since"}));
    FRACTA_TRY_ASSIGN(after, count(value, {"AfterSeq", "after_seq"}));
    FRACTA_TRY_ASSIGN(limit, count(value, {"Limit", "limit"}));
    f.type = std::move(type);
    f.actor = std::move(actor);
    f.subject = std::move(subject);
    f.after_seq = after;
    f.limit = limit;
    if (!since.empty()) {
        FRACTA_TRY_ASSIGN(t, parse_rfc3339(since));
        if (t != zero_time()) f.since = t;
    }
    return f;
}

}  // namespace fracta::events
