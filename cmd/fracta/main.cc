// fracta — the front door: client verbs over the control plane's HTTP API,
// and dispatch of other verbs to the sibling binaries (git style).
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "base/diag.h"
#include "base/io.h"
#include "front/front.h"

using namespace fracta;

int main(int argc, char** argv) {
    diag::set_program("fracta");
    std::signal(SIGPIPE, SIG_IGN);  // a closed stdout is an EPIPE we handle

    auto args = cli::parse(front::command(), std::vector<std::string>(argv, argv + argc));
    if (!args.ok()) return diag::report(args.error());
    if (args->has("help")) return io::write_stdout(cli::help_text(front::command())).ok() ? 0 : 1;
    if (args->has("version")) return io::write_stdout(cli::version_text("fracta")).ok() ? 0 : 1;

    std::error_code ec;
    std::string cwd = std::filesystem::current_path(ec).string();
    if (ec) return diag::report(failure("working directory: " + ec.message()));
    auto options = front::global_options(*args, cwd);
    if (!options.ok()) return diag::report(options.error());
    if (args->positional().empty()) return diag::report(usage_error("no verb (try --help)"));
    const std::string verb = args->positional()[0];
    const std::vector<std::string> rest(args->positional().begin() + 1, args->positional().end());

    if (front::is_dispatch_verb(verb)) return diag::report(front::exec_sibling(verb, rest, *options));

    front::Io io{[](size_t cap) { return io::read_all(STDIN_FILENO, cap); },
                 [](std::string_view data) { return io::write_stdout(data); },
                 [](std::string_view line) { diag::warning(line); }};
    Status done = front::run(verb, rest, *options, io);
    if (!done.ok() && io::stdout_closed()) return 0;  // the reader left: not an error
    if (!done.ok()) return diag::report(done.error());
    return 0;
}
