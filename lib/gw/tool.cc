// tool.cc — fracta-gw's command line: serve and stdio (run.h).
#include "gw/tool.h"

#include "base/log.h"
#include "gw/run.h"

namespace fracta::gw {
namespace {

Result<int> dispatch(const Call& call) {
    Status done;
    if (call.op == "serve") {
        ServeOptions o;
        o.config_file = call.args.get("config");
        o.listen = call.args.get("listen");
        o.insecure_listen = call.args.has("insecure-listen");
        o.capped_stderr = true;
        FRACTA_TRY_ASSIGN(fd, ready_fd(call.args));
        o.ready_fd = fd;
        done = serve(o);
    } else {
        StdioRunOptions o;
        o.config_file = call.args.get("config");
        o.write_log = stderr_line;
        done = stdio(o);
    }
    if (!done.ok()) return std::move(done).take_error().context(call.op);
    return kExitOk;
}

}  // namespace

const Tool& tool() {
    static const Tool t{
        .command = {"fracta-gw",
                    "[--config FILE] OP [OPTIONS]",
                    "the fracta MCP gateway: per-agent tool endpoints, and the host's stdio server",
                    {config_option(),
                     {"listen", 0, "ADDR", "serve: listen here (default gateway.listen)"},
                     {"insecure-listen", 0, "",
                      "serve: serve beyond loopback without a strong control-plane token (logged as a warning)"},
                     ready_fd_option("serve")},
                    {{"serve", "serve /agents/<task>/mcp (and /sse, /messages) over HTTP until SIGTERM"},
                     {"stdio", "serve the host tools over stdio (what an AI CLI runs) until end of input"}}},
        .style = OpStyle::Anywhere,
        .exits = {{ErrorKind::Failed, "failed"},
                  {ErrorKind::Usage, "usage or bad configuration"},
                  {ErrorKind::Temporary, "temporary (address in use, control plane unreachable)"}},
        .run = dispatch,
    };
    return t;
}

}  // namespace fracta::gw
