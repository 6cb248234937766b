// api_watch.cc — the routes that wait on an agent: `watch` (an SSE stream
// of its events, resumable by Last-Event-ID) and `wait` (a long poll until
// it ends). Both hold a store connection of their own, listening on the
// event log's channel, so they wake as soon as something is recorded.
#include <chrono>

#include "base/cli.h"
#include "base/units.h"
#include "cp/api.h"
#include "events/log.h"
#include "http/sse.h"

namespace fracta::cp::routes_impl {

using agents::Agent;
using agents::Agents;
namespace {

using http::Request;
using http::Response;
using Clock = std::chrono::steady_clock;

constexpr auto kPingEvery = std::chrono::seconds(15);
// Streams wake at least this often, so a server shutting down never waits long.
constexpr auto kSlice = std::chrono::milliseconds(1000);

Result<std::unique_ptr<store::Store>> listening_store(Context& ctx) {
    FRACTA_TRY_ASSIGN(store, ctx.pool.open_dedicated());
    FRACTA_TRY(store->listen(events::kChannel));
    return store;
}

Result<std::optional<Agent>> load(store::Store& store, const std::string& task) { return Agents(store).get(task); }

std::string frame(const events::Event& e) {
    return http::sse_frame(e.type, events::event_line(e), std::to_string(e.seq));
}

// One watch stream: a snapshot of the agent, then its events after the
// cursor as they come; it ends once the agent has ended and every event
// up to that point was sent.
struct WatchStream {
    Context& ctx;
    std::string task;
    uint64_t cursor = 0;
    std::unique_ptr<store::Store> store;
    bool snapshot_sent = false;
    Clock::time_point last_sent = Clock::now();

    bool next(std::string& chunk) {
        if (!snapshot_sent) {
            auto agent = load(*store, task);
            if (!agent.ok() || !*agent) return false;
            chunk = http::sse_frame("snapshot", to_line((*agent)->to_json()));
            snapshot_sent = true;
            last_sent = Clock::now();
            return true;
        }
        auto agent = load(*store, task);  // before the events: a terminal status means its event is in
        if (!agent.ok()) return wait_a_little(chunk);
        events::Filter filter;
        filter.subject = task;
        filter.after_seq = cursor;
        filter.limit = 200;
        auto list = events::EventLog(*store).list(filter);
        if (!list.ok()) return wait_a_little(chunk);
        if (!list->empty()) {
            for (const auto& e : *list) {
                chunk += frame(e);
                cursor = e.seq;
            }
            last_sent = Clock::now();
            return true;
        }
        if (!*agent || is_terminal((*agent)->status)) return false;
        return wait_a_little(chunk);
    }

    bool wait_a_little(std::string& chunk) {
        (void)store->wait_change(kSlice, -1);
        if (Clock::now() - last_sent >= kPingEvery) {
            chunk = ": ping\n\n";
            last_sent = Clock::now();
        }
        return true;
    }
};

Result<uint64_t> after_seq_of(const Request& req) {
    std::string text = req.header("last-event-id");
    if (text.empty()) text = req.query_param("after_seq", "0");
    auto n = cli::parse_int("after_seq", text);
    if (!n.ok()) return usage_error("after_seq / Last-Event-ID: must be a non-negative integer");
    return static_cast<uint64_t>(*n);
}

}  // namespace

Response watch(Context& ctx, const Request& req) {
    const std::string& task = req.params.at("task");
    if (Status valid = check_task_name(task); !valid.ok()) return error_response(valid.error());
    auto after = after_seq_of(req);
    if (!after.ok()) return error_response(after.error());
    auto store = listening_store(ctx);
    if (!store.ok()) return error_response(store.error());
    auto agent = load(**store, task);
    if (!agent.ok()) return error_response(agent.error());
    if (!*agent) return Response::error(404, "agent \"" + task + "\" not found");
    auto stream = std::make_shared<WatchStream>(WatchStream{ctx, task, *after, std::move(*store)});
    return Response::stream([stream](std::string& chunk) { return stream->next(chunk); });
}

Response wait(Context& ctx, const Request& req) {
    const std::string& task = req.params.at("task");
    if (Status valid = check_task_name(task); !valid.ok()) return error_response(valid.error());
    std::string text = req.query_param("timeout", "30s");
    if (text.find_first_not_of("0123456789") == std::string::npos) text += "s";
    auto timeout = parse_duration(text);
    if (!timeout.ok() || timeout->count() < 0 || *timeout > std::chrono::hours(1))
        return Response::error(400, "timeout: must be a duration up to 1h, such as 30s");
    auto store = listening_store(ctx);
    if (!store.ok()) return error_response(store.error());
    const auto deadline = Clock::now() + *timeout;
    for (;;) {
        auto agent = load(**store, task);
        if (!agent.ok()) return error_response(agent.error());
        if (!*agent) return Response::error(404, "agent \"" + task + "\" not found");
        if (is_terminal((*agent)->status)) return Response::json(200, (*agent)->to_json());
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0)
            return Response::error(408, "timed out waiting for agent \"" + task + "\" (" + (*agent)->status + ")");
        (void)(*store)->wait_change(std::min<std::chrono::milliseconds>(left, kSlice), -1);
    }
}

}  // namespace fracta::cp::routes_impl
