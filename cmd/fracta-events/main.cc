// fracta-events — the event log, and a Gas City events provider.
#include <csignal>
#include <unistd.h>

#include <filesystem>

#include "base/diag.h"
#include "base/io.h"
#include "events/provider.h"

using namespace fracta;

int main(int argc, char** argv) {
    diag::set_program("fracta-events");
    std::signal(SIGPIPE, SIG_IGN);  // a closed stdout is an EPIPE we handle

    auto args = cli::parse(events::command(), std::vector<std::string>(argv, argv + argc));
    if (!args.ok()) return diag::report(args.error());
    if (args->has("help")) return io::write_stdout(cli::help_text(events::command())).ok() ? 0 : 1;
    if (args->has("version")) return io::write_stdout(cli::version_text("fracta-events")).ok() ? 0 : 1;

    std::string format = args->get("format", "json");
    if (format != "json" && format != "text") return diag::report(usage_error("--format: use json or text"));
    if (args->positional().empty()) return diag::report(usage_error("no operation (try --help)"));
    const std::string op = args->positional()[0];
    const std::vector<std::string> op_args(args->positional().begin() + 1, args->positional().end());
    if (!events::is_operation(op))  // Gas City reads exit 2 as "not supported": success, empty
        return diag::report(fail(ErrorKind::Unsupported, "unknown operation \"" + op + "\""));

    std::unique_ptr<events::Backend> store;
    events::StoreOpener open_store = [&]() -> Result<events::Backend*> {
        FRACTA_TRY_ASSIGN(choice, events::choose_store(args->get("store"), std::filesystem::current_path()));
        for (const std::string& w : choice.warnings) diag::warning(w);
        FRACTA_TRY_ASSIGN(opened, events::open_backend(choice.url, {args->get("kubeconfig"), args->get("context")}));
        store = std::move(opened);
        return store.get();
    };
    events::Io io{[](size_t cap) { return io::read_all(STDIN_FILENO, cap); },
                  [](std::string_view data) { return io::write_stdout(data); }, STDOUT_FILENO};

    Status done = events::run(op, op_args, open_store, io, format == "text");
    if (!done.ok() && io::stdout_closed()) return 0;  // the reader left: not an error
    if (!done.ok()) return diag::report(done.error());
    return 0;
}
