// control.cc — see control.h.
#include "provider/control.h"

#include "base/cli.h"
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
    return answer(method, path, r);
}

Result<std::string> SupervisorControl::answer(const std::string& method, const std::string& path,
                                              http::ClientResponse& r) const {
    if (r.status >= 200 && r.status < 300) return std::move(r.body);
    std::string what = answer_message(r);
    if (!where_.empty()) what = where_ + ": " + method + " " + path + ": " + what;
    if (r.status == 400) return usage_error(what);
    if (r.status == 410) return fail(ErrorKind::NotFound, what);  // ended(): callers answer "not running"
    if (r.status == 502 || r.status == 503 || r.status == 504) return temporary_error(what);
    return failure(what);
}

bool SupervisorControl::ended(const Error& e) { return e.kind == ErrorKind::NotFound; }

Result<Json> SupervisorControl::nudge(const std::string& text, std::chrono::milliseconds wait) {
    Json body = {{"text", text}, {"wait_ms", wait.count()}};
    FRACTA_TRY_ASSIGN(r, transport_("POST", "/v1/nudge", to_line(body), wait * 4 + std::chrono::seconds(20)));
    if (r.status == 410) return Json{{"delivered", false}, {"ended", true}};
    FRACTA_TRY_ASSIGN(text_answer, answer("POST", "/v1/nudge", r));
    return json_answer("nudge", text_answer);
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

Result<std::vector<session::ProcessInfo>> SupervisorControl::processes() {
    FRACTA_TRY_ASSIGN(body, call("GET", "/v1/processes"));
    FRACTA_TRY_ASSIGN(j, json_answer("processes", body));
    std::vector<session::ProcessInfo> out;
    if (!j.contains("processes") || !j["processes"].is_array())
        return failure("processes: the supervisor's answer has no process list");
    for (const Json& p : j["processes"]) {
        session::ProcessInfo info;
        info.pid = p.value("pid", 0);
        info.comm = p.value("comm", std::string());
        if (p.contains("argv") && p["argv"].is_array())
            for (const Json& a : p["argv"])
                if (a.is_string()) info.argv.push_back(a.get<std::string>());
        out.push_back(std::move(info));
    }
    return out;
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

Result<std::chrono::milliseconds> nudge_wait(const std::vector<std::string>& options) {
    static const cli::Command kNudge = {
        "nudge", "NAME [--no-wait] [--timeout SECONDS]", "type the text on stdin into the session and submit it",
        {{"no-wait", 0, "", "return once typed, without waiting for the program's reaction"},
         {"timeout", 0, "SECONDS", "how long the program may take to react (default 10)"}},
        {}, ""};
    std::vector<std::string> words = {"nudge"};
    words.insert(words.end(), options.begin(), options.end());
    FRACTA_TRY_ASSIGN(a, cli::parse(kNudge, words));
    if (!a.positional().empty()) return usage_error("nudge: unexpected argument \"" + a.positional()[0] + "\"");
    long long timeout_s = 10;
    if (a.has("timeout")) {
        FRACTA_TRY_ASSIGN(t, cli::parse_int("--timeout", a.get("timeout")));
        if (t <= 0) return usage_error("--timeout: must be a positive number of seconds");
        timeout_s = t;
    }
    return a.has("no-wait") ? std::chrono::milliseconds(0) : std::chrono::milliseconds(timeout_s * 1000);
}

}  // namespace fracta::provider
