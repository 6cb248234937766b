#include "cp/outcome.h"

#include <cmath>

#include "base/time.h"
#include "base/units.h"
#include "proc/run.h"

namespace fracta::cp {

using agents::Changes;
namespace {

// A refused Write may carry a whole file: the event keeps its start.
constexpr size_t kMaxDeniedInput = 2048;
// What of a failing check's output becomes the reason: its end, where the
// verdict usually is.
constexpr size_t kMaxCheckOutput = 2048;

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) text.pop_back();
    return text;
}

events::Event denied_event(const runtime::DeniedTool& d, const std::string& task, const std::string& runtime) {
    events::Event e;
    e.type = "agent.tool_denied";
    e.ts = format_rfc3339(now());
    e.actor = task;
    e.subject = task;
    e.message = runtime + " refused " + d.tool;
    std::string input = d.input.size() > kMaxDeniedInput ? d.input.substr(0, kMaxDeniedInput) + "..." : d.input;
    Json payload = {{"category", "agent"}, {"runtime", runtime}, {"tool", d.tool}, {"input", input},
                    {"severity", "warn"}};
    if (!d.id.empty()) payload["id"] = d.id;
    e.payload = to_line(payload);
    return e;
}

}  // namespace

Changes run_changes(const runtime::RunResult& r, const std::string& task, const std::string& runtime) {
    Changes c;
    c.last_output = r.text;
    c.resume_token = r.resume_token;
    c.turns = r.usage.turns;
    c.input_tokens = r.usage.input_tokens;
    c.output_tokens = r.usage.output_tokens;
    if (r.usage.cost_usd && std::isfinite(*r.usage.cost_usd) && *r.usage.cost_usd >= 0)
        c.cost_micro_usd = std::llround(*r.usage.cost_usd * 1e6);
    for (const auto& d : r.denied) c.events.push_back(denied_event(d, task, runtime));
    return c;
}

Result<CheckOutcome> run_check(const std::string& command, const std::string& workspace,
                               const std::map<std::string, std::string>& env, std::chrono::milliseconds timeout) {
    proc::Command c = proc::shell("{\n" + command + "\n} 2>&1");
    c.cwd = workspace;
    c.env = env;
    c.timeout = timeout;
    c.max_output = size_t{1} << 20;
    FRACTA_TRY_ASSIGN(outcome, proc::run(c));
    CheckOutcome result;
    if (outcome.ok()) {
        result.passed = true;
        return result;
    }
    std::string output = trimmed(outcome.out);
    if (output.size() > kMaxCheckOutput) output = "..." + output.substr(output.size() - kMaxCheckOutput);
    result.reason = outcome.timed_out ? "check timed out after " + format_duration(timeout)
                                      : "check failed (exit " + std::to_string(outcome.exit_code) + ")";
    if (!output.empty()) result.reason += ": " + output;
    return result;
}

}  // namespace fracta::cp
