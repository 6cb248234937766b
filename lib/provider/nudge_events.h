// nudge_events.h — the nudge.delivered / nudge.failed events both providers
// record for a nudge that waited for the program's reaction (issue 24).
//
// Where they go: Gas City's events provider when the caller names one
// (GC_EVENTS=exec:PATH), else `fracta-events record` (beside this binary,
// else on PATH) when there is an event log: FRACTA_EVENTS_STORE, or a fracta
// project (fracta-events then finds its store from `project_dir`). None: no
// event. The text stays out of the log; its digest, length, time taken and
// the supervisor's typing order are in.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "provider/contract.h"

namespace fracta::provider {

struct NudgeEvents {
    std::string actor;                  // fracta-spawn-local | fracta-spawn-k8s
    std::vector<std::string> recorder;  // argv; empty: no event
    std::string cwd;                    // where the recorder runs ("": ours)
};

// `self_exe`: this binary (fracta-events is looked for beside it);
// `project_dir`: the fracta project the session belongs to, "" if none.
NudgeEvents nudge_events(const std::string& actor, const std::string& self_exe, const std::string& project_dir);

// The outcome of a supervisor's nudge answer (control.h) for session
// `name`: an ended session is no error and no event; with `wait` > 0 the
// event is recorded. The caller's status: the answer's error, if any, named
// "nudge NAME".
Status report_nudge(const NudgeEvents& events, const std::string& name, const std::string& text,
                    std::chrono::milliseconds wait, const Result<Json>& answer,
                    std::chrono::steady_clock::time_point started, Io& io);

}  // namespace fracta::provider
