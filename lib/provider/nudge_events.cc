#include "provider/nudge_events.h"

#include <unistd.h>

#include <cstdlib>

#include "base/sha256.h"
#include "base/time.h"
#include "proc/run.h"

namespace fracta::provider {
namespace {

void record(const NudgeEvents& events, Io& io, const std::string& type, const std::string& name,
            const std::string& message, const Json& payload) {
    if (events.recorder.empty()) return;
    Json event = {{"type", type}, {"actor", events.actor}, {"subject", name}, {"message", message},
                  {"payload", payload}, {"ts", format_rfc3339(now())}};
    proc::Command c;
    c.argv = events.recorder;
    c.cwd = events.cwd;
    c.input = to_line(event);
    c.timeout = std::chrono::seconds(10);
    auto outcome = proc::run(c);
    if (!outcome.ok()) io.warn("event " + type + ": " + outcome.error().message);
    else if (!outcome->ok()) io.warn("event " + type + ": " + outcome->err.substr(0, outcome->err.find('\n')));
}

}  // namespace

NudgeEvents nudge_events(const std::string& actor, const std::string& self_exe, const std::string& project_dir) {
    NudgeEvents e;
    e.actor = actor;
    if (const char* gc = std::getenv("GC_EVENTS"); gc && std::string(gc).rfind("exec:", 0) == 0) {
        e.recorder = {std::string(gc).substr(5), "record"};
        return e;
    }
    const char* store = std::getenv("FRACTA_EVENTS_STORE");
    if (!(store && *store) && project_dir.empty()) return e;
    std::string events = self_exe.substr(0, self_exe.rfind('/') + 1) + "fracta-events";
    if (::access(events.c_str(), X_OK) != 0) events = "fracta-events";
    e.recorder = {events, "record"};
    if (!(store && *store)) e.cwd = project_dir;
    return e;
}

Status report_nudge(const NudgeEvents& events, const std::string& name, const std::string& text,
                    std::chrono::milliseconds wait, const Result<Json>& answer,
                    std::chrono::steady_clock::time_point started, Io& io) {
    // The command ended before the nudge reached it: not running, which is
    // no error (the contract).
    if (answer.ok() && answer->value("ended", false)) return {};
    if (wait.count() <= 0) return answer.ok() ? Status{} : Status(answer.error());
    const long long ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    Json payload = {{"session", name}, {"bytes", text.size()}, {"elapsed_ms", ms},
                    {"text_sha256", sha256_hex(text).substr(0, 16)}};
    if (answer.ok()) {
        if (answer->contains("ordinal")) payload["ordinal"] = (*answer)["ordinal"];
        record(events, io, "nudge.delivered", name, "the program reacted", payload);
        return {};
    }
    payload["error"] = answer.error().message;
    record(events, io, "nudge.failed", name, answer.error().message, payload);
    Error e = answer.error();
    e.message = "nudge " + name + ": " + e.message;
    return e;
}

}  // namespace fracta::provider
