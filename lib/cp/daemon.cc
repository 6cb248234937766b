// daemon.cc — `fracta-cp run`: the API server and the workers in one
// process, its signals, readiness and drain.
#include "cp/daemon.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>

#include "base/time.h"
#include "cp/api.h"
#include "cp/gateway_child.h"
#include "cp/reaper_child.h"
#include "cp/project.h"
#include "cp/worker.h"
#include "store/store.h"

namespace fracta::cp {
namespace {

std::string host_name() {
    char buf[256] = {0};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

void write_ready(int fd, const std::string& url) {
    if (fd < 0) return;
    std::string line = "ready " + url + "\n";
    (void)!::write(fd, line.data(), line.size());
    ::close(fd);
}

}  // namespace

Result<config::Config> load_for(const std::string& config_file, const std::string& cwd) {
    std::string file = config_file;
    if (file.empty())
        if (const char* env = std::getenv("FRACTA_CONFIG"); env && *env) file = env;
    if (!file.empty()) return config::load(file);
    FRACTA_TRY_ASSIGN(root, find_project_root(cwd));
    return load_project_config(root);
}

namespace {

int level_rank(const std::string& level) {
    if (level == "debug") return 0;
    if (level == "info") return 1;
    if (level == "warn") return 2;
    return 3;
}

// The daemon's log: one line per call, from any thread.
LogSink make_log(const config::Logging& logging, const LineWriter& write) {
    if (!write) return [](const std::string&, const std::string&) {};
    std::string level = logging.level;
    if (const char* env = std::getenv("FRACTA_LOG_LEVEL"); env && *env) level = env;
    const int threshold = level_rank(level);
    const bool json = logging.format == "json";
    auto mu = std::make_shared<std::mutex>();
    return [=](const std::string& lvl, const std::string& line) {
        if (level_rank(lvl) < threshold) return;
        const std::string ts = format_rfc3339(now());
        std::string out = json ? to_line(Json{{"ts", ts}, {"level", lvl}, {"component", "fracta-cp"}, {"msg", line}})
                               : ts + " fracta-cp: " + lvl + ": " + line;
        std::lock_guard<std::mutex> lock(*mu);
        write(out);
    };
}

}  // namespace

Status run(const RunOptions& o) {
    FRACTA_TRY_ASSIGN(config, load_for(o.config_file, std::filesystem::current_path().string()));
    const LogSink log = make_log(config.logging, o.write_log);
    for (const auto& w : config.warnings) log("warn", w);
    if (const char* token = std::getenv("FRACTA_CP_TOKEN"); token && *token) config.control_plane.token = token;
    const std::string listen = o.listen.empty() ? config.control_plane.listen : o.listen;
    FRACTA_TRY_ASSIGN(settings, make_settings(std::move(config), self_dir()));
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
    server_options.bearer_token = ctx.settings.config.control_plane.token;
    server_options.auth_prefixes = {"/api/v1/"};
    server_options.thread_per_connection = true;  // watch and wait hold their connection
    server_options.idle_timeout = std::chrono::seconds(60);
    server_options.error_log = [log](const std::string& line) { log("warn", "http: " + line); };
    FRACTA_TRY_ASSIGN(server, http::Server::listen_tcp(listen, make_handler(ctx), server_options));
    const std::string url = url_of_listen(server->address());

    Workers workers(ctx, host_name() + "-" + std::to_string(::getpid()));
    workers.start(o.workers >= 0 ? o.workers : ctx.settings.config.queue.workers);
    log("info", "listening on " + url + " (store " + ctx.pool.url().substr(0, ctx.pool.url().find('?')) +
                    ", backend " + ctx.settings.config.backend + ")");
    std::unique_ptr<GatewayChild> gateway;
    if (o.gateway) {
        const std::string program = self_dir() + "/fracta-gw";
        if (::access(program.c_str(), X_OK) != 0) {
            log("info", "no fracta-gw next to fracta-cp: no gateway started");
        } else {
            std::vector<std::string> argv = {program, "serve"};
            std::vector<std::string> env = {"FRACTA_CP_URL=" + url};
            if (!ctx.settings.config.control_plane.token.empty())
                env.push_back("FRACTA_CP_TOKEN=" + ctx.settings.config.control_plane.token);
            if (!o.config_file.empty()) env.push_back("FRACTA_CONFIG=" + o.config_file);
            gateway = std::make_unique<GatewayChild>(argv, env, log);
            gateway->start();
        }
    }
    std::unique_ptr<ReaperChild> reaper;
    if (ctx.workers > 0) {  // an API-only replica leaves reaping to the ones doing the work
        const std::string program = self_dir() + "/fracta-reap";
        if (::access(program.c_str(), X_OK) != 0) {
            log("warn", "no fracta-reap next to fracta-cp: nothing will be reaped");
        } else {
            std::vector<std::string> argv = {program, "--once"};
            if (!o.config_file.empty()) argv.insert(argv.end(), {"--config", std::filesystem::absolute(o.config_file).string()});
            auto every = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.settings.config.reaper.interval);
            reaper = std::make_unique<ReaperChild>(argv, ctx.settings.root, every, log);
            reaper->start();
        }
    }
    write_ready(o.ready_fd, url);

    for (;;) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0) continue;
        if (sig == SIGHUP) {
            auto fresh = load_for(o.config_file, ctx.settings.root);
            if (!fresh.ok()) {
                log("warn", "reload: " + fresh.error().message + " (keeping the running configuration)");
                continue;
            }
            ctx.max_concurrent = fresh->max_concurrent;
            log("info", "reloaded: max_concurrent " + std::to_string(fresh->max_concurrent));
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
