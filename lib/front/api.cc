#include "front/api.h"

#include <cstdlib>
#include <filesystem>

#include "config/siblings.h"
#include "proc/run.h"

namespace fracta::front {
namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::string first_line(std::string_view text) {
    size_t start = text.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) return "";
    text.remove_prefix(start);
    std::string line(text.substr(0, text.find_first_of("\r\n")));
    if (line.size() > 300) line = line.substr(0, 300) + "…";
    return line;
}

ErrorKind kind_of_status(int status) {
    if (status == 400 || status == 401 || status == 403) return ErrorKind::Usage;
    if (status == 408 || status >= 500) return ErrorKind::Temporary;
    return ErrorKind::Failed;
}

}  // namespace

Error http_error(int status, std::string_view body) {
    std::string text;
    if (auto json = parse_json(body); json.ok() && json->is_object()) {
        auto it = json->find("error");
        if (it != json->end() && it->is_string()) text = it->get<std::string>();
    }
    if (text.empty()) text = first_line(body);
    if (text.empty()) text = "HTTP " + std::to_string(status);
    if (status == 401) text += " (set FRACTA_CP_TOKEN or control_plane_api.token)";
    return fail(kind_of_status(status), text);
}

Result<Api> Api::open(const ApiSettings& settings) {
    Api api;
    api.config_file_ = settings.config_file;
    const bool url_given = !env("FRACTA_CP_URL").empty();

    auto root = config::find_project_root(settings.cwd);
    if (!root.ok() && !settings.config_file.empty())  // the project of the file we were pointed at
        root = config::find_project_root(std::filesystem::path(settings.config_file).parent_path().string());
    if (root.ok()) api.root_ = *root;

    if (!settings.config_file.empty()) {
        FRACTA_TRY_ASSIGN(cfg, config::load(settings.config_file));
        api.config_ = std::move(cfg);
    } else if (!api.root_.empty()) {
        FRACTA_TRY_ASSIGN(cfg, config::load_project_config(api.root_));
        api.config_ = std::move(cfg);
    } else if (std::string file = env("FRACTA_CONFIG"); !file.empty()) {
        FRACTA_TRY_ASSIGN(cfg, config::load(file));
        api.config_ = std::move(cfg);
    }
    // Without a project there is no local daemon to find or start: only an
    // endpoint given explicitly will do.
    if (!root.ok() && !url_given && api.config_.control_plane.url.empty()) return root.error();
    if (settings.warn)
        for (const std::string& w : api.config_.warnings) settings.warn(w);
    api.endpoint_ = config::resolve_endpoint(api.config_, api.root_);
    return api;
}

void Api::refresh() {
    if (!endpoint_.explicit_url) endpoint_ = config::resolve_endpoint(config_, root_);
}

http::Client Api::client(std::chrono::milliseconds timeout) const {
    http::ClientOptions o;
    o.bearer_token = endpoint_.token;
    o.timeout = timeout;
    return http::Client(endpoint_.url, o);
}

bool Api::may_autostart() const {
    std::string off = env("FRACTA_NO_AUTOSTART");
    return !tried_autostart_ && !root_.empty() && !endpoint_.explicit_url && (off.empty() || off == "0");
}

Status Api::start_daemon() {
    FRACTA_TRY_ASSIGN(program, config::find_sibling("fracta-cp"));
    proc::Command c;
    c.argv = {program, "start"};
    c.cwd = root_;
    if (!config_file_.empty()) c.env["FRACTA_CONFIG"] = config_file_;
    c.timeout = std::chrono::seconds(90);  // `start` itself waits for the daemon's readiness
    FRACTA_TRY_ASSIGN(out, proc::run(c));
    // "already running" (exit 1): someone else started it meanwhile, or our
    // recorded URL was stale; either way the retry below finds it.
    bool running = out.exit_code == 1 && out.err.find("already running") != std::string::npos;
    if (!out.ok() && !running) {
        std::string why = out.timed_out ? "timed out" : "exited " + std::to_string(out.exit_code);
        if (std::string line = first_line(out.err); !line.empty()) why += ": " + line;
        return temporary_error("fracta-cp start " + why);
    }
    endpoint_ = config::resolve_endpoint(config_, root_);  // the daemon recorded the URL it really answers on
    return {};
}

Result<http::ClientResponse> Api::with_autostart(std::chrono::milliseconds timeout, const Attempt& attempt) {
    auto first = [&] {
        http::Client c = client(timeout);
        return attempt(c);
    }();
    if (first.ok() || first.error().kind != ErrorKind::Temporary || !may_autostart()) {
        tried_autostart_ = true;  // only the first request of a process may start the daemon
        return first;
    }
    tried_autostart_ = true;
    Status started = start_daemon();
    if (!started.ok()) {
        // Say both: what did not answer, and why starting it did not help.
        const Error& why = started.error();
        ErrorKind kind =
            why.kind == ErrorKind::NotFound || why.kind == ErrorKind::CannotExec ? why.kind : ErrorKind::Temporary;
        return fail(kind, first.error().message + " (auto-start: " + why.message + ")");
    }
    http::Client c = client(timeout);
    return attempt(c);
}

Result<http::ClientResponse> Api::send(const std::string& method, const std::string& path, const std::string& body,
                                       std::chrono::milliseconds timeout) {
    return with_autostart(timeout, [&](http::Client& c) { return c.request(method, path, body); });
}

Result<Json> Api::call(const std::string& method, const std::string& path, const std::string& body,
                       std::chrono::milliseconds timeout) {
    FRACTA_TRY_ASSIGN(response, send(method, path, body, timeout));
    if (!is_success(response.status)) return http_error(response.status, response.body);
    if (response.body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
    auto json = parse_json(response.body, response.body.size());
    if (!json.ok()) return failure("the control plane answered with " + json.error().message);
    return std::move(*json);
}

Result<http::ClientResponse> Api::stream(const std::string& path, const std::function<bool(std::string_view)>& on_data,
                                         std::chrono::milliseconds silence) {
    return with_autostart(silence, [&](http::Client& c) { return c.stream("GET", path, on_data); });
}

Result<http::ClientResponse> Api::probe(const std::string& path, std::chrono::milliseconds timeout) {
    http::Client c = client(timeout);
    return c.get(path);
}

}  // namespace fracta::front
