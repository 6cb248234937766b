// local_nudge.cc — `fracta-spawn-local nudge NAME [--no-wait] [--timeout S]`
// and the startup nudge: typed by the supervisor (session/terminal_input.h),
// confirmed by the program's reaction, recorded as a nudge.delivered or
// nudge.failed event.
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "base/sha256.h"
#include "base/time.h"
#include "proc/run.h"
#include "provider/local.h"
#include "provider/control.h"

namespace fracta::provider {
namespace {

// Where the events go: Gas City's events provider when it names one
// (GC_EVENTS=exec:PATH), else fracta-events next to us when the caller has
// an event log (FRACTA_EVENTS_STORE, or a fracta project). None: no event.
std::vector<std::string> events_recorder(const LocalContext& ctx) {
    if (const char* gc = std::getenv("GC_EVENTS"); gc && std::string(gc).rfind("exec:", 0) == 0)
        return {std::string(gc).substr(5), "record"};
    const char* store = std::getenv("FRACTA_EVENTS_STORE");
    const std::string suffix = "/.fracta/sessions";
    bool in_project = ctx.root.size() > suffix.size() && ctx.root.compare(ctx.root.size() - suffix.size(), suffix.size(), suffix) == 0;
    if (!(store && *store) && !in_project) return {};
    std::string dir = ctx.self_exe.substr(0, ctx.self_exe.rfind('/') + 1);
    std::string events = dir + "fracta-events";
    if (::access(events.c_str(), X_OK) != 0) events = "fracta-events";
    return {events, "record"};
}

void record(const LocalContext& ctx, Io& io, const std::string& type, const std::string& name,
            const std::string& message, const Json& payload) {
    auto argv = events_recorder(ctx);
    if (argv.empty()) return;
    Json event = {{"type", type}, {"actor", "fracta-spawn-local"}, {"subject", name}, {"message", message},
                  {"payload", payload}, {"ts", format_rfc3339(now())}};
    proc::Command c;
    c.argv = argv;
    c.input = to_line(event);
    c.timeout = std::chrono::seconds(10);
    auto outcome = proc::run(c);
    if (!outcome.ok()) io.warn("event " + type + ": " + outcome.error().message);
    else if (!outcome->ok()) io.warn("event " + type + ": " + outcome->err.substr(0, outcome->err.find('\n')));
}

}  // namespace

Status deliver_nudge(const session::SessionDir& dir, const std::string& text, std::chrono::milliseconds wait,
                     const LocalContext& ctx, Io& io) {
    const auto started = std::chrono::steady_clock::now();
    auto answer = SupervisorControl::unix_socket(dir.file("control.sock")).nudge(text, wait);
    // The command ended before the nudge reached it (the supervisor said so,
    // or had already gone): not running, which is no error (the contract).
    if (answer.ok() && answer->value("ended", false)) return {};
    if (!answer.ok() && dir.liveness() != session::Liveness::Alive) return {};
    if (wait.count() <= 0) return answer.ok() ? Status{} : Status(answer.error());
    const long long ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    // The text itself stays out of the log (it may hold anything); its digest
    // and the supervisor's typing order let a reader match nudges to what the
    // program received.
    Json payload = {{"session", dir.name()}, {"bytes", text.size()}, {"elapsed_ms", ms},
                    {"text_sha256", sha256_hex(text).substr(0, 16)}};
    if (answer.ok()) {
        if (answer->contains("ordinal")) payload["ordinal"] = (*answer)["ordinal"];
        record(ctx, io, "nudge.delivered", dir.name(), "the program reacted", payload);
        return {};
    }
    payload["error"] = answer.error().message;
    record(ctx, io, "nudge.failed", dir.name(), answer.error().message, payload);
    Error e = answer.error();
    e.message = "nudge " + dir.name() + ": " + e.message;
    return e;
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
