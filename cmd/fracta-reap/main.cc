// fracta-reap — reconcile the store with the session provider and remove the
// garbage of ended agents: one pass (--once), or one every DURATION.
#include <signal.h>

#include <csignal>



#include "base/cli.h"
#include "base/diag.h"
#include "base/io.h"
#include "base/units.h"
#include "reap/reap.h"

using namespace fracta;

namespace {

cli::Command command() {
    return {"fracta-reap",
            "[--config FILE] [--once | --every DURATION] [--dry-run] [--grace DURATION] [--format json|text]",
            "reconcile agents with their sessions and clean up after ended ones",
            {{"config", 'c', "FILE", "fracta.yaml to use (default: FRACTA_CONFIG, else the project's)"},
             {"once", 0, "", "one pass, then exit (the default)"},
             {"every", 0, "DURATION", "a pass every DURATION until SIGTERM or SIGINT"},
             {"dry-run", 'n', "", "print what a pass would do; change nothing"},
             {"grace", 0, "DURATION", "how long a Running agent's session may be missing before it is lost (30s)"},
             {"format", 0, "FMT", "json (default: one object per action and line) or text"}},
            {},
            "Exit status: 0 the pass ran (or was skipped: another reaper held the lock); 1 failed;\n"
            "100 usage or configuration; 111 temporary (store or provider unreachable, an action failed:\n"
            "the next pass retries)."};
}

Result<Duration> duration_flag(const cli::Args& args, const char* name, const char* fallback) {
    auto d = parse_duration(args.get(name, fallback));
    if (!d.ok() || d->count() <= 0) return usage_error(std::string("--") + name + ": must be a positive duration");
    return *d;
}

std::string line_of(const reap::Action& a, bool text) {
    if (!text) return to_line(a.to_json());
    return a.action + " " + (a.task.empty() ? "-" : a.task) + " " + a.reason;
}

// One pass, printed. Returns the exit status.
int pass(reap::Target& target, const reap::Options& options, bool text) {
    auto report = reap::run_pass(target.settings, *target.store, *target.provider, options);
    if (!report.ok()) return diag::report(report.error().context("pass"));
    std::string out;
    if (report->skipped)
        out += line_of({"skip", "", "another reaper holds the lock"}, text) + "\n";
    for (const auto& a : report->actions) out += line_of(a, text) + "\n";
    if (!io::write_stdout(out).ok()) return 1;
    for (const auto& p : report->problems) diag::report(temporary_error(p));
    return report->problems.empty() ? 0 : 111;
}

}  // namespace

int main(int argc, char** argv) {
    diag::set_program("fracta-reap");
    std::signal(SIGPIPE, SIG_IGN);
    auto args = cli::parse(command(), std::vector<std::string>(argv, argv + argc));
    if (!args.ok()) return diag::report(args.error());
    if (args->has("help")) return io::write_stdout(cli::help_text(command())).ok() ? 0 : 1;
    if (args->has("version")) return io::write_stdout(cli::version_text("fracta-reap")).ok() ? 0 : 1;
    if (!args->positional().empty())
        return diag::report(usage_error("unexpected argument \"" + args->positional()[0] + "\""));
    const std::string format = args->get("format", "json");
    if (format != "json" && format != "text") return diag::report(usage_error("--format: use json or text"));
    if (args->has("once") && args->has("every")) return diag::report(usage_error("--once and --every: pick one"));

    reap::Options options;
    options.dry_run = args->has("dry-run");
    auto grace = duration_flag(*args, "grace", "30s");
    if (!grace.ok()) return diag::report(grace.error());
    options.grace = *grace;
    std::optional<Duration> every;
    if (args->has("every")) {
        auto d = duration_flag(*args, "every", "");
        if (!d.ok()) return diag::report(d.error());
        every = *d;
    }

    // Taken here, so a pass is never cut in half: the wait between passes ends early.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    if (every) sigprocmask(SIG_BLOCK, &stop, nullptr);

    auto target = reap::open_target(args->get("config"));
    if (!target.ok()) return diag::report(target.error());
    for (const auto& w : target->settings.config.warnings) diag::warning(w);
    const bool text = format == "text";
    if (!every) return pass(*target, options, text);
    for (;;) {
        (void)pass(*target, options, text);
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(*every);
        auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(*every - secs);
        struct timespec wait = {static_cast<time_t>(secs.count()), static_cast<long>(nanos.count())};
        if (sigtimedwait(&stop, nullptr, &wait) > 0) return 0;
    }
}
