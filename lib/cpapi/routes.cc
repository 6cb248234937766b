// routes.cc — the control plane's routes as typed calls (see client.h): the
// paths and bodies are spelled here once.
#include "cpapi/client.h"

#include "http/server.h"

namespace fracta::cpapi {
namespace {

// Spawns and merges create a worktree (or merge one): they may take long.
constexpr std::chrono::seconds kSlowCall{90};
// A watch event (or line) larger than this ends the watch.
constexpr size_t kMaxEvent = size_t{4} << 20;

}  // namespace

std::string agent_path(const std::string& task, const std::string& rest) {
    return "/api/v1/agents/" + http::percent_encode(task) + rest;
}

Result<Json> Client::spawn(const Json& request) {
    return call("POST", "/api/v1/agents", to_line(request), kSlowCall);
}

Result<Json> Client::list(const std::string& status) {
    return call("GET", "/api/v1/agents" + (status.empty() ? "" : "?status=" + http::percent_encode(status)));
}

Result<Json> Client::get(const std::string& task) {
    return call("GET", agent_path(task));
}

Result<Json> Client::output(const std::string& task, const std::string& route, const std::string& lines) {
    return call("GET", agent_path(task, "/" + route) + (lines.empty() ? "" : "?lines=" + lines));
}

Result<Json> Client::say(const std::string& task, const std::string& message) {
    return call("POST", agent_path(task, "/say"), to_line(Json{{"message", message}}));
}

Result<Json> Client::kill(const std::string& task, bool keep_files) {
    return call("DELETE", agent_path(task), keep_files ? to_line(Json{{"keep_files", true}}) : "");
}

Result<Json> Client::merge(const std::string& task) {
    return call("POST", agent_path(task, "/merge"), "{}", kSlowCall);
}

Result<Json> Client::report(const std::string& task, const Json& events) {
    return call("POST", agent_path(task, "/events"), to_line(Json{{"events", events}}));
}

Result<Json> Client::events(const std::string& task, const std::string& last) {
    return call("GET", agent_path(task, "/events") + (last.empty() ? "" : "?last=" + last));
}

Result<Json> Client::send_message(const std::string& from, const std::string& to, const std::string& message) {
    return call("POST", "/api/v1/messages", to_line(Json{{"from", from}, {"to", to}, {"message", message}}));
}

Result<Json> Client::inbox(const std::string& task) {
    return call("GET", agent_path(task, "/inbox"));
}

Result<Json> Client::set_intent(const std::string& task, const std::string& intent) {
    return call("POST", agent_path(task, "/intent"), to_line(Json{{"intent", intent}}));
}

Result<Answer> Client::verify(const std::string& task, const std::string& token) {
    return ask("POST", "/api/v1/auth/verify", Json{{"task", task}, {"token", token}});
}

Result<WaitSlice> Client::wait(const std::string& task, std::chrono::seconds slice) {
    FRACTA_TRY_ASSIGN(response, send("GET", agent_path(task, "/wait?timeout=" + std::to_string(slice.count()) + "s"),
                                     "", slice + kRequestTimeout));
    WaitSlice out;
    if (response.status == 408) {
        out.timed_out = true;
        return out;
    }
    if (!is_success(response.status)) return http_error(response.status, response.body);
    auto answer = parse_json(response.body, response.body.size());
    if (!answer.ok() || !answer->is_object())
        return failure("the control plane answered /wait with something that is not an agent");
    out.answer = std::move(*answer);
    return out;
}

Result<Client::WatchEnd> Client::watch(const std::string& task, uint64_t after_seq,
                                       const std::function<bool(const http::SseEvent&)>& on_event,
                                       std::chrono::milliseconds silence, bool& got_data) {
    http::SseReader reader(kMaxEvent);
    std::string head;  // the start of the body: the error text when the status is not 2xx
    auto on_data = [&](std::string_view bytes) {
        got_data = true;
        if (head.size() < 65536) head.append(bytes.substr(0, 65536 - head.size()));
        return reader.feed(bytes, on_event) && reader.dropped() == 0;
    };
    std::string path = agent_path(task, "/watch");
    if (after_seq > 0) path += "?after_seq=" + std::to_string(after_seq);
    http::RequestExtras extras;
    extras.timeout = silence;
    FRACTA_TRY_ASSIGN(response, with_autostart([&](http::Client& c) {
                          return c.stream("GET", path, on_data, "", "application/json", extras);
                      }));
    if (reader.dropped() > 0) return failure("the watch stream sent an event larger than 4 MiB");
    WatchEnd end;
    end.status = response.status;
    if (!is_success(response.status)) end.head = std::move(head);
    return end;
}

}  // namespace fracta::cpapi
