// daemon.cc — `fracta-cp run`: the API server and the workers in one
// process, its signals, readiness and drain.
#include "cp/daemon.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "base/tool.h"
#include "config/exposure.h"
#include "config/project.h"
#include "config/siblings.h"
#include "cp/api.h"
#include "cp/gateway_child.h"
#include "cp/reaper_child.h"
#include "cp/worker.h"
#include "http/tls.h"
#include "store/store.h"

namespace fracta::cp {

using agents::make_settings;
using config::self_dir;
using config::load_for;
using config::url_of_listen;
namespace {

std::string host_name() {
    char buf[256] = {0};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

// FRACTA_CP_TOKEN, when set, wins over the file (at start and at reloads).
std::string api_token(const config::Config& config) {
    if (const char* token = std::getenv("FRACTA_CP_TOKEN"); token && *token) return token;
    return config.control_plane.token;
}

// The read-only token: FRACTA_CP_READ_TOKEN over control_plane_api.read_only_token.
std::string read_only_token(const config::Config& config) {
    if (const char* token = std::getenv("FRACTA_CP_READ_TOKEN"); token && *token) return token;
    return config.control_plane.read_only_token;
}

// Both tokens may guard `listen` (config/exposure.h); `warning` collects
// what --insecure-listen lets through.
Status check_exposure(const std::string& listen, const std::string& token, const std::string& read_only,
                      bool insecure, std::string& warning) {
    FRACTA_TRY(config::check_listen_exposure("the control plane", listen, token, insecure, warning));
    if (read_only.empty()) return {};
    std::string more;
    FRACTA_TRY(config::check_listen_exposure("the control plane's read-only token: the control plane", listen,
                                             read_only, insecure, more));
    if (!more.empty()) warning += (warning.empty() ? "" : "; ") + more;
    return {};
}

// The project's gateway as a supervised child, calling us with `token`.
std::unique_ptr<GatewayChild> start_gateway(const RunOptions& o, const std::string& url, const std::string& token,
                                            const LogSink& log) {
    const std::string program = self_dir() + "/fracta-gw";
    if (::access(program.c_str(), X_OK) != 0) {
        log("info", "no fracta-gw next to fracta-cp: no gateway started");
        return nullptr;
    }
    std::vector<std::string> env = {"FRACTA_CP_URL=" + url};
    if (!token.empty()) env.push_back("FRACTA_CP_TOKEN=" + token);
    if (!o.config_file.empty()) env.push_back("FRACTA_CONFIG=" + o.config_file);
    auto gateway = std::make_unique<GatewayChild>(std::vector<std::string>{program, "serve"}, env, log);
    gateway->start();
    return gateway;
}

std::unique_ptr<ReaperChild> start_reaper(const RunOptions& o, const Context& ctx, const LogSink& log) {
    const std::string program = self_dir() + "/fracta-reap";
    if (::access(program.c_str(), X_OK) != 0) {
        log("warn", "no fracta-reap next to fracta-cp: nothing will be reaped");
        return nullptr;
    }
    std::vector<std::string> argv = {program, "--once"};
    if (!o.config_file.empty()) argv.insert(argv.end(), {"--config", std::filesystem::absolute(o.config_file).string()});
    auto every = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.settings.config.reaper.interval);
    auto reaper = std::make_unique<ReaperChild>(argv, ctx.settings.root, every, log);
    reaper->start();
    return reaper;
}

// The API's certificate, key and client CA (control_plane_api.tls), read now.
Result<http::TlsCredentials> api_tls(const config::Config& config) {
    const config::TlsFiles& t = config.control_plane.tls;
    if (!t.enabled()) return http::TlsCredentials{};
    auto creds = http::load_tls_files(config::project_path(config, t.cert_file), config::project_path(config, t.key_file),
                                      config::project_path(config, t.client_ca_file));
    if (!creds.ok()) return std::move(creds).take_error().context("control_plane_api");
    return creds;
}

// What SIGHUP may change while serving; the rest of the file waits for a restart.
struct Reloadable {
    const RunOptions& options;
    Context& ctx;
    const Logger& logger;
    http::Server& server;
    std::string url;
    std::string listen;                      // the address served (a new token must still guard it)
    std::string token;                       // the API token in force
    std::string read_only;                   // the read-only token in force
    std::unique_ptr<GatewayChild>& gateway;  // holds the token too: restarted when it changes
    bool tls = false;                        // serving HTTPS: the certificate is read again

    // New connections get the certificate on disk now; one that does not
    // load leaves the running one in place (a renewal half written).
    void reload_tls(const config::Config& fresh, std::string& what) {
        if (!tls) return;
        auto creds = api_tls(fresh);
        Status set = creds.ok() ? server.set_tls(std::move(*creds)) : Status(creds.error());
        if (!set.ok()) {
            logger("warn", "reload: TLS: " + set.error().message + " (keeping the running certificate)");
            return;
        }
        what += ", TLS certificate reloaded";
    }

    void reload() {
        auto fresh = load_for(options.config_file, ctx.settings.root);
        if (!fresh.ok()) {
            logger("warn", "reload: " + fresh.error().message + " (keeping the running configuration)");
            return;
        }
        const std::string level = logger.set_level(fresh->logging.level);
        ctx.max_concurrent = fresh->max_concurrent;
        std::string what = "log level " + level + ", max_concurrent " + std::to_string(fresh->max_concurrent);
        std::string next = api_token(*fresh), next_read = read_only_token(*fresh), warning;
        if (next != token || next_read != read_only) {
            const bool insecure = options.insecure_listen || fresh->control_plane.insecure_listen;
            if (Status exposed = check_exposure(listen, next, next_read, insecure, warning); !exposed.ok()) {
                logger("warn", "reload: " + exposed.error().message + " (keeping the running tokens)");
                next = token;
                next_read = read_only;
            } else if (!warning.empty()) {
                logger("warn", warning);
            }
        }
        if (next_read != read_only) {
            read_only = next_read;
            what += read_only.empty() ? ", read-only token removed" : ", read-only token replaced";
            server.set_tokens(next, read_only);
        }
        if (next != token) {
            token = next;
            server.set_tokens(token, read_only);
            what += token.empty() ? ", API token removed" : ", API token replaced";
            if (gateway) {  // it calls us with the token in its environment
                gateway->stop();
                gateway = start_gateway(options, url, token, logger);
            }
        }
        reload_tls(*fresh, what);
        logger("info", "reloaded: " + what);
    }
};

// The store's URL for a log line: no query and no password (the compose
// scaffold's dsn carries Postgres's password; logs are no place for it).
std::string store_for_log(const std::string& store_url) {
    std::string u = store_url.substr(0, store_url.find('?'));
    const auto scheme = u.find("://");
    const auto at = u.rfind('@');
    if (scheme == std::string::npos || at == std::string::npos || at < scheme) return u;
    const auto colon = u.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) u.replace(colon + 1, at - colon - 1, "***");
    return u;
}

}  // namespace

Status run(const RunOptions& o) {
    FRACTA_TRY_ASSIGN(config, load_for(o.config_file, std::filesystem::current_path().string()));
    const Logger logger("fracta-cp", config.logging.format, config.logging.level,
                        o.capped_stderr ? capped_stderr(log_max_bytes(config.document.root)) : o.write_log);
    const LogSink log = logger.sink();
    for (const auto& w : config.warnings) log("warn", w);
    const std::string token = api_token(config);
    const std::string listen = o.listen.empty() ? config.control_plane.listen : o.listen;
    const std::string read_only = read_only_token(config);
    const config::Listener api = config.control_plane;
    std::string exposure_warning;
    FRACTA_TRY(check_exposure(listen, token, read_only, o.insecure_listen || api.insecure_listen, exposure_warning));
    if (!exposure_warning.empty()) log("warn", exposure_warning);
    FRACTA_TRY_ASSIGN(tls, api_tls(config));
    if (tls.enabled() && !http::tls_available())
        return usage_error("control_plane_api.tls: this fracta-cp has no TLS (the static binaries are built "
                           "without GnuTLS); use the dynamically linked build or terminate TLS in front of it");
    FRACTA_TRY_ASSIGN(settings, make_settings(std::move(config)));
    {  // bring the schema up to date (and fail early on a dead store)
        auto store = store::open(settings.store_url, "fracta-cp");
        if (!store.ok()) return std::move(store).take_error().context("open store");
    }
    Context ctx(std::move(settings));
    ctx.log = log;

    // Signals are taken by this thread alone: block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    http::ServerOptions server_options;
    server_options.bearer_token = token;
    server_options.read_only_token = read_only;
    server_options.auth_limit.failures = static_cast<unsigned>(api.auth_failures);
    server_options.auth_limit.window = std::chrono::duration_cast<std::chrono::milliseconds>(api.auth_window);
    server_options.auth_prefixes = {"/api/v1/"};
    server_options.thread_per_connection = true;  // watch and wait hold their connection
    server_options.idle_timeout = std::chrono::seconds(60);
    server_options.error_log = [log](const std::string& line) { log("warn", "http: " + line); };
    server_options.tls = std::move(tls);
    const bool https = server_options.tls.enabled();
    FRACTA_TRY_ASSIGN(server, http::Server::listen_tcp(listen, make_handler(ctx), server_options));
    const std::string url = url_of_listen(server->address(), https);

    Workers workers(ctx, host_name() + "-" + std::to_string(::getpid()));
    workers.start(o.workers >= 0 ? o.workers : ctx.settings.config.queue.workers);
    log("info", "listening on " + url + " (store " + store_for_log(ctx.pool.url()) +
                    ", backend " + ctx.settings.config.backend + ")");
    std::unique_ptr<GatewayChild> gateway = o.gateway ? start_gateway(o, url, token, log) : nullptr;
    // An API-only replica leaves reaping to the ones doing the work.
    std::unique_ptr<ReaperChild> reaper = ctx.workers > 0 ? start_reaper(o, ctx, log) : nullptr;
    announce_ready(o.ready_fd, url);

    Reloadable reloadable{o, ctx, logger, *server, url, listen, token, read_only, gateway, https};
    for (;;) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0) continue;
        if (sig == SIGHUP) {
            reloadable.reload();
            continue;
        }
        log("info", "draining (" + std::string(sig == SIGTERM ? "SIGTERM" : "SIGINT") + ")");
        ctx.draining = true;
        if (reaper) reaper->stop();
        workers.drain(o.drain_timeout);
        if (gateway) gateway->stop();
        server->stop();
        log("info", "stopped");
        return {};
    }
}

}  // namespace fracta::cp
