// fracta-cp — the control plane: the API, the durable queue and its workers.
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "base/cli.h"
#include "base/diag.h"
#include "base/io.h"
#include "base/units.h"
#include "cp/daemon.h"

using namespace fracta;

namespace {

cli::Command command() {
    return {"fracta-cp",
            "[--config FILE] [--format json|text] OP [OPTIONS]",
            "the fracta control plane: HTTP API, durable queue, workers",
            {{"config", 'c', "FILE", "fracta.yaml to use (default: FRACTA_CONFIG, else the project's)"},
             {"format", 0, "FMT", "json (default) or text, for start, stop and status"},
             {"listen", 0, "ADDR", "run, start: listen here (default control_plane_api.listen)"},
             {"ready-fd", 0, "N", "run: write \"ready URL\" to descriptor N once serving, then close it"},
             {"drain-timeout", 0, "DUR", "run: on SIGTERM, how long running work may finish (default 30s)"},
             {"workers", 0, "N", "run: worker threads (default runtime.queue.workers; 0: API only)"},
             {"timeout", 0, "DUR", "start: readiness wait; stop: wait before SIGKILL (default 60s)"},
             {"gateway", 0, "", "run: also run fracta-gw serve (next to fracta-cp) as a supervised child"},
             {"no-gateway", 0, "", "start: do not run the gateway beside the control plane"}},
            {{"run", "serve in the foreground until SIGTERM (the container entrypoint)"},
             {"start", "start a detached daemon for this project and wait until it is ready"},
             {"stop", "stop this project's daemon (drains first)"},
             {"status", "is this project's daemon running, healthy and ready"}},
            "Exit status: 0 done; 1 failed (already running, not running); 100 usage; 111 temporary."};
}

void write_log(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

Result<std::chrono::milliseconds> duration_option(const cli::Args& args, const char* name, const char* fallback) {
    auto d = parse_duration(args.get(name, fallback));
    if (!d.ok()) return usage_error(std::string("--") + name + ": " + d.error().message);
    return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

int print(const Json& j, bool text) {
    std::string out;
    if (!text) {
        out = to_line(j) + "\n";
    } else {
        for (const auto& [k, v] : j.items()) out += k + ": " + (v.is_string() ? v.get<std::string>() : v.dump()) + "\n";
    }
    return io::write_stdout(out).ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    diag::set_program("fracta-cp");
    std::signal(SIGPIPE, SIG_IGN);
    auto invocation = cli::parse_operation(command(), std::vector<std::string>(argv, argv + argc));
    if (!invocation.ok()) return diag::report(invocation.error());
    const std::string op = invocation->operation;
    const cli::Args* args = &invocation->args;
    if (args->has("help")) return io::write_stdout(cli::help_text(command())).ok() ? 0 : 1;
    if (args->has("version")) return io::write_stdout(cli::version_text("fracta-cp")).ok() ? 0 : 1;
    const std::string format = args->get("format", "json");
    if (format != "json" && format != "text") return diag::report(usage_error("--format: use json or text"));
    if (op.empty()) return diag::report(usage_error("no operation (try --help)"));
    if (!args->positional().empty())
        return diag::report(usage_error("unexpected argument \"" + args->positional()[0] + "\""));
    const std::string config_file = args->get("config");
    const bool text = format == "text";

    if (op == "run") {
        cp::RunOptions o;
        o.config_file = config_file;
        o.listen = args->get("listen");
        o.write_log = write_log;
        if (args->has("ready-fd")) {
            auto fd = cli::parse_int("--ready-fd", args->get("ready-fd"));
            if (!fd.ok()) return diag::report(fd.error());
            o.ready_fd = static_cast<int>(*fd);
        }
        if (args->has("workers")) {
            auto n = cli::parse_int("--workers", args->get("workers"));
            if (!n.ok() || *n > 1024) return diag::report(usage_error("--workers: must be 0..1024"));
            o.workers = static_cast<int>(*n);
        }
        auto drain = duration_option(*args, "drain-timeout", "30s");
        if (!drain.ok()) return diag::report(drain.error());
        o.drain_timeout = *drain;
        o.gateway = args->has("gateway");
        Status done = cp::run(o);
        return done.ok() ? 0 : diag::report(done.error().context("run"));
    }
    auto timeout = duration_option(*args, "timeout", "60s");
    if (!timeout.ok()) return diag::report(timeout.error());
    if (op == "start") {
        cp::StartOptions o;
        o.config_file = config_file;
        o.listen = args->get("listen");
        o.timeout = *timeout;
        o.gateway = !args->has("no-gateway");
        o.program = "/proc/self/exe";
        char self[4096];
        if (ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1); n > 0) o.program.assign(self, n);
        auto started = cp::start_daemon(o);
        return started.ok() ? print(*started, text) : diag::report(started.error().context("start"));
    }
    if (op == "stop") {
        auto stopped = cp::stop_daemon(config_file, *timeout);
        return stopped.ok() ? print(*stopped, text) : diag::report(stopped.error().context("stop"));
    }
    if (op == "status") {
        auto st = cp::daemon_status(config_file);
        if (!st.ok()) return diag::report(st.error().context("status"));
        int rc = print(*st, text);
        return rc != 0 ? rc : (*st)["healthy"].get<bool>() ? 0 : 1;
    }
    return diag::report(usage_error("unknown operation \"" + op + "\" (run, start, stop, status)"));
}
