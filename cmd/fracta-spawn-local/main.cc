// fracta-spawn-local — sessions as supervised local processes.
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "base/diag.h"
#include "base/io.h"
#include "provider/local.h"
#include "session/session_dir.h"

using namespace fracta;

int main(int argc, char** argv) {
    diag::set_program("fracta-spawn-local");
    std::signal(SIGPIPE, SIG_IGN);
    const cli::Command& command = provider::local_command();
    std::vector<std::string> words(argv, argv + argc);

    // Options only before the operation; everything after it is the op's.
    if (argc > 1 && words[1].rfind("-", 0) == 0) {
        auto args = cli::parse(command, words);
        if (!args.ok()) return diag::report(args.error());
        if (args->has("version")) return io::write_stdout(cli::version_text("fracta-spawn-local")).ok() ? 0 : 1;
        return io::write_stdout(cli::help_text(command)).ok() ? 0 : 1;
    }
    if (argc < 2) return diag::report(usage_error("no operation (try --help)"));
    const std::string op = words[1];
    if (!provider::is_local_operation(op))  // Gas City reads exit 2 as "not supported"
        return diag::report(fail(ErrorKind::Unsupported, "unknown operation \"" + op + "\""));

    std::error_code ec;
    provider::LocalContext ctx;
    ctx.cwd = std::filesystem::current_path(ec).string();
    ctx.root = session::state_root(ctx.cwd);
    ctx.self_exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    provider::LocalIo io{[](size_t cap) { return io::read_all(STDIN_FILENO, cap); },
                         [](std::string_view data) { return io::write_stdout(data); },
                         [](const std::string& message) { diag::warning(message); }};

    auto status = provider::run_local(op, {words.begin() + 2, words.end()}, ctx, io);
    if (!status.ok() && io::stdout_closed()) return 0;
    if (!status.ok()) return diag::report(status.error());
    return *status;
}
