// tool.cc — fracta-cp's command line: the options of run, start, stop and
// status, read into the daemon's options (daemon.h).
#include "cp/tool.h"

#include <unistd.h>

#include "base/log.h"
#include "base/units.h"
#include "cp/daemon.h"

namespace fracta::cp {
namespace {

Result<std::chrono::milliseconds> duration_option(const cli::Args& args, const char* name, const char* fallback) {
    auto d = parse_duration(args.get(name, fallback));
    if (!d.ok()) return usage_error(std::string("--") + name + ": " + d.error().message);
    return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

Status print(const Call& call, const Json& j) {
    if (!call.text) return call.io.write(to_line(j) + "\n");
    std::string out;
    for (const auto& [k, v] : j.items()) out += k + ": " + (v.is_string() ? v.get<std::string>() : v.dump()) + "\n";
    return call.io.write(out);
}

Result<int> run_op(const Call& call) {
    const cli::Args& args = call.args;
    RunOptions o;
    o.config_file = args.get("config");
    o.listen = args.get("listen");
    o.insecure_listen = args.has("insecure-listen");
    o.capped_stderr = true;
    FRACTA_TRY_ASSIGN(fd, ready_fd(args));
    o.ready_fd = fd;
    if (args.has("workers")) {
        auto n = cli::parse_int("--workers", args.get("workers"));
        if (!n.ok() || *n > 1024) return usage_error("--workers: must be 0..1024");
        o.workers = static_cast<int>(*n);
    }
    FRACTA_TRY_ASSIGN(drain, duration_option(args, "drain-timeout", "30s"));
    o.drain_timeout = drain;
    o.gateway = args.has("gateway");
    Status done = run(o);
    if (!done.ok()) return std::move(done).take_error().context("run");
    return kExitOk;
}

Result<int> start_op(const Call& call, std::chrono::milliseconds timeout) {
    StartOptions o;
    o.config_file = call.args.get("config");
    o.listen = call.args.get("listen");
    o.insecure_listen = call.args.has("insecure-listen");
    o.timeout = timeout;
    o.gateway = !call.args.has("no-gateway");
    o.program = "/proc/self/exe";
    char self[4096];
    if (ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1); n > 0) o.program.assign(self, n);
    auto started = start_daemon(o);
    if (!started.ok()) return std::move(started).take_error().context("start");
    FRACTA_TRY(print(call, *started));
    return kExitOk;
}

Result<int> dispatch(const Call& call) {
    if (call.op == "run") return run_op(call);
    FRACTA_TRY_ASSIGN(timeout, duration_option(call.args, "timeout", "60s"));
    if (call.op == "start") return start_op(call, timeout);
    auto answer =
        call.op == "stop" ? stop_daemon(call.args.get("config"), timeout) : daemon_status(call.args.get("config"));
    if (!answer.ok()) return std::move(answer).take_error().context(call.op);
    FRACTA_TRY(print(call, *answer));
    return call.op == "stop" || (*answer)["healthy"].get<bool>() ? kExitOk : exit_code(ErrorKind::Failed);
}

}  // namespace

const Tool& tool() {
    static const Tool t{
        .command = {"fracta-cp",
                    "[--config FILE] [--format json|text] OP [OPTIONS]",
                    "the fracta control plane: HTTP API, durable queue, workers",
                    {config_option(),
                     {"format", 0, "FMT", "json (default) or text, for start, stop and status"},
                     {"listen", 0, "ADDR", "run, start: listen here (default control_plane_api.listen)"},
                     {"insecure-listen", 0, "",
                      "run, start: serve beyond loopback without a strong token (logged as a warning)"},
                     ready_fd_option("run"),
                     {"drain-timeout", 0, "DUR", "run: on SIGTERM, how long running work may finish (default 30s)"},
                     {"workers", 0, "N", "run: worker threads (default runtime.queue.workers; 0: API only)"},
                     {"timeout", 0, "DUR", "start: readiness wait; stop: wait before SIGKILL (default 60s)"},
                     {"gateway", 0, "", "run: also run fracta-gw serve (next to fracta-cp) as a supervised child"},
                     {"no-gateway", 0, "", "start: do not run the gateway beside the control plane"}},
                    {{"run", "serve in the foreground until SIGTERM (the container entrypoint)"},
                     {"start", "start a detached daemon for this project and wait until it is ready"},
                     {"stop", "stop this project's daemon (drains first)"},
                     {"status", "is this project's daemon running, healthy and ready"}}},
        .style = OpStyle::Anywhere,
        .format = "json",
        .exits = {{ErrorKind::Failed, "failed (already running, not running)"},
                  {ErrorKind::Usage, "usage"},
                  {ErrorKind::Temporary, "temporary"}},
        .run = dispatch,
    };
    return t;
}

}  // namespace fracta::cp
