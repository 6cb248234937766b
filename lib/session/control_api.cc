#include "session/control_api.h"

#include <chrono>
#include <csignal>

#include "base/cli.h"
#include "base/text.h"
#include "session/attach_wire.h"
#include "session/keys.h"
#include "session/processes.h"
#include "session/workspace.h"

namespace fracta::session {
namespace {

using http::Request;
using http::Response;


Response from_error(const Error& e) {
    int status = e.kind == ErrorKind::Usage ? 400 : e.kind == ErrorKind::Temporary ? 503 : 500;
    return Response::error(status, e.message);
}

Result<Json> json_body(const Request& r) {
    if (r.body.empty()) return Json::object();
    FRACTA_TRY_ASSIGN(j, parse_json(r.body));
    if (!j.is_object()) return usage_error("body must be a JSON object");
    return j;
}

Response typed(const SessionControl& c, const std::string& bytes) {
    auto delivered = c.type(bytes);
    if (!delivered.ok()) return from_error(delivered.error());
    (void)c.dir->touch_input();
    return Response::json(200, {{"delivered", *delivered}});
}

// POST /v1/nudge {text, wait_ms}: 410 when the session's command has ended
// (the providers' "not running"), 409 without a terminal, 504 unconfirmed.
Response nudged(const SessionControl& c, const Request& r) {
    auto body = json_body(r);
    if (!body.ok()) return from_error(body.error());
    auto text = string_field(*body, "text");
    if (!text.ok()) return from_error(text.error());
    auto wait = int_field(*body, "wait_ms");
    if (!wait.ok()) return from_error(wait.error());
    auto sent = c.nudge(*text, std::chrono::milliseconds(*wait));
    (void)c.dir->touch_input();
    if (sent.ok()) return Response::json(200, {{"delivered", true}, {"confirmed", *wait > 0}, {"ordinal", *sent}});
    const Error& e = sent.error();
    if (e.kind == ErrorKind::NotFound) return Response::error(410, e.message);
    return Response::error(e.kind == ErrorKind::Usage ? 409 : e.kind == ErrorKind::Temporary ? 504 : 500, e.message);
}

// attach.h's frames on the connection itself once it has switched (a pod's
// terminal through the API server's pods/proxy, which passes upgrades
// through as bytes); 426 for another protocol, 409 without a terminal.
Response attached(const SessionControl& c, const Request& r) {
    if (lower(r.header("upgrade")) != kAttachProtocol)
        return Response::error(426, std::string("send \"Upgrade: ") + kAttachProtocol + "\"");
    auto session = connect_attach(c.dir->file("attach.sock"));
    if (!session.ok()) return Response::error(409, "no terminal to attach to: " + session.error().message);
    Response up;
    up.status = 101;
    up.headers.emplace_back("Upgrade", kAttachProtocol);
    up.upgraded = [fd = *session](int client, std::string_view early) { relay_attach(client, fd, early); };
    return up;
}

}  // namespace

http::Handler control_handler(const SessionControl& c) {
    auto router = std::make_shared<http::Router>();
    router->add("GET", "/v1/status", [c](const Request&) {
        std::optional<State> state;
        std::string status = c.dir->status(&state);
        Json j = state ? state->to_json() : Json::object();
        j["state"] = status;
        j["last_activity"] = c.dir->last_activity();
        return Response::json(200, j);
    });
    router->add("GET", "/v1/peek", [c](const Request& r) {
        long lines = std::strtol(r.query_param("lines", "50").c_str(), nullptr, 10);
        auto out = c.dir->tail(lines);
        if (!out.ok()) return from_error(out.error());
        return Response::json(200, {{"output", *out}});
    });
    router->add("GET", "/v1/logs", [c](const Request&) {
        auto out = c.dir->tail(0);
        if (!out.ok()) return from_error(out.error());
        return Response::text(200, *out);
    });
    router->add("POST", "/v1/nudge", [c](const Request& r) { return nudged(c, r); });
    router->add("POST", "/v1/keys", [c](const Request& r) {
        auto body = json_body(r);
        if (!body.ok()) return from_error(body.error());
        const Json& keys = (*body)["keys"];
        if (!keys.is_array()) return Response::error(400, "\"keys\" must be an array of strings");
        std::vector<std::string> list;
        for (const Json& k : keys) {
            if (!k.is_string()) return Response::error(400, "\"keys\" must be an array of strings");
            list.push_back(k.get<std::string>());
        }
        return typed(c, keys_bytes(list));
    });
    router->add("POST", "/v1/interrupt", [c](const Request&) {
        c.signal_group(SIGINT);
        return Response::json(200, {{"status", "interrupted"}});
    });
    router->add("POST", "/v1/stop", [c](const Request&) {
        c.request_stop();
        return Response::json(202, {{"status", "stopping"}});
    });
    router->add("POST", "/v1/clear", [c](const Request&) {
        c.clear_log();
        return Response::json(200, {{"status", "cleared"}});
    });
    router->add("GET", "/v1/meta/{key}", [c](const Request& r) {
        auto v = c.dir->get_meta(r.params.at("key"));
        if (!v.ok()) return from_error(v.error());
        return Response::json(200, {{"value", *v}});
    });
    router->add("PUT", "/v1/meta/{key}", [c](const Request& r) {
        Status s = c.dir->set_meta(r.params.at("key"), r.body);
        return s.ok() ? Response::json(200, {{"status", "set"}}) : from_error(s.error());
    });
    router->add("DELETE", "/v1/meta/{key}", [c](const Request& r) {
        Status s = c.dir->remove_meta(r.params.at("key"));
        return s.ok() ? Response::json(200, {{"status", "removed"}}) : from_error(s.error());
    });
    router->add("GET", "/v1/attach", [c](const Request& r) { return attached(c, r); });
    router->add("GET", "/v1/processes", [c](const Request&) {
        Json list = Json::array();
        for (const ProcessInfo& p : processes_in_session(c.session_id))
            list.push_back({{"pid", p.pid}, {"comm", p.comm}, {"argv", p.argv}});
        return Response::json(200, {{"processes", list}});
    });
    router->add("PUT", "/v1/files", [c](const Request& r) {
        Status s = write_files(c.work_dir, {{r.query_param("path"), r.body}});
        return s.ok() ? Response::json(200, {{"status", "written"}}) : from_error(s.error());
    });
    return router->handler();
}

}  // namespace fracta::session
