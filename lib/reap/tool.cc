// tool.cc — fracta-reap's command line: one pass (--once), or one every
// DURATION until SIGTERM or SIGINT, each printed as it ran.
#include "reap/tool.h"

#include <signal.h>

#include "base/units.h"
#include "reap/reap.h"

namespace fracta::reap {
namespace {

Result<Duration> duration_flag(const cli::Args& args, const char* name, const char* fallback) {
    auto d = parse_duration(args.get(name, fallback));
    if (!d.ok() || d->count() <= 0) return usage_error(std::string("--") + name + ": must be a positive duration");
    return *d;
}

std::string line_of(const Action& a, bool text) {
    if (!text) return to_line(a.to_json());
    return a.action + " " + (a.task.empty() ? "-" : a.task) + " " + a.reason;
}

// One pass, printed; its problems are error lines (exit 111: the next pass retries).
Result<int> pass(Target& target, const Options& options, const Call& call) {
    auto report = run_pass(target.settings, *target.store, *target.provider, options);
    if (!report.ok()) return std::move(report).take_error().context("pass");
    std::string out;
    if (report->skipped) out += line_of({"skip", "", "another reaper holds the lock"}, call.text) + "\n";
    for (const auto& a : report->actions) out += line_of(a, call.text) + "\n";
    FRACTA_TRY(call.io.write(out));
    for (const auto& p : report->problems) call.io.error(p);
    return report->problems.empty() ? kExitOk : exit_code(ErrorKind::Temporary);
}

Result<int> reap(const Call& call) {
    if (call.args.has("once") && call.args.has("every")) return usage_error("--once and --every: pick one");
    Options options;
    options.dry_run = call.args.has("dry-run");
    FRACTA_TRY_ASSIGN(grace, duration_flag(call.args, "grace", "30s"));
    options.grace = grace;
    std::optional<Duration> every;
    if (call.args.has("every")) {
        FRACTA_TRY_ASSIGN(d, duration_flag(call.args, "every", ""));
        every = d;
    }
    // Taken here, so a pass is never cut in half: the wait between passes ends early.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    if (every) sigprocmask(SIG_BLOCK, &stop, nullptr);

    FRACTA_TRY_ASSIGN(target, open_target(call.args.get("config")));
    for (const auto& w : target.settings.config.warnings) call.io.warn(w);
    if (!every) return pass(target, options, call);
    for (;;) {
        if (auto done = pass(target, options, call); !done.ok()) call.io.error(done.error().message);
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(*every);
        auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(*every - secs);
        struct timespec wait = {static_cast<time_t>(secs.count()), static_cast<long>(nanos.count())};
        if (sigtimedwait(&stop, nullptr, &wait) > 0) return kExitOk;
    }
}

}  // namespace

const Tool& tool() {
    static const Tool t{
        .command = {"fracta-reap",
                    "[--config FILE] [--once | --every DURATION] [--dry-run] [--grace DURATION] [--format json|text]",
                    "reconcile agents with their sessions and clean up after ended ones",
                    {config_option(),
                     {"once", 0, "", "one pass, then exit (the default)"},
                     {"every", 0, "DURATION", "a pass every DURATION until SIGTERM or SIGINT"},
                     {"dry-run", 'n', "", "print what a pass would do; change nothing"},
                     {"grace", 0, "DURATION",
                      "how long a Running agent's session may be missing before it is lost (30s)"},
                     {"format", 0, "FMT", "json (default: one object per action and line) or text"}},
                    {}},
        .style = OpStyle::None,
        .format = "json",
        .done = "the pass ran (or was skipped: another reaper held the lock)",
        .exits = {{ErrorKind::Failed, "failed"},
                  {ErrorKind::Usage, "usage or configuration"},
                  {ErrorKind::Temporary,
                   "temporary (store or provider unreachable, an action failed: the next pass retries)"}},
        .run = reap,
    };
    return t;
}

}  // namespace fracta::reap
