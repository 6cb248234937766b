#include "reap/reap.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

#include "agents/agents.h"
#include "agents/leases.h"
#include "base/time.h"
#include "config/project.h"
#include "events/log.h"
#include "events/provider.h"
#include "git/git.h"
#include "k8s/objects.h"
#include "queue/queue.h"
#include "reap/k8s_orphans.h"
#include "reap/leader.h"

namespace fracta::reap {
namespace {

using agents::Agent;

bool is_live_session(const std::string& state) { return state == "running" || state == "starting"; }

// The time of `ts`, or nullopt when it is empty or unreadable (an unknown
// age never makes anything old enough to act on).
std::optional<Timestamp> time_of(const std::string& ts) {
    if (ts.empty()) return std::nullopt;
    auto t = parse_rfc3339(ts);
    if (!t.ok()) return std::nullopt;
    return *t;
}

bool older_than(const std::optional<Timestamp>& then, Duration age, Timestamp now) {
    if (!then) return false;
    const Duration elapsed = std::chrono::seconds(now.seconds - then->seconds) +
                             std::chrono::nanoseconds(now.nanos - then->nanos);
    return elapsed > age;
}

std::optional<Timestamp> latest(const std::string& a, const std::string& b) {
    auto x = time_of(a), y = time_of(b);
    if (!x) return y;
    if (!y) return x;
    return std::max(*x, *y);
}

std::string seconds_text(Duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + "s";
}

class Pass {
public:
    Pass(const agents::Settings& settings, store::Store& store, const provider::ProviderClient& provider,
         const Options& options)
        : settings_(settings), store_(store), provider_(provider), options_(options), queue_(store),
          agents_(store) {}

    Status run(Report& report);

private:
    Status snapshot();
    void leases();
    void lost_sessions();
    void orphans();
    void too_old();
    void ended();
    void k8s_objects();
    void prune_events();

    // Report `a` if it was done (a dry run reports every plan); record its event.
    void done(Action a, bool happened = true);
    std::optional<bool> end_live(const std::string& name, const char* to, const std::string& code,
                                 const std::string& reason, const std::string& step);
    void record_events();
    void problem(const std::string& task, const std::string& what, const Error& e) {
        report_->problems.push_back(task + ": " + what + ": " + e.message);
    }
    Status remove_files(const Agent& a);
    Status remove_rows(const std::vector<std::string>& names);

    const agents::Settings& settings_;
    store::Store& store_;
    const provider::ProviderClient& provider_;
    const Options& options_;
    queue::Queue queue_;
    agents::Agents agents_;
    Report* report_ = nullptr;
    Timestamp now_ = now();
    std::map<std::string, Agent> agents_by_name_;
    std::map<std::string, provider::SessionStatus> sessions_;
    bool sessions_complete_ = false;  // `list` answered: a session it omits does not exist
    std::vector<events::Event> unrecorded_;
};

void Pass::done(Action a, bool happened) {
    if (!happened) return;
    if (!options_.dry_run) {
        events::Event e;
        e.type = "reaper." + a.action;
        e.ts = format_rfc3339(now());
        e.actor = "reaper";
        e.subject = a.task;
        e.message = a.reason;
        e.payload = to_line(Json{{"category", "reaper"}, {"outcome", a.action}, {"severity", "info"}});
        unrecorded_.push_back(std::move(e));
    }
    report_->actions.push_back(std::move(a));
}

// The step's events, in one transaction: a pass over thousands of agents
// must not pay a commit per action.
void Pass::record_events() {
    if (unrecorded_.empty()) return;
    Status s = store_.transaction([&]() -> Status {
        events::EventLog log(store_, events::retention(settings_.config));  // a pass's events stay in the window
        for (const auto& e : unrecorded_) FRACTA_TRY(log.append_in_tx(e));
        return {};
    });
    if (!s.ok()) problem("-", "events", s.error());
    unrecorded_.clear();
}

// Sessions first, then agents: an agent's row is written before its
// session starts, so every session listed has its row in the later agent
// list. The other order let a session started while the provider was
// listing (slow on a loaded machine) look like an orphan with no agent, and
// be stopped and forgotten under its worker. (An agent whose session starts
// after the listing is not "lost": that takes the grace period.)
Status Pass::snapshot() {
    FRACTA_TRY_ASSIGN(listed, provider_.list(""));
    if (listed) {
        sessions_complete_ = true;
        for (auto& s : *listed) sessions_[s.name] = std::move(s);
    } else {  // a provider with list-running only: what runs is all we learn
        FRACTA_TRY_ASSIGN(names, provider_.list_running(""));
        for (const auto& n : names) sessions_[n] = provider::SessionStatus{n, "running", std::nullopt, "", "", "", ""};
    }
    FRACTA_TRY_ASSIGN(all, agents_.list());
    for (auto& a : all) agents_by_name_[a.name] = std::move(a);
    return {};
}

void Pass::leases() {
    auto expired = options_.dry_run ? queue_.expired_leases() : agents::expire_leases(queue_, agents_);
    if (!expired.ok()) {
        problem("-", "expire leases", expired.error());
        return;
    }
    for (const auto& m : *expired) {
        // A dry run sees the missions before the change: what it would become.
        const bool fails = options_.dry_run ? m.attempt >= m.max_attempts : m.status == "failed";
        const std::string n = "mission " + std::to_string(m.id) + ", attempt " + std::to_string(m.attempt) +
                              " of " + std::to_string(m.max_attempts);
        done({fails ? "fail" : "requeue", m.task, "lease expired (" + n + ")"});
        if (fails && agents_by_name_.count(m.task)) agents_by_name_[m.task].status = status::Failed;
    }
}

// A live agent (Running or Idle) ended in `to`, with its reason code and
// reason: whether it moved (another may have ended it first), or nothing
// and a problem for `step` when the store failed.
std::optional<bool> Pass::end_live(const std::string& name, const char* to, const std::string& code,
                                   const std::string& reason, const std::string& step) {
    agents::Changes c;
    c.reason = code;
    c.set_ended = true;
    auto moved = agents_.transition(name, {status::Running, status::Idle}, to, c, reason);
    if (!moved.ok()) {
        problem(name, step, moved.error());
        return std::nullopt;
    }
    return *moved;
}

void Pass::lost_sessions() {
    for (auto& [name, a] : agents_by_name_) {
        if ((a.status != status::Running && a.status != status::Idle) || a.provider.empty()) continue;
        auto s = sessions_.find(name);
        const std::string state = s == sessions_.end() ? "absent" : s->second.state;
        if (state != "absent" && state != "lost") continue;
        if (!older_than(latest(a.heartbeat_at, a.started_at), options_.grace, now_)) continue;
        const std::string reason = state == "lost" ? "lost: its supervisor died" : "lost: the provider has no session";
        bool moved = true;
        if (!options_.dry_run) {
            if (state == "lost") (void)provider_.stop(name);  // kills what is left of its process group
            auto ended = end_live(name, status::Failed, "lost", reason, "lost");
            if (!ended) continue;
            moved = *ended;
        }
        if (moved) a.status = status::Failed;
        done({"lost", name, reason}, moved);
    }
}

void Pass::orphans() {
    for (const auto& [name, s] : sessions_) {
        auto a = agents_by_name_.find(name);
        const bool has_row = a != agents_by_name_.end();
        if (has_row && !is_terminal(a->second.status)) continue;
        // An ended session of an ended agent is the remove step's business.
        if (has_row && !is_live_session(s.state)) continue;
        const std::string reason =
            has_row ? "the agent has ended (" + a->second.status + ")" : "no agent \"" + name + "\"";
        if (!options_.dry_run) {
            if (auto st = provider_.stop(name); !st.ok()) {
                problem(name, "stop", st.error());
                continue;
            }
            if (!has_row)
                if (auto f = provider_.forget(name); !f.ok()) problem(name, "forget", f.error());
        }
        done({"orphan", name, reason});
    }
}

void Pass::too_old() {
    const Duration max_age = settings_.config.reaper.max_age;
    for (auto& [name, a] : agents_by_name_) {
        if (a.status != status::Running && a.status != status::Idle) continue;
        if (!older_than(time_of(a.started_at), max_age, now_)) continue;
        const std::string reason = "reaped: max_age";
        bool moved = true;
        if (!options_.dry_run) {
            // Stopped first: a worker following the agent sees it ended and lets go.
            auto ended = end_live(name, status::Stopped, reason, reason, "max_age");
            if (!ended) continue;
            moved = *ended;
            if (auto st = moved ? provider_.stop(name) : Status{}; !st.ok()) problem(name, "stop", st.error());
        }
        if (moved) a.status = status::Stopped;
        done({"max_age", name, reason + " (started " + a.started_at + ", older than " + seconds_text(max_age) + ")"},
             moved);
    }
}

// What an ended agent leaves on disk and with its provider. A session the
// provider's full list does not have needs no provider call (thousands of
// ended agents must not cost thousands of processes).
Status Pass::remove_files(const Agent& a) {
    if (!sessions_complete_ || sessions_.count(a.name)) {
        FRACTA_TRY(provider_.stop(a.name));
        FRACTA_TRY(provider_.forget(a.name));
    }
    if (!a.workspace.empty() && std::filesystem::exists(a.workspace)) {
        if (settings_.in_git) {
            FRACTA_TRY(git::remove_worktree(settings_.root, a.workspace, true));
        } else if (a.workspace.rfind(settings_.root + "/.fracta/", 0) == 0) {  // only fracta's own folders
            std::error_code ec;
            std::filesystem::remove_all(a.workspace, ec);
            if (ec) return failure("remove " + a.workspace + ": " + ec.message());
        }
    }
    // A merged branch goes; one holding unmerged commits is kept (never lose work).
    if (settings_.in_git && !a.branch.empty()) (void)git::delete_branch(settings_.root, a.branch, false);
    return {};
}

// The rows of agents whose files are gone, in one transaction. Only ended
// agents are deleted: one given a follow-up run meanwhile stays.
Status Pass::remove_rows(const std::vector<std::string>& names) {
    constexpr size_t kChunk = 500;  // names per statement: few round trips, well under parameter limits
    return store_.transaction([&]() -> Status {
        for (size_t from = 0; from < names.size(); from += kChunk) {
            store::Params chunk(names.begin() + from, names.begin() + std::min(names.size(), from + kChunk));
            std::string in = "(?";
            for (size_t i = 1; i < chunk.size(); ++i) in += ", ?";
            in += ")";
            FRACTA_TRY(store_.exec("DELETE FROM missions WHERE task IN " + in +
                                       " AND status IN ('completed', 'failed', 'cancelled')",
                                   chunk));
            FRACTA_TRY(store_.exec("DELETE FROM messages WHERE to_task IN " + in, chunk));
            FRACTA_TRY(store_.exec("DELETE FROM cursors WHERE task IN " + in, chunk));
            FRACTA_TRY(store_.exec(
                "DELETE FROM agents WHERE name IN " + in + " AND status IN ('Completed', 'Failed', 'Stopped')", chunk));
        }
        return {};
    });
}

void Pass::ended() {
    const Duration keep = settings_.config.reaper.keep_terminal;
    std::vector<std::string> names;
    std::vector<Action> actions;
    for (const auto& [name, a] : agents_by_name_) {
        if (!is_terminal(a.status)) continue;
        const std::string& at = a.ended_at.empty() ? a.updated_at : a.ended_at;
        if (!older_than(time_of(at), keep, now_)) continue;
        if (!options_.dry_run)
            if (auto st = remove_files(a); !st.ok()) {
                problem(name, "remove", st.error());
                continue;
            }
        names.push_back(name);
        actions.push_back({"remove", name, a.status + " since " + at + ", past keep_terminal (" + seconds_text(keep) + ")"});
    }
    if (!options_.dry_run && !names.empty())
        if (auto st = remove_rows(names); !st.ok()) {
            problem("-", "remove", st.error());
            return;
        }
    for (auto& a : actions) done(std::move(a));
}

// events.retention: the log keeps its newest N events. fracta-events prunes
// as it records; the control plane's own events are pruned here.
void Pass::prune_events() {
    const uint64_t keep = events::retention(settings_.config);
    if (!keep) return;
    auto pruned = events::EventLog(store_).prune(keep, options_.dry_run);
    if (!pruned.ok()) return problem("-", "prune events", pruned.error());
    if (*pruned)
        done({"prune_events", "-",
              std::to_string(*pruned) + " events older than the newest " + std::to_string(keep) + " (events.retention)"});
}

// Kubernetes only: agent ConfigMaps and Secrets whose owner is gone.
void Pass::k8s_objects() {
    if (settings_.config.backend != "kubernetes") return;
    auto objects = k8s::settings_from_config(settings_.config.document.root);
    if (!objects.ok()) {
        problem("-", "kubernetes", objects.error());
        return;
    }
    k8s::ResolveOptions ro;  // as fracta-spawn-k8s --config reaches the cluster
    if (Status st = k8s::from_fracta_config(settings_.config.document.root, settings_.root, ro); !st.ok()) {
        problem("-", "kubernetes", st.error());
        return;
    }
    auto config = k8s::Config::resolve(ro);
    if (!config.ok()) {
        problem("-", "kubernetes", config.error());
        return;
    }
    k8s::Client client(std::move(*config));
    auto orphans = find_k8s_orphans(client, options_.grace, now_);
    if (!orphans.ok()) {
        problem("-", "kubernetes", orphans.error());
        return;
    }
    for (const auto& o : *orphans) {
        if (!options_.dry_run)
            if (auto st = delete_k8s_orphan(client, o); !st.ok()) {
                problem(o.session, "delete " + o.resource + "/" + o.name, st.error());
                continue;
            }
        done({"k8s_orphan", o.session, o.reason});
    }
}

Status Pass::run(Report& report) {
    report_ = &report;
    FRACTA_TRY(snapshot());
    for (void (Pass::*step)() : {&Pass::leases, &Pass::lost_sessions, &Pass::orphans, &Pass::too_old, &Pass::ended,
                                &Pass::k8s_objects, &Pass::prune_events}) {
        (this->*step)();
        record_events();
    }
    return {};
}

}  // namespace

Result<Target> open_target(const std::string& config_file) {
    FRACTA_TRY_ASSIGN(config, config::load_for(config_file, std::filesystem::current_path().string()));
    FRACTA_TRY_ASSIGN(settings, agents::make_settings(std::move(config)));
    Target t;
    t.settings = std::move(settings);
    FRACTA_TRY_ASSIGN(store, store::open(t.settings.store_url, "fracta-reap"));
    t.store = std::move(store);
    t.provider = std::make_unique<provider::ProviderClient>(t.settings.provider_argv, t.settings.provider_env,
                                                            agents::provider_options(t.settings));
    return t;
}

Result<Report> run_pass(const agents::Settings& settings, store::Store& store, const provider::ProviderClient& provider,
                        const Options& options) {
    Report report;
    FRACTA_TRY_ASSIGN(leader, Leadership::take(store, settings.store_url));
    if (!leader) {
        report.skipped = true;
        return report;
    }
    Pass pass(settings, store, provider, options);
    FRACTA_TRY(pass.run(report));
    return report;
}

}  // namespace fracta::reap
