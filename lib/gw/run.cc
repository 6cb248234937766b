#include "gw/run.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "base/log.h"
#include "base/tool.h"
#include "config/exposure.h"
#include "config/project.h"
#include "gw/api_tools.h"
#include "gw/backends.h"
#include "gw/gateway.h"
#include "mcp/stdio_server.h"

namespace fracta::gw {
namespace {

// The configuration: --config, FRACTA_CONFIG, the project's, or defaults
// (a gateway in a container needs no project).
Result<config::Config> load(const std::string& file) {
    auto c = config::load_for(file, std::filesystem::current_path().string());
    if (c.ok() || !file.empty()) return c;
    config::Config defaults;
    defaults.root = std::filesystem::current_path().string();
    return defaults;
}

Logger make_logger(const config::Logging& logging, const LineWriter& write) {
    return Logger("fracta-gw", logging.format, logging.level, write);
}

// gateway.tls read now (empty credentials: plain HTTP).
Result<http::TlsCredentials> gateway_tls(const config::Config& config) {
    const config::TlsFiles& t = config.gateway.tls;
    if (!t.enabled()) return http::TlsCredentials{};
    if (!http::tls_available())
        return usage_error("gateway.tls: this fracta-gw has no TLS (the static binaries are built without GnuTLS); "
                           "use the dynamically linked build or terminate TLS in front of it");
    auto creds = http::load_tls_files(config::project_path(config, t.cert_file), config::project_path(config, t.key_file),
                                      config::project_path(config, t.client_ca_file));
    if (!creds.ok()) return std::move(creds).take_error().context("gateway");
    return creds;
}

// The gateway's side of the control plane: where, the token, the CAs trusted.
Status control_plane_of(const config::Config& config, GatewayOptions& g) {
    const config::Endpoint cp = config::resolve_endpoint(config, config.root);
    g.cp_url = cp.url;
    g.cp_token = cp.token;
    if (!cp.ca_file.empty()) {
        FRACTA_TRY_ASSIGN(ca, http::load_ca_file(cp.ca_file));
        g.cp_ca_pem = std::move(ca);
    }
    return {};
}

// SIGHUP: the log level, and the certificate for new connections; the rest
// needs a restart.
void reload(const std::string& config_file, const Logger& logger, Gateway& gateway, bool tls) {
    const LogSink log = logger.sink();
    auto fresh = load(config_file);
    if (!fresh.ok()) {
        log("warn", "reload: " + fresh.error().message + " (keeping the running configuration)");
        return;
    }
    std::string what = "log level " + logger.set_level(fresh->logging.level);
    if (tls) {
        auto creds = gateway_tls(*fresh);
        Status set = creds.ok() ? gateway.set_tls(std::move(*creds)) : Status(creds.error());
        if (set.ok())
            what += ", TLS certificate reloaded";
        else
            log("warn", "reload: TLS: " + set.error().message + " (keeping the running certificate)");
    }
    log("info", "reloaded: " + what);
}

}  // namespace

Status serve(const ServeOptions& o) {
    FRACTA_TRY_ASSIGN(config, load(o.config_file));
    const Logger logger =
        make_logger(config.logging, o.capped_stderr ? capped_stderr(log_max_bytes(config.document.root)) : o.write_log);
    const LogSink log = logger.sink();
    for (const auto& w : config.warnings) log("warn", w);
    FRACTA_TRY_ASSIGN(settings, read_settings(config));
    GatewayOptions g;
    g.listen = o.listen.empty() ? config.gateway.listen : o.listen;
    FRACTA_TRY(control_plane_of(config, g));
    FRACTA_TRY_ASSIGN(tls, gateway_tls(config));
    g.tls = std::move(tls);
    const bool https = g.tls.enabled();
    g.auth_limit.failures = static_cast<unsigned>(config.gateway.auth_failures);
    g.auth_limit.window = std::chrono::duration_cast<std::chrono::milliseconds>(config.gateway.auth_window);
    const std::string cp_url = g.cp_url;
    std::string exposure_warning;
    FRACTA_TRY(config::check_listen_exposure("the gateway", g.listen, g.cp_token,
                                             o.insecure_listen || config.gateway.insecure_listen, exposure_warning));
    if (!exposure_warning.empty()) log("warn", exposure_warning);
    g.allowed_hosts = own_hosts(config, g.listen);
    g.log = log;

    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    Backends backends(settings.backends, log);
    g.settings = std::move(settings);
    FRACTA_TRY_ASSIGN(gateway, Gateway::start(std::move(g), &backends));
    backends.on_tools_changed([&gateway] { gateway->tools_changed(); });
    backends.start();
    log("info", "listening on " + gateway->url() + " (control plane " + cp_url + ")");
    announce_ready(o.ready_fd, gateway->url());
    for (;;) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0) continue;
        if (sig == SIGHUP) {
            reload(o.config_file, logger, *gateway, https);
            continue;
        }
        log("info", "stopping");
        gateway->stop();
        backends.stop();
        return {};
    }
}

Status stdio(const StdioRunOptions& o) {
    // A file that does not load is cpapi::Client::open's to report; its log
    // settings count when it does.
    auto config = load(o.config_file);
    const LogSink log = make_logger(config.ok() ? config->logging : config::Logging{}, o.write_log).sink();
    cpapi::OpenSettings settings;
    settings.cwd = o.cwd.empty() ? std::filesystem::current_path().string() : o.cwd;
    settings.config_file = o.config_file;
    settings.warn = [&log](std::string_view w) { log("warn", std::string(w)); };
    FRACTA_TRY_ASSIGN(api, cpapi::Client::open(settings));
    ApiToolSource tools(host_tools(), api);
    mcp::ServerConfig sc;
    sc.instructions = "Drive fracta: spawn coding agents in their own worktrees, watch them, talk to them, merge their work.";
    mcp::Server server(sc, tools);
    mcp::StdioServer io(server);
    return io.run();
}

}  // namespace fracta::gw
