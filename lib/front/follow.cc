// follow.cc — the verbs that follow one agent over time: `wait` (long polls
// of …/wait in slices) and `watch` (the SSE stream of …/watch, resumed after
// drops from the last seq seen).
#include <algorithm>
#include <thread>

#include "base/agent.h"
#include "base/text.h"
#include "front/format.h"
#include "front/verbs.h"

namespace fracta::front {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// One long poll lasts at most this long, so that proxies and idle timeouts
// between us and the control plane never see a silent minute.
constexpr seconds kWaitSlice{60};
// Heartbeats come every 15 s; this much silence means the stream is dead.
constexpr milliseconds kWatchSilence{60000};
constexpr milliseconds kBackoffMin{500}, kBackoffMax{5000};
// A watch gives up when reconnecting has failed for this long in a row.
constexpr milliseconds kReconnectFor{60000};

// lifecycle.Completed and the like (compared without case: other writers of
// the log may spell the suffix in lower case).
bool is_terminal_event(const std::string& type) {
    std::string t = lower(type);
    return t == "lifecycle.completed" || t == "lifecycle.failed" || t == "lifecycle.stopped";
}

// The agent object of an answer that is either the Agent or {"agent": Agent}.
const Json& agent_of(const Json& answer) {
    auto it = answer.find("agent");
    return it != answer.end() && it->is_object() ? *it : answer;
}

std::string string_of(const Json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Status wait_for(Context& ctx, cpapi::Client& api, const std::string& task, Duration total) {
    const auto deadline = Clock::now() + total;
    for (;;) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        if (left.count() < 0) left = milliseconds(0);
        // Whole seconds, rounded up: a wait never ends before its deadline.
        auto slice = std::min(std::chrono::ceil<seconds>(left), kWaitSlice);
        FRACTA_TRY_ASSIGN(end, api.wait(task, slice));
        if (end.timed_out) {
            if (Clock::now() < deadline) continue;
            return temporary_error("timed out after " + format_duration(total));
        }
        const Json& agent = agent_of(end.answer);
        FRACTA_TRY(ctx.text() ? ctx.io.write(key_values(agent)) : ctx.io.write(to_line(end.answer) + "\n"));
        std::string status = string_of(agent, "status");
        if (status == status::Completed) return {};
        std::string reason = string_of(agent, "reason");
        if (is_terminal(status)) return failure(status + (reason.empty() ? "" : ": " + reason));
        return failure("the control plane ended the wait with the agent still " +
                       (status.empty() ? std::string("in an unknown state") : status));
    }
}

Status watch(Context& ctx, cpapi::Client& api, const std::string& task, uint64_t after_seq) {
    bool shown_snapshot = false;
    bool terminal = false;  // the latest snapshot said the agent has ended
    bool finished = false;  // a terminal lifecycle event went by: done
    Status output;          // a failed write to stdout ends everything
    milliseconds backoff = kBackoffMin;
    auto failing_since = Clock::now();
    bool connected_once = false;

    auto on_frame = [&](const http::SseEvent& frame) -> bool {
        auto data = parse_json(frame.data);
        if (frame.type == "snapshot") {
            const Json& agent = data.ok() ? agent_of(*data) : Json::object();
            terminal = is_terminal(string_of(agent, "status"));
            if (shown_snapshot) return true;  // a reconnect's snapshot: state only
            shown_snapshot = true;
            if (ctx.text())
                output = ctx.io.write(snapshot_line(agent));
            else
                output = ctx.io.write((data.ok() ? to_line(*data) : frame.data) + "\n");
            return output.ok();
        }
        uint64_t seq = 0;
        if (data.ok() && data->is_object() && data->contains("seq") && (*data)["seq"].is_number_unsigned())
            seq = (*data)["seq"].get<uint64_t>();
        else if (auto id = cli::parse_int("id", frame.id); id.ok())
            seq = static_cast<uint64_t>(*id);
        if (seq != 0 && seq <= after_seq) return true;  // seen before a reconnect
        if (seq != 0) after_seq = seq;
        if (ctx.text())
            output = ctx.io.write(data.ok() ? event_line(*data) : frame.data + "\n");
        else
            output = ctx.io.write((data.ok() ? to_line(*data) : frame.data) + "\n");
        std::string type = frame.type != "message" ? frame.type : data.ok() ? string_of(*data, "type") : "";
        if (is_terminal_event(type)) finished = true;
        return output.ok() && !finished;
    };

    for (;;) {
        bool got_data = false;  // anything at all, heartbeats included: the connection worked
        auto response = api.watch(task, after_seq, on_frame, kWatchSilence, got_data);

        if (!output.ok()) return output;
        if (finished) return {};
        if (response.ok() && !cpapi::is_success(response->status))
            return cpapi::http_error(response->status, response->head);
        if (response.ok() && terminal) return {};  // the agent had ended and the server closed the stream
        if (!response.ok() && response.error().kind != ErrorKind::Temporary) return response.error();
        if (!response.ok() && !connected_once) return response.error();  // nothing there at all

        // A dropped (or cleanly ended) stream of a live agent: resume from
        // the last seq, backing off while the control plane is away.
        connected_once = true;
        if (got_data) {
            backoff = kBackoffMin;
            failing_since = Clock::now();
        } else if (Clock::now() - failing_since > kReconnectFor) {
            return response.ok() ? temporary_error("the watch stream keeps ending without a word") : response.error();
        }
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, kBackoffMax);
        api.refresh();  // a restarted local daemon may answer on another port
    }
}

}  // namespace fracta::front
