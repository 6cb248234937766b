// local_nudge.cc — `fracta-spawn-local nudge NAME [--no-wait] [--timeout S]`
// and the startup nudge: typed by the supervisor (session/terminal_input.h),
// confirmed by the program's reaction, recorded as a nudge.delivered or
// nudge.failed event (nudge_events.h).
#include <chrono>

#include "provider/control.h"
#include "provider/local.h"
#include "provider/nudge_events.h"

namespace fracta::provider {

Status deliver_nudge(const session::SessionDir& dir, const std::string& text, std::chrono::milliseconds wait,
                     const LocalContext& ctx, Io& io) {
    const auto started = std::chrono::steady_clock::now();
    auto answer = SupervisorControl::unix_socket(dir.file("control.sock")).nudge(text, wait);
    // The supervisor had already gone: the command ended, not running,
    // which is no error (the contract).
    if (!answer.ok() && dir.liveness() != session::Liveness::Alive) return {};
    // A project's state root (<project>/.fracta/sessions): its event log.
    const std::string suffix = "/.fracta/sessions";
    const bool in_project = ctx.root.size() > suffix.size() &&
                            ctx.root.compare(ctx.root.size() - suffix.size(), suffix.size(), suffix) == 0;
    const std::string project = in_project ? ctx.root.substr(0, ctx.root.size() - suffix.size()) : "";
    return report_nudge(nudge_events("fracta-spawn-local", ctx.self_exe, project), dir.name(), text, wait, answer,
                        started, io);
}

Status nudge_op(const std::string& name, const std::string& text, const std::vector<std::string>& options,
                const LocalContext& ctx, Io& io) {
    FRACTA_TRY_ASSIGN(wait, nudge_wait(options));
    session::SessionDir dir(ctx.root, name);
    // Not running: nothing to type into, and not an error (the contract).
    if (dir.liveness() != session::Liveness::Alive) return {};
    return deliver_nudge(dir, text, wait, ctx, io);
}

}  // namespace fracta::provider
