// fracta-gw — the MCP gateway: every agent's own tool endpoint (serve), and
// the host's stdio MCP server (stdio).
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "base/cli.h"
#include "base/diag.h"
#include "base/io.h"
#include "gw/run.h"

using namespace fracta;

namespace {

cli::Command command() {
    return {"fracta-gw",
            "[--config FILE] OP [OPTIONS]",
            "the fracta MCP gateway: per-agent tool endpoints, and the host's stdio server",
            {{"config", 'c', "FILE", "fracta.yaml to use (default: FRACTA_CONFIG, else the project's)"},
             {"listen", 0, "ADDR", "serve: listen here (default gateway.listen)"},
             {"ready-fd", 0, "N", "serve: write \"ready URL\" to descriptor N once serving, then close it"}},
            {{"serve", "serve /agents/<task>/mcp (and /sse, /messages) over HTTP until SIGTERM"},
             {"stdio", "serve the host tools over stdio (what an AI CLI runs) until end of input"}},
            "Exit status: 0 done; 1 failed; 100 usage or bad configuration; 111 temporary (address in use,\n"
            "control plane unreachable)."};
}

void write_log(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

}  // namespace

int main(int argc, char** argv) {
    diag::set_program("fracta-gw");
    std::signal(SIGPIPE, SIG_IGN);
    auto invocation = cli::parse_operation(command(), std::vector<std::string>(argv, argv + argc));
    if (!invocation.ok()) return diag::report(invocation.error());
    const std::string op = invocation->operation;
    const cli::Args* args = &invocation->args;
    if (args->has("help")) return io::write_stdout(cli::help_text(command())).ok() ? 0 : 1;
    if (args->has("version")) return io::write_stdout(cli::version_text("fracta-gw")).ok() ? 0 : 1;
    if (op.empty()) return diag::report(usage_error("no operation (try --help)"));
    if (!args->positional().empty())
        return diag::report(usage_error("unexpected argument \"" + args->positional()[0] + "\""));

    if (op == "serve") {
        gw::ServeOptions o;
        o.config_file = args->get("config");
        o.listen = args->get("listen");
        o.write_log = write_log;
        if (args->has("ready-fd")) {
            auto fd = cli::parse_int("--ready-fd", args->get("ready-fd"));
            if (!fd.ok()) return diag::report(fd.error());
            o.ready_fd = static_cast<int>(*fd);
        }
        Status done = gw::serve(o);
        return done.ok() ? 0 : diag::report(done.error().context("serve"));
    }
    if (op == "stdio") {
        gw::StdioRunOptions o;
        o.config_file = args->get("config");
        o.write_log = write_log;
        Status done = gw::stdio(o);
        return done.ok() ? 0 : diag::report(done.error().context("stdio"));
    }
    return diag::report(usage_error("unknown operation \"" + op + "\" (serve, stdio)"));
}
