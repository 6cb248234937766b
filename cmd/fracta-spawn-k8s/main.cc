// fracta-spawn-k8s — sessions as Kubernetes Jobs and Pods.
#include <unistd.h>

#include <csignal>

#include "base/diag.h"
#include "base/io.h"
#include "provider/k8s.h"

using namespace fracta;

int main(int argc, char** argv) {
    diag::set_program("fracta-spawn-k8s");
    std::signal(SIGPIPE, SIG_IGN);
    const cli::Command& command = provider::k8s_command();
    auto args = cli::parse(command, std::vector<std::string>(argv, argv + argc));
    if (!args.ok()) return diag::report(args.error());
    if (args->has("version")) return io::write_stdout(cli::version_text("fracta-spawn-k8s")).ok() ? 0 : 1;
    if (args->has("help")) return io::write_stdout(cli::help_text(command)).ok() ? 0 : 1;
    const auto& words = args->positional();
    if (words.empty()) return diag::report(usage_error("no operation (try --help)"));
    const std::string& op = words[0];
    if (!provider::is_k8s_operation(op))  // Gas City reads exit 2 as "not supported"
        return diag::report(fail(ErrorKind::Unsupported, "unknown operation \"" + op + "\""));

    provider::K8sContext ctx;
    ctx.resolve.kubeconfig = args->get("kubeconfig");
    ctx.resolve.context = args->get("context");
    ctx.resolve.ns = args->get("namespace");
    ctx.config_file = args->get("config");
    if (args->has("start-timeout")) {
        auto t = cli::parse_int("--start-timeout", args->get("start-timeout"));
        if (!t.ok()) return diag::report(t.error());
        ctx.start_timeout_s = *t;
    }
    provider::K8sIo io{[](size_t cap) { return io::read_all(STDIN_FILENO, cap); },
                       [](std::string_view data) { return io::write_stdout(data); },
                       [](const std::string& message) { diag::warning(message); }};

    auto status = provider::run_k8s(op, {words.begin() + 1, words.end()}, ctx, io);
    if (!status.ok() && io::stdout_closed()) return 0;
    if (!status.ok()) return diag::report(status.error());
    return *status;
}
