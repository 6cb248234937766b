#include "cp/worker.h"

#include <algorithm>
#include <chrono>

#include "agents/agents.h"
#include "agents/leases.h"
#include "base/io.h"
#include "base/sha256.h"
#include "base/time.h"
#include "cp/outcome.h"
#include "cp/secrets.h"
#include "cp/start_json.h"
#include "git/git.h"
#include "proc/run.h"
#include "queue/queue.h"
#include "session/workspace.h"

namespace fracta::cp {

using agents::Agent;
using agents::Agents;
using agents::Changes;
using agents::expire_leases;
using agents::RuntimeChoice;
using agents::choose_runtime;
namespace {

// The error of an agent pod's supervisor, if the output ends with one.
std::string supervisor_error(const std::string& tail) {
    static const std::string kPrefix = "fracta-spawn-local: error: ";
    std::string t = tail;
    while (!t.empty() && t.back() == '\n') t.pop_back();
    auto nl = t.rfind('\n');
    std::string last = nl == std::string::npos ? t : t.substr(nl + 1);
    return last.rfind(kPrefix, 0) == 0 ? last.substr(kPrefix.size()) : "";
}


using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kIdleWait{200};  // an idle worker looks for ends to settle this often

int64_t steady_ms() {
    return std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count();
}

// What one provider call (but `start`) may take: its op_timeout, at most the start budget.
milliseconds op_budget(const Context& ctx) {
    return agents::provider_options(ctx.settings).op_timeout;
}

milliseconds lease_of(const Context& ctx) {
    return std::chrono::duration_cast<milliseconds>(ctx.settings.config.queue.lease_timeout);
}

// One mission's start, or its end, on one worker thread's store connection.
class MissionRun {
public:
    MissionRun(Context& ctx, store::Store& store, queue::Queue& queue, std::string worker,
               const std::atomic<bool>& hand_back, queue::Mission mission)
        : ctx_(ctx), agents_(store), queue_(queue), worker_(std::move(worker)), hand_back_(hand_back),
          m_(std::move(mission)) {}

    // Claimed: start (or adopt) the session; once Running, the follower has it.
    void run(Follower& follower);
    // The follower saw it end (or a kill, or its time limit): settle it.
    void finish(const Ending& end);

private:
    Result<bool> session_exists();
    // Hold the claim for a lease plus `budget` before provider calls that
    // may take that long: between the claim and the follower's first beat
    // nothing else renews it, and a claim that ran out meanwhile is taken by
    // another worker, which would adopt the same session. False when the
    // claim is no longer ours (given back when the store failed).
    bool hold(std::chrono::milliseconds budget, const std::string& why);
    // A new session for the agent; false when it did not start (the mission
    // settled or given back).
    bool start_new(const Agent& agent, const RuntimeChoice& choice);
    // Queued → Running once the session is there; false when the mission
    // was settled or given back instead.
    bool mark_running(bool adopt);
    // mark_running found the row Running already, not killed.
    bool marked_by_earlier_claim();
    // After mark_starting: the worktree (when we make it), then provider `start`.
    Status start_session(const Agent& agent, const RuntimeChoice& choice, const std::string& token);
    void settle_exit(const Agent& agent, const RuntimeChoice& choice, const provider::WaitResult& ended);
    // When an agent with a timeout must have ended; none without one.
    std::optional<Clock::time_point> run_deadline(const Agent& agent) const;
    // Run the agent's check in its worktree: nothing when it passed (or there
    // is none), else why the agent failed.
    std::optional<std::string> check(const Agent& agent);
    // The agent's last transition, then the mission's end. Store errors are
    // retried for a while (a database restart); if it stays down, the mission
    // is left claimed: its lease runs out, and the next claim adopts the
    // ended session and settles it then. A mission is never acked while its
    // agent still looks alive.
    void settle(const std::vector<std::string>& from, const std::string& to, const Changes& changes,
                const std::string& message);
    void finish_failed(const std::string& reason, std::vector<std::string> from);
    void finish_stopped(const std::string& reason);
    void note(const std::string& level, const std::string& what) {
        ctx_.log(level, "mission " + std::to_string(m_.id) + " (" + m_.task + "): " + what);
    }
    void ack(Status s) {
        if (!s.ok() && !queue::lease_lost(s.error())) note("warn", s.error().message);
    }

    Context& ctx_;
    Agents agents_;
    queue::Queue& queue_;
    const std::string worker_;
    const std::atomic<bool>& hand_back_;
    queue::Mission m_;
    std::string runtime_;  // the agent's runtime, for the usage metrics
};

void MissionRun::settle(const std::vector<std::string>& from, const std::string& to, const Changes& changes,
                        const std::string& message) {
    Result<bool> moved = false;
    for (int delay_ms = 250;; delay_ms *= 2) {
        moved = agents_.transition(m_.task, from, to, changes, message);
        if (moved.ok() || moved.error().kind != ErrorKind::Temporary || delay_ms > 8000 || hand_back_) break;
        std::this_thread::sleep_for(milliseconds(delay_ms));
    }
    if (!moved.ok()) {
        note("warn", "left for a later claim: " + moved.error().message);
        return;
    }
    if (*moved && is_terminal(to)) ctx_.counters.add_usage(runtime_, changes);
    if (*moved && to == status::Completed) ++ctx_.counters.finished_completed;
    if (*moved && to == status::Failed) ++ctx_.counters.finished_failed;
    if (*moved && to == status::Stopped) ++ctx_.counters.finished_stopped;
    if (to == status::Failed) ack(queue_.fail(m_.id, worker_, changes.reason.value_or(message)));
    else ack(queue_.complete(m_.id, worker_));
}

void MissionRun::finish_failed(const std::string& reason, std::vector<std::string> from) {
    Changes c;
    c.reason = reason;
    c.set_ended = true;
    settle(from, status::Failed, c, reason);
}

void MissionRun::finish_stopped(const std::string& reason) {
    Changes c;
    c.reason = reason;
    c.set_ended = true;
    settle({status::Pending, status::Queued, status::Running, status::Idle}, status::Stopped, c, reason);
}

void MissionRun::run(Follower& follower) {
    auto found = agents_.get(m_.task);
    if (!found.ok()) {  // the store is down: give the mission back, someone retries
        ack(queue_.release(m_.id, worker_, found.error().message));
        return;
    }
    if (!*found) {
        ack(queue_.fail(m_.id, worker_, "agent \"" + m_.task + "\" not found"));
        return;
    }
    Agent agent = **found;
    runtime_ = agent.runtime;
    if (is_terminal(agent.status)) {  // killed before we got to it
        ack(queue_.complete(m_.id, worker_));
        return;
    }
    if (agent.cancel_requested) {
        finish_stopped("cancelled before start");
        return;
    }
    auto choice = choose_runtime(ctx_.settings.config, agent.runtime);
    if (!choice.ok()) {
        finish_failed(choice.error().message, {status::Queued, status::Running});
        return;
    }

    // A start was asked for before (we crashed, a lease ran out, a drain):
    // the session may be there, and must then be adopted, not started again.
    bool adopt = false;
    if (!agent.provider.empty()) {
        if (!hold(op_budget(ctx_), "not adopted")) return;
        auto exists = session_exists();
        if (!exists.ok()) {
            finish_failed("provider: " + exists.error().message, {status::Queued, status::Running});
            return;
        }
        adopt = *exists;
    }
    if (!adopt && !start_new(agent, *choice)) return;
    // Still ours right before Running, and for the status call after it.
    if (!hold(op_budget(ctx_), "not marked running")) return;
    if (agent.status != status::Running && !mark_running(adopt)) return;
    if (auto st = ctx_.provider.status(m_.task); st.ok() && *st && !(*st)->ref.empty())
        (void)agents_.set_ref(m_.task, (*st)->ref);
    follower.add(Followed{m_, worker_, run_deadline(agent)});
}

bool MissionRun::start_new(const Agent& agent, const RuntimeChoice& choice) {
    // A start may take its whole budget, longer than a lease: hold the
    // claim that long, or another worker, finding no session yet, would
    // start the task a second time.
    if (!hold(std::chrono::duration_cast<milliseconds>(ctx_.settings.config.queue.start_timeout), "not started"))
        return false;
    auto token = random_token_hex(32);
    Status marked = token.ok() ? agents_.mark_starting(m_.task, ctx_.settings.config.backend, sha256_hex(*token))
                               : Status(token.error());
    if (!marked.ok() && marked.error().kind == ErrorKind::Temporary) {  // the store's trouble, not the agent's
        ack(queue_.release(m_.id, worker_, marked.error().message));
        return false;
    }
    if (!marked.ok()) {
        finish_failed("start: " + marked.error().message, {status::Queued, status::Running});
        return false;
    }
    ++ctx_.counters.missions_started;
    Status started = start_session(agent, choice, *token);
    if (!started.ok()) {
        (void)ctx_.provider.stop(m_.task);  // a start that timed out may have got half way
        finish_failed("start: " + started.error().message, {status::Queued, status::Running});
        return false;
    }
    return true;
}

bool MissionRun::mark_running(bool adopt) {
    Changes c;
    c.set_started = true;
    c.attempt = m_.attempt;
    auto moved = agents_.transition(m_.task, {status::Queued}, status::Running, c,
                                    adopt ? "session adopted" : "session started");
    if (!moved.ok() && moved.error().kind == ErrorKind::Temporary) {
        // The store failed us, not the session: leave it running for the
        // next claim to adopt (the mission back in the queue, or, with
        // the store still down, its lease left to run out).
        ack(queue_.release(m_.id, worker_, moved.error().message));
        return false;
    }
    if (moved.ok() && !*moved && marked_by_earlier_claim()) return true;
    if (!moved.ok() || !*moved) {  // killed meanwhile: do not leave it running
        (void)ctx_.provider.stop(m_.task);
        if (moved.ok()) ack(queue_.complete(m_.id, worker_));
        else ack(queue_.release(m_.id, worker_, moved.error().message));
        return false;
    }
    return true;
}

bool MissionRun::hold(milliseconds budget, const std::string& why) {
    Status held = queue_.heartbeat(m_.id, worker_, ctx_.settings.config.queue.lease_timeout + budget);
    if (held.ok()) return true;
    if (!queue::lease_lost(held.error())) ack(queue_.release(m_.id, worker_, held.error().message));
    note("warn", why + ": " + held.error().message);
    return false;
}

bool MissionRun::marked_by_earlier_claim() {
    // An earlier claim of this mission (its lease ran out under it) got the
    // session to Running first. The claim is ours now (just held): follow
    // it. Stopping it, as for a kill, would end a healthy session and leave
    // its row Running with the mission done and nobody following it.
    auto found = agents_.get(m_.task);
    return found.ok() && *found && (*found)->status == status::Running && !(*found)->cancel_requested;
}

Result<bool> MissionRun::session_exists() {
    FRACTA_TRY_ASSIGN(st, ctx_.provider.status(m_.task));
    if (st) return st->state != "absent";
    return ctx_.provider.is_running(m_.task);  // a provider without `status`
}

Status MissionRun::start_session(const Agent& agent, const RuntimeChoice& choice, const std::string& token) {
    FRACTA_TRY_ASSIGN(request, start_json(ctx_.settings, agent, choice, m_.payload, token));
    if (!ctx_.settings.provider_makes_worktrees) {
        if (ctx_.settings.in_git) {
            std::string base = agent.base_branch;
            if (base.empty()) {
                FRACTA_TRY_ASSIGN(current, git::current_branch(ctx_.settings.root));
                base = current;
            }
            FRACTA_TRY(git::add_worktree(ctx_.settings.root, agent.workspace, agent.branch, base));
        } else {
            FRACTA_TRY(io::make_dirs(agent.workspace, 0755));
        }
        const runtime::Files files = choice.runtime->workspace_files(session_info(ctx_.settings, agent, m_.payload), choice.spec);
        FRACTA_TRY(session::check_files(agent.workspace, files));
        FRACTA_TRY(session::write_files(agent.workspace, files));
    }
    auto budget = std::chrono::duration_cast<milliseconds>(ctx_.settings.config.queue.start_timeout);
    FRACTA_TRY(ctx_.provider.start(m_.task, request, budget));
    return {};
}

void MissionRun::finish(const Ending& end) {
    auto found = agents_.get(m_.task);
    if (!found.ok()) {  // the store is down: the claim stays ours until its lease runs out, then it is adopted
        note("warn", "left for a later claim: " + found.error().message);
        return;
    }
    if (!*found || is_terminal((*found)->status) || end.why == Ending::Why::Killed) {
        (void)ctx_.provider.stop(m_.task);
        if (*found) runtime_ = (*found)->runtime;
        finish_stopped("killed");
        return;
    }
    const Agent& agent = **found;
    runtime_ = agent.runtime;
    if (end.why == Ending::Why::TimedOut) {
        (void)ctx_.provider.stop(m_.task);
        finish_failed("timeout", {status::Running});
        return;
    }
    if (end.why == Ending::Why::Error) {
        finish_failed("provider: " + end.error, {status::Running});
        return;
    }
    auto choice = choose_runtime(ctx_.settings.config, agent.runtime);
    if (!choice.ok()) {
        finish_failed(choice.error().message, {status::Running});
        return;
    }
    settle_exit(agent, *choice, end.result);
}

void MissionRun::settle_exit(const Agent& agent, const RuntimeChoice& choice, const provider::WaitResult& ended) {
    if (ended.state != "exited") {
        // A lost session's supervisor died without ending its processes:
        // they are ours to end (stop kills what is left of its group).
        if (ended.state == "lost") (void)ctx_.provider.stop(m_.task);
        finish_failed(ended.state == "lost" ? "session lost" : "session " + ended.state, {status::Running});
        return;
    }
    const runtime::Mode mode = agent.mode == "stream" ? runtime::Mode::Stream : runtime::Mode::Batch;
    runtime::RunResult result = choice.runtime->parse(ended.exit_code.value_or(0), ended.output_tail, mode);
    Changes c = run_changes(result, m_.task, std::string(choice.runtime->name()));
    c.exit_code = ended.exit_code;
    c.set_ended = true;
    if (!result.success) {
        c.reason = result.error.empty() ? "exit " + std::to_string(ended.exit_code.value_or(1)) : result.error;
        // An agent pod's supervisor that failed around the session (its
        // clone, its push) says why in its last line: that is the reason.
        if (auto why = supervisor_error(ended.output_tail); !why.empty()) c.reason = why;
        settle({status::Running}, status::Failed, c, *c.reason);
        return;
    }
    if (auto failed = check(agent); failed) {
        c.reason = *failed;
        settle({status::Running}, status::Failed, c, *c.reason);
        return;
    }
    settle({status::Running}, status::Completed, c, "");
}

std::optional<Clock::time_point> MissionRun::run_deadline(const Agent& agent) const {
    if (agent.timeout_ms <= 0) return std::nullopt;
    // Counted from the start the row records, so a mission adopted after a
    // crash or a lease loss keeps the limit it started with.
    auto limit = milliseconds(agent.timeout_ms);
    auto started = parse_rfc3339(agent.started_at);
    if (!started.ok()) return Clock::now() + limit;
    const Timestamp t = now();
    auto ran = milliseconds((t.seconds - started->seconds) * 1000 + (t.nanos - started->nanos) / 1000000);
    return Clock::now() + (ran < limit ? limit - ran : milliseconds(0));
}

std::optional<std::string> MissionRun::check(const Agent& agent) {
    if (agent.check_command.empty()) return std::nullopt;
    const auto budget = std::chrono::duration_cast<milliseconds>(ctx_.settings.config.check_timeout);
    // No heartbeats while it runs: hold the claim for its whole budget.
    if (Status held = queue_.heartbeat(m_.id, worker_, lease_of(ctx_) + budget); !held.ok())
        note("warn", "check: " + held.error().message);
    std::map<std::string, std::string> env = {{"FRACTA_TASK", m_.task}};
    auto outcome = run_check(agent.check_command, agent.workspace, env, budget);
    if (!outcome.ok()) return "check: " + outcome.error().message;
    if (outcome->passed) return std::nullopt;
    return outcome->reason;
}

// The runtime of the mission's agent and its own cap (0: none).
Result<std::pair<std::string, int>> runtime_limit(store::Store& store, const config::Config& config,
                                                  const std::string& task) {
    FRACTA_TRY_ASSIGN(rows, store.query("SELECT runtime FROM agents WHERE name = ?", {task}));
    std::string name = rows.empty() ? "" : rows[0].text(0);
    if (name.empty()) name = config.default_runtime;
    auto it = config.agent_runtimes.find(name);
    return std::pair<std::string, int>(name, it == config.agent_runtimes.end() ? 0 : it->second.max_concurrent);
}

// Whether a claim of `m` keeps under reaper.max_concurrent and its runtime's
// max_concurrent; run inside the claim's transaction.
Result<bool> admit_claim(Context& ctx, store::Store& store, const queue::Mission& m) {
    const int cap = ctx.max_concurrent;
    FRACTA_TRY_ASSIGN(runtime_cap, runtime_limit(store, ctx.settings.config, m.task));
    if (cap <= 0 && runtime_cap.second <= 0) return true;
    // Replicas admit one at a time, so two never both see the last free slot.
    if (store.dialect() == store::Dialect::Postgres) FRACTA_TRY(store.query("SELECT pg_advisory_xact_lock(7142037)"));
    bool admitted = true;
    if (cap > 0) {
        FRACTA_TRY_ASSIGN(rows, store.query("SELECT COUNT(*) FROM missions WHERE status = 'claimed'"));
        admitted = rows.empty() || rows[0].integer(0) < cap;
    }
    if (admitted && runtime_cap.second > 0) {
        FRACTA_TRY_ASSIGN(rows, store.query("SELECT COUNT(*) FROM missions m JOIN agents a ON a.name = m.task "
                                            "WHERE m.status = 'claimed' AND COALESCE(NULLIF(a.runtime, ''), ?) = ?",
                                            {ctx.settings.config.default_runtime, runtime_cap.first}));
        admitted = rows.empty() || rows[0].integer(0) < runtime_cap.second;
    }
    if (!admitted) ++ctx.counters.admissions_refused;
    return admitted;
}

}  // namespace

void Workers::start(int count) {
    ctx_.workers = count;
    follower_.start();
    for (int i = 0; i < count; ++i) threads_.emplace_back([this, i] { loop(i); });
}

bool Workers::sleep_for(milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, d, [&] { return hand_back_.load(); });
    return !hand_back_;
}

void Workers::drain(milliseconds timeout) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_claiming_ = true;
    }
    cv_.notify_all();
    // Running agents may end meanwhile: the workers settle them until then.
    const auto deadline = Clock::now() + timeout;
    while ((ctx_.busy_workers > 0 || follower_.count() > 0) && Clock::now() < deadline)
        std::this_thread::sleep_for(milliseconds(50));
    {
        std::lock_guard<std::mutex> lock(mu_);
        hand_back_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
    follower_.stop();  // what is still followed goes back to the queue
}

void Workers::loop(int index) {
    const std::string worker = id_prefix_ + "-worker-" + std::to_string(index);
    std::unique_ptr<store::Store> store;
    while (!store) {
        auto opened = ctx_.pool.open_dedicated();
        if (opened.ok()) {
            store = std::move(*opened);
        } else {
            ctx_.log("warn", worker + ": " + opened.error().message);
            if (!sleep_for(milliseconds(1000))) return;
        }
    }
    queue::Queue queue(*store);
    Agents agents(*store);
    const auto admit = [&](const queue::Mission& m) { return admit_claim(ctx_, *store, m); };
    // Ends are settled before new claims, and while draining.
    while (!hand_back_) {
        if (auto end = follower_.take()) {
            ++ctx_.busy_workers;
            const Followed& f = end->followed;
            MissionRun(ctx_, *store, queue, f.worker, hand_back_, f.mission).finish(*end);
            --ctx_.busy_workers;
            continue;
        }
        if (stop_claiming_) {
            sleep_for(milliseconds(100));
            continue;
        }
        // One worker at a time sends expired leases back to the queue.
        int64_t due = next_expiry_ms_, now_ms = steady_ms();
        const int64_t every = std::clamp<int64_t>(lease_of(ctx_).count() / 4, 250, 30000);
        if (now_ms >= due && next_expiry_ms_.compare_exchange_strong(due, now_ms + every)) {
            if (auto expired = expire_leases(queue, agents); !expired.ok())
                ctx_.log("warn", worker + ": " + expired.error().message);
        }
        auto claimed = queue.claim(worker, lease_of(ctx_), admit);
        if (!claimed.ok()) {
            ctx_.log("warn", worker + ": claim: " + claimed.error().message);
            sleep_for(milliseconds(1000));
            continue;
        }
        if (!*claimed) {
            // Short, so an end the follower hands over waits little for a worker.
            auto woken = queue.wait_for_work(kIdleWait);
            if (!woken.ok()) sleep_for(kIdleWait);
            continue;
        }
        ++ctx_.busy_workers;
        MissionRun(ctx_, *store, queue, worker, hand_back_, std::move(**claimed)).run(follower_);
        --ctx_.busy_workers;
    }
}

}  // namespace fracta::cp
