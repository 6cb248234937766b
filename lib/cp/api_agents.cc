// api_agents.cc — the agent routes: spawn, read, kill, talk to, merge.
#include <filesystem>

#include "base/cli.h"
#include "base/sha256.h"
#include "base/time.h"
#include "cp/admit.h"
#include "cp/api.h"
#include "cp/mailbox.h"
#include "cp/spawn.h"
#include "events/log.h"
#include "git/git.h"
#include "git/remote.h"
#include "queue/queue.h"

namespace fracta::cp::routes_impl {

using agents::Agent;
using agents::Agents;
using agents::Changes;
using agents::choose_runtime;
namespace {

using http::Request;
using http::Response;

Response not_found(const std::string& task) { return Response::error(404, "agent \"" + task + "\" not found"); }
// 429: the reader must consume before more can come (agents.mailbox_max).
Response mailbox_full(const Context& ctx, const std::string& task) {
    return Response::error(429, "the mailbox of \"" + task + "\" is full: " +
                                    std::to_string(mailbox_max(ctx.settings.config)) +
                                    " unread messages (agents.mailbox_max); it takes more once they are read");
}

// The agent named by the route, or the response to give instead.
struct Found {
    std::optional<Agent> agent;
    Response response;
};
Found find_agent(Context& ctx, const Request& req) {
    const std::string& task = req.params.at("task");
    if (!check_task_name(task).ok()) return {std::nullopt, Response::error(400, check_task_name(task).error().message)};
    auto store = ctx.pool.acquire();
    if (!store.ok()) return {std::nullopt, error_response(store.error())};
    auto got = Agents(**store).get(task);
    if (!got.ok()) return {std::nullopt, error_response(got.error())};
    if (!*got) return {std::nullopt, not_found(task)};
    return {std::move(*got), {}};
}

Result<int> int_query(const Request& req, const std::string& name, int fallback) {
    std::string text = req.query_param(name);
    if (text.empty()) return fallback;
    auto n = cli::parse_int(name, text);
    if (!n.ok() || *n > 1000000) return usage_error(name + ": must be a non-negative integer");
    return static_cast<int>(*n);
}

// The last `lines` lines of `text` (0: all).
std::string last_lines(const std::string& text, int lines) {
    if (lines <= 0) return text;
    size_t end = text.size();
    if (end > 0 && text[end - 1] == '\n') --end;
    size_t pos = end;
    for (int n = 0; n < lines; ++n) {
        size_t nl = text.rfind('\n', pos == 0 ? 0 : pos - 1);
        if (nl == std::string::npos || pos == 0) return text;
        pos = nl;
    }
    return text.substr(pos + 1);
}

void record_event(store::Store& store, const std::string& type, const std::string& task, const std::string& message) {
    events::Event e;
    e.type = type;
    e.ts = format_rfc3339(now());
    e.actor = "cp";
    e.subject = task;
    e.message = message;
    (void)events::EventLog(store).append(e);
}

// `say` to a batch agent that has ended: when its runtime can resume the
// conversation, a follow-up run with the message as its prompt (the agent is
// Queued again, its worktree and branch kept); otherwise a 409.
Response follow_up(Context& ctx, const Agent& a, const std::string& message) {
    auto choice = choose_runtime(ctx.settings.config, a.runtime);
    if (a.mode == "stream" || a.status == status::Stopped || a.resume_token.empty() || !choice.ok() ||
        !choice->runtime->supports_resume())
        return Response::error(409, "agent \"" + a.name + "\" has ended (" + a.status + ") and cannot be resumed");
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    int64_t mission_id = 0;
    bool moved = false;
    Status queued = (*store)->transaction([&]() -> Status {
        Changes c;
        c.provider = "";  // no start asked for yet: the next claim starts a new session
        c.clear_ended = true;
        c.reason = "";
        FRACTA_TRY_ASSIGN(done, Agents(**store).transition_in_tx(a.name, {status::Completed, status::Failed},
                                                                  status::Queued, c, "follow-up: " + message));
        moved = done;
        if (!moved) return {};
        Json payload = {{"task", a.name}, {"prompt", message}, {"follow_up", true}};
        FRACTA_TRY_ASSIGN(id, queue::Queue(**store).enqueue_in_tx(a.name, payload, 0,
                                                                   ctx.settings.config.queue.max_attempts));
        mission_id = id;
        return {};
    });
    if (!queued.ok()) return error_response(queued.error());
    if (!moved) return Response::error(409, "agent \"" + a.name + "\" changed meanwhile; try again");
    return Response::json(200, {{"status", "dispatched"}, {"delivery", "resume"}, {"mission_id", mission_id}});
}

}  // namespace

Response spawn(Context& ctx, const Request& req) {
    auto body = json_body(req);
    if (!body.ok()) return error_response(body.error());
    auto plan = plan_spawn(*body, ctx.settings);
    if (!plan.ok()) return error_response(plan.error());
    return record_spawn(ctx, *plan).response;
}

Response list(Context& ctx, const Request& req) {
    std::string status = req.query_param("status");
    if (!status.empty() && !is_status(status))
        return Response::error(400, "unknown status \"" + status +
                                        "\" (Pending, Queued, Running, Idle, Completed, Failed, Stopped)");
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    return list_response("agents", Agents(**store).list(status));
}

Response get(Context& ctx, const Request& req) {
    Found f = find_agent(ctx, req);
    if (!f.agent) return f.response;
    return Response::json(200, {{"agent", f.agent->to_json()}});
}

Response kill(Context& ctx, const Request& req) {
    auto body = json_body(req, false);
    if (!body.ok()) return error_response(body.error());
    bool keep_files = false;
    if (body->contains("keep_files")) {
        if (!(*body)["keep_files"].is_boolean()) return Response::error(400, "keep_files: must be true or false");
        keep_files = (*body)["keep_files"].get<bool>();
    }
    Found f = find_agent(ctx, req);
    if (!f.agent) return f.response;
    const Agent& a = *f.agent;
    if (is_terminal(a.status))
        return Response::json(200, {{"agent", a.name}, {"status", a.status}, {"message", "already ended"}});
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    Agents agents(**store);
    Status cancelled = (*store)->transaction([&]() -> Status {
        FRACTA_TRY(agents.request_cancel(a.name));
        FRACTA_TRY(queue::Queue(**store).cancel_for_task_in_tx(a.name));
        Changes c;
        c.reason = "killed";
        c.set_ended = true;
        FRACTA_TRY(agents.transition_in_tx(a.name, {status::Pending, status::Queued, status::Running, status::Idle},
                                           status::Stopped, c, "killed"));
        return {};
    });
    if (!cancelled.ok()) return error_response(cancelled.error());
    // The session goes now, not when the owning worker next looks: a late
    // exit then finds Stopped and changes nothing.
    if (Status stopped = ctx.provider.stop(a.name); !stopped.ok())
        return Response::error(502, "agent stopped, but its session may live on: " + stopped.error().message);
    Json answer = {{"agent", a.name}, {"status", status::Stopped}, {"keep_files", keep_files}};
    if (!keep_files && ctx.settings.in_git && ctx.settings.config.backend != "kubernetes" &&
        std::filesystem::exists(a.workspace)) {
        // The agent is stopped either way; a worktree git would not remove
        // (locked, say) stays, and the answer says why.
        if (Status removed = git::remove_worktree(ctx.settings.root, a.workspace, true); !removed.ok())
            answer["message"] = "worktree kept: " + removed.error().message;
    }
    return Response::json(200, answer);
}

Response say(Context& ctx, const Request& req) {
    auto body = json_body(req);
    if (!body.ok()) return error_response(body.error());
    if (!body->contains("message") || !(*body)["message"].is_string() || (*body)["message"].get<std::string>().empty())
        return Response::error(400, "message: required (a non-empty string)");
    const std::string message = (*body)["message"].get<std::string>();
    std::string from = "user";
    if (body->contains("from") && (*body)["from"].is_string()) from = (*body)["from"].get<std::string>();
    Found f = find_agent(ctx, req);
    if (!f.agent) return f.response;
    const Agent& a = *f.agent;
    if (is_terminal(a.status)) return follow_up(ctx, a, message);
    if (a.mode == "stream" && a.status == status::Running) {
        if (Status sent = ctx.provider.nudge(a.name, message); !sent.ok())
            return Response::error(502, "say: " + sent.error().message);
        return Response::json(200, {{"status", "dispatched"}, {"delivery", "session"}});
    }
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    auto id = Mailbox(**store, mailbox_max(ctx.settings.config)).send(from, a.name, message);
    if (!id.ok()) return error_response(id.error());
    if (*id == 0) return mailbox_full(ctx, a.name);
    return Response::json(200, {{"status", "dispatched"}, {"delivery", "inbox"}, {"message_id", *id}});
}

Response peek(Context& ctx, const Request& req) {
    auto lines = int_query(req, "lines", 50);
    if (!lines.ok()) return error_response(lines.error());
    Found f = find_agent(ctx, req);
    if (!f.agent) return f.response;
    auto out = ctx.provider.peek(f.agent->name, *lines);
    if (!out.ok()) return Response::error(502, "peek: " + out.error().message);
    return Response::json(200, {{"output", *out}});
}

Response logs(Context& ctx, const Request& req) {
    auto lines = int_query(req, "lines", 0);
    if (!lines.ok()) return error_response(lines.error());
    const int wanted = *lines == 0 ? 100 : *lines;
    Found f = find_agent(ctx, req);
    if (!f.agent) return f.response;
    auto whole = ctx.provider.logs(f.agent->name);
    if (!whole.ok()) return Response::error(502, "logs: " + whole.error().message);
    if (*whole) return Response::json(200, {{"output", last_lines(**whole, wanted)}});
    auto out = ctx.provider.peek(f.agent->name, wanted);  // a provider without `logs`
    if (!out.ok()) return Response::error(502, "logs: " + out.error().message);
    if (out->empty() && !f.agent->last_output.empty()) return Response::json(200, {{"output", f.agent->last_output}});
    return Response::json(200, {{"output", *out}});
}

Response merge(Context& ctx, const Request& req) {
    Found f = find_agent(ctx, req);
    if (!f.agent) return f.response;
    if (f.agent->branch.empty())
        return Response::error(409, "agent \"" + f.agent->name + "\" has no branch (the project is not in git)");
    // A Kubernetes agent's branch lives on the remote its pod pushed to.
    if (f.agent->provider == "kubernetes")
        if (Status fetched = git::fetch_branch(ctx.settings.root, "origin", f.agent->branch); !fetched.ok())
            return Response::error(409, fetched.error().message);
    auto merged = git::merge_no_ff(ctx.settings.root, f.agent->branch);
    if (!merged.ok()) return Response::error(409, merged.error().message);
    auto store = ctx.pool.acquire();
    if (merged->conflict) {
        if (store.ok()) record_event(**store, "merge.conflict", f.agent->name, merged->message);
        return Response::json(409, {{"error", merged->message}, {"conflicts", merged->conflicted_files}});
    }
    if (store.ok()) record_event(**store, "merge.completed", f.agent->name, merged->message);
    return Response::json(200, {{"status", "merged"}, {"message", merged->message}, {"commit", merged->commit}});
}

Response events_get(Context& ctx, const Request& req) {
    auto last = int_query(req, "last", 0);
    if (!last.ok()) return error_response(last.error());
    std::string after = req.query_param("after_seq", "0");
    auto after_seq = cli::parse_int("after_seq", after);
    if (!after_seq.ok()) return Response::error(400, "after_seq: must be a non-negative integer");
    Found f = find_agent(ctx, req);
    if (!f.agent) return f.response;
    events::Filter filter;
    filter.subject = f.agent->name;
    filter.after_seq = static_cast<uint64_t>(*after_seq);
    filter.limit = *last > 0 ? static_cast<uint64_t>(*last) : 0;
    filter.newest = *last > 0;
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    return list_response("events", events::EventLog(**store).list(filter), events::event_to_json);
}

Response events_post(Context& ctx, const Request& req) {
    auto body = json_body(req);
    if (!body.ok()) return error_response(body.error());
    if (!body->contains("events") || !(*body)["events"].is_array())
        return Response::error(400, "events: required (an array of events)");
    Found f = find_agent(ctx, req);
    if (!f.agent) return f.response;
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    int accepted = 0, dropped = 0;
    for (Json item : (*body)["events"]) {
        if (item.is_object() && (!item.contains("subject") || item["subject"] == "")) item["subject"] = f.agent->name;
        if (item.is_object() && (!item.contains("actor") || item["actor"] == "")) item["actor"] = f.agent->name;
        auto e = item.is_object() ? events::event_from_json(item, now()) : Result<events::Event>(usage_error("not an object"));
        if (!e.ok() || e->subject != f.agent->name) {  // an agent speaks only about itself
            ++dropped;
            continue;
        }
        auto seq = events::EventLog(**store).append(*e);
        if (!seq.ok()) return error_response(seq.error());
        ++accepted;
    }
    return Response::json(202, {{"accepted", accepted}, {"dropped", dropped}});
}

Response send_message(Context& ctx, const Request& req) {
    auto body = json_body(req);
    if (!body.ok()) return error_response(body.error());
    for (const char* key : {"from", "to", "message"})
        if (!body->contains(key) || !(*body)[key].is_string() || (*body)[key].get<std::string>().empty())
            return Response::error(400, std::string(key) + ": required (a non-empty string)");
    const std::string to = (*body)["to"].get<std::string>();
    if (Status valid = check_task_name(to); !valid.ok()) return error_response(valid.error());
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    auto target = Agents(**store).get(to);
    if (!target.ok()) return error_response(target.error());
    if (!*target) return not_found(to);
    auto id = Mailbox(**store, mailbox_max(ctx.settings.config))
                  .send((*body)["from"].get<std::string>(), to, (*body)["message"].get<std::string>());
    if (!id.ok()) return error_response(id.error());
    if (*id == 0) return mailbox_full(ctx, to);
    return Response::json(201, {{"id", *id}, {"status", "sent"}});
}

Response inbox(Context& ctx, const Request& req) {
    Found f = find_agent(ctx, req);
    if (!f.agent) return f.response;
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    return list_response("messages", Mailbox(**store).consume(f.agent->name));
}

// What the agent says it is doing now (shows in lists), and an event.
Response intent(Context& ctx, const Request& req) {
    auto body = json_body(req);
    if (!body.ok()) return error_response(body.error());
    if (!body->contains("intent") || !(*body)["intent"].is_string() || (*body)["intent"].get<std::string>().size() > 4096)
        return Response::error(400, "intent: required (a string of at most 4096 bytes)");
    Found f = find_agent(ctx, req);
    if (!f.agent) return f.response;
    const std::string text = (*body)["intent"].get<std::string>();
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    if (Status set = Agents(**store).set_intent(f.agent->name, text); !set.ok()) return error_response(set.error());
    record_event(**store, "agent.intent", f.agent->name, text);
    return Response::json(200, {{"agent", f.agent->name}, {"current_intent", text}});
}

// For the gateway: does this token belong to this agent, and what may it use?
// Only hashes are compared (constant time); an ended agent's token is dead.
Response verify(Context& ctx, const Request& req) {
    auto body = json_body(req);
    if (!body.ok()) return error_response(body.error());
    for (const char* key : {"task", "token"})
        if (!body->contains(key) || !(*body)[key].is_string())
            return Response::error(400, std::string(key) + ": required (a string)");
    const std::string task = (*body)["task"].get<std::string>();
    if (!check_task_name(task).ok()) return Response::error(401, "invalid token");
    auto store = ctx.pool.acquire();
    if (!store.ok()) return error_response(store.error());
    auto agent = Agents(**store).get(task);
    if (!agent.ok()) return error_response(agent.error());
    const std::string presented = sha256_hex((*body)["token"].get<std::string>());
    if (!*agent || (*agent)->token_hash.empty() || is_terminal((*agent)->status) ||
        !constant_time_equal(presented, (*agent)->token_hash)) {
        // A live agent's token used on another agent's endpoint: forbidden,
        // not unauthenticated (the hash is the lookup key; no secret compared).
        auto owner = (*store)->query("SELECT name FROM agents WHERE token_hash = ? AND status NOT IN "
                                     "('Completed', 'Failed', 'Stopped')",
                                     {presented});
        if (owner.ok() && !owner->empty() && owner->front().text(0) != task)
            return Response::error(403, "this token belongs to another agent");
        return Response::error(401, "invalid token");
    }
    return Response::json(200, {{"task", task},
                                {"runtime", (*agent)->runtime},
                                {"allowed_tools", ctx.settings.config.allowed_tools}});
}

}  // namespace fracta::cp::routes_impl
