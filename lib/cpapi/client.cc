// client.cc — the connection side of the control-plane client: the
// endpoint, the pool, the one auto-start, the status map (routes.cc has the
// routes).
#include "cpapi/client.h"

#include <cstdlib>
#include <filesystem>

#include "config/siblings.h"
#include "http/tls.h"
#include "proc/run.h"

namespace fracta::cpapi {
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
    // 429: this address is locked out for a while (Retry-After); trying later is the cure.
    if (status == 408 || status == 429 || status >= 500) return ErrorKind::Temporary;
    return ErrorKind::Failed;
}

// The project's configuration: --config, else the project's, else
// FRACTA_CONFIG (no project), else defaults.
Result<config::Config> project_config(const OpenSettings& settings, const std::string& root) {
    if (!settings.config_file.empty()) return config::load(settings.config_file);
    if (!root.empty()) return config::load_project_config(root);
    if (std::string file = env("FRACTA_CONFIG"); !file.empty()) return config::load(file);
    return config::Config{};
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

Client::Client(std::string url, std::string token, std::chrono::milliseconds timeout, std::string ca_pem)
    : timeout_(timeout), ca_pem_(std::move(ca_pem)) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    endpoint_.url = std::move(url);
    endpoint_.token = std::move(token);
    endpoint_.explicit_url = true;
    connect();
}

Result<Client> Client::open(const OpenSettings& settings) {
    Client c;
    c.config_file_ = settings.config_file;
    auto root = config::find_project_root(settings.cwd);
    if (!root.ok() && !settings.config_file.empty())  // the project of the file we were pointed at
        root = config::find_project_root(std::filesystem::path(settings.config_file).parent_path().string());
    if (root.ok()) c.root_ = *root;
    FRACTA_TRY_ASSIGN(cfg, project_config(settings, c.root_));
    c.config_ = std::move(cfg);
    // Without a project there is no local daemon to find or start: only an
    // endpoint given explicitly will do.
    if (!root.ok() && env("FRACTA_CP_URL").empty() && c.config_.control_plane.url.empty()) return root.error();
    if (settings.warn)
        for (const std::string& w : c.config_.warnings) settings.warn(w);
    c.endpoint_ = config::resolve_endpoint(c.config_, c.root_);
    if (!c.endpoint_.ca_file.empty()) {
        FRACTA_TRY_ASSIGN(ca, http::load_ca_file(c.endpoint_.ca_file));
        c.ca_pem_ = std::move(ca);
    }
    c.connect();
    return c;
}

void Client::connect() {
    const std::string url = endpoint_.url;
    http::ClientOptions o;
    o.bearer_token = endpoint_.token;
    o.timeout = timeout_;
    o.ca_pem = ca_pem_;
    pool_ = std::make_unique<Pool<http::Client>>(
        [url, o]() -> Result<std::unique_ptr<http::Client>> { return std::make_unique<http::Client>(url, o); }, 16);
}

void Client::refresh() {
    if (endpoint_.explicit_url) return;
    const std::string before = endpoint_.url;
    endpoint_ = config::resolve_endpoint(config_, root_);
    if (endpoint_.url != before) connect();
}

bool Client::may_autostart() const {
    std::string off = env("FRACTA_NO_AUTOSTART");
    return !tried_autostart_ && !root_.empty() && !endpoint_.explicit_url && (off.empty() || off == "0");
}

Status Client::start_daemon() {
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
    connect();
    return {};
}

Result<http::ClientResponse> Client::attempt_once(const Attempt& attempt) {
    FRACTA_TRY_ASSIGN(lease, pool_->acquire());
    auto r = attempt(*lease);
    if (!r.ok()) lease.discard();  // a connection in an unknown state is not reused
    return r;
}

Result<http::ClientResponse> Client::with_autostart(const Attempt& attempt) {
    if (root_.empty()) return attempt_once(attempt);  // nothing to start (and shared by threads)
    auto first = attempt_once(attempt);
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
    return attempt_once(attempt);
}

Result<http::ClientResponse> Client::send(const std::string& method, const std::string& path, const std::string& body,
                                          std::chrono::milliseconds timeout) {
    http::RequestExtras extras;
    if (timeout.count() > 0) extras.timeout = timeout;
    return with_autostart(
        [&](http::Client& c) { return c.request(method, path, body, "application/json", extras); });
}

Result<Json> Client::call(const std::string& method, const std::string& path, const std::string& body,
                          std::chrono::milliseconds timeout) {
    FRACTA_TRY_ASSIGN(response, send(method, path, body, timeout));
    if (!is_success(response.status)) return http_error(response.status, response.body);
    if (response.body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
    auto json = parse_json(response.body, response.body.size());
    if (!json.ok()) return failure("the control plane answered with " + json.error().message);
    return std::move(*json);
}

Result<Answer> Client::ask(const std::string& method, const std::string& path, const Json& body) {
    FRACTA_TRY_ASSIGN(response, send(method, path, body.is_null() ? std::string() : to_line(body)));
    Answer a;
    a.status = response.status;
    auto parsed = parse_json(response.body.empty() ? "{}" : response.body);
    if (parsed.ok()) a.body = std::move(*parsed);
    a.text = std::move(response.body);
    return a;
}

Result<http::ClientResponse> Client::probe(const std::string& path, std::chrono::milliseconds timeout) {
    http::RequestExtras extras;
    extras.timeout = timeout;
    return attempt_once([&](http::Client& c) { return c.request("GET", path, "", "application/json", extras); });
}

}  // namespace fracta::cpapi
