// control.cc — see control.h.
#include "provider/control.h"

#include "http/server.h"  // percent_encode

namespace fracta::provider {
namespace {

// What the supervisor said went wrong: its JSON error, else the first line.
std::string answer_message(const http::ClientResponse& r) {
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"];
    if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"];
    std::string line = r.body.substr(0, r.body.find('\n'));
    return line.empty() ? "supervisor answered " + std::to_string(r.status) : line;
}

Result<Json> json_answer(const std::string& what, const std::string& body) {
    Json j = Json::parse(body.empty() ? "{}" : body, nullptr, false);
    if (!j.is_object()) return failure(what + ": the supervisor's answer is not JSON");
    return j;
}

}  // namespace

SupervisorControl::SupervisorControl(Transport transport, std::string where)
    : transport_(std::move(transport)), where_(std::move(where)) {}

SupervisorControl SupervisorControl::unix_socket(const std::string& socket_path) {
    auto transport = [socket_path](const std::string& method, const std::string& path, const std::string& body,
                                   std::chrono::milliseconds timeout) {
        http::ClientOptions options;
        options.unix_socket = socket_path;
        options.timeout = timeout;
        http::Client client("http://localhost", options);
        return client.request(method, path, body);
    };
    return SupervisorControl(transport, "");
}

Result<std::string> SupervisorControl::call(const std::string& method, const std::string& path, const std::string& body,
                                            std::chrono::milliseconds timeout) {
    FRACTA_TRY_ASSIGN(r, transport_(method, path, body, timeout));
    if (r.status >= 200 && r.status < 300) return std::move(r.body);
    std::string what = answer_message(r);
    if (!where_.empty()) what = where_ + ": " + method + " " + path + ": " + what;
    if (r.status == 400) return usage_error(what);
    if (r.status == 502 || r.status == 503 || r.status == 504) return temporary_error(what);
    return failure(what);
}

Result<Json> SupervisorControl::nudge(const std::string& text, std::chrono::milliseconds wait) {
    Json body = {{"text", text}, {"wait_ms", wait.count()}};
    FRACTA_TRY_ASSIGN(answer, call("POST", "/v1/nudge", to_line(body), wait * 4 + std::chrono::seconds(20)));
    return json_answer("nudge", answer);
}

Status SupervisorControl::keys(const std::vector<std::string>& keys) {
    FRACTA_TRY(call("POST", "/v1/keys", to_line(Json{{"keys", keys}})));
    return {};
}

Status SupervisorControl::interrupt() {
    FRACTA_TRY(call("POST", "/v1/interrupt"));
    return {};
}

Status SupervisorControl::clear() {
    FRACTA_TRY(call("POST", "/v1/clear"));
    return {};
}

Result<Json> SupervisorControl::status() {
    FRACTA_TRY_ASSIGN(body, call("GET", "/v1/status"));
    return json_answer("status", body);
}

Result<std::string> SupervisorControl::get_meta(const std::string& key) {
    FRACTA_TRY_ASSIGN(body, call("GET", "/v1/meta/" + key));
    FRACTA_TRY_ASSIGN(j, json_answer("get-meta", body));
    if (!j.contains("value") || !j["value"].is_string())
        return failure("get-meta: the supervisor's answer has no value");
    return j["value"].get<std::string>();
}

Status SupervisorControl::set_meta(const std::string& key, const std::string& value) {
    FRACTA_TRY(call("PUT", "/v1/meta/" + key, value));
    return {};
}

Status SupervisorControl::remove_meta(const std::string& key) {
    FRACTA_TRY(call("DELETE", "/v1/meta/" + key));
    return {};
}

Status SupervisorControl::put_file(const std::string& rel_path, const std::string& content) {
    FRACTA_TRY(call("PUT", "/v1/files?path=" + http::percent_encode(rel_path), content));
    return {};
}

}  // namespace fracta::provider
