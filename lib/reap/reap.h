// reap.h — one reconciliation pass (spec init-and-reap.md, fracta-reap): the
// store's agents held against what the session provider reports, and the
// garbage of ended agents removed. In order:
//
//   requeue / fail  claims whose lease ran out go back to the queue, or fail
//                   (with their agent) past max_attempts;
//   lost            Running/Idle agents whose session the provider no longer
//                   reports (or reports lost), with no sign of life for the
//                   grace period → Failed, reason "lost";
//   orphan          sessions with no live agent → stopped (and forgotten when
//                   no agent row is left at all);
//   max_age         agents running longer than reaper.max_age → Stopped;
//   remove          agents ended longer ago than reaper.keep_terminal: the
//                   session's state and log, the worktree, the branch when it
//                   is merged (unmerged work is never deleted), the missions,
//                   the mailbox and the row;
//   k8s_orphan      (runtime.backend kubernetes) agent ConfigMaps and Secrets
//                   whose owner is gone (reap/k8s_orphans.h);
//   prune_events    with events.retention N, every event but the newest N.
//
// Every action is decided from one snapshot taken at the start, and each
// change is a compare-and-set, so a pass racing the control plane (or a
// second reaper that got past the lock) never undoes newer work; an action
// whose compare-and-set lost is not reported. A dry run decides the same
// actions and does none of them. Each action done is also a `reaper.<action>`
// event.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agents/settings.h"
#include "base/json.h"
#include "base/result.h"
#include "base/units.h"
#include "provider/client.h"
#include "store/store.h"

namespace fracta::reap {

struct Action {
    std::string action;  // requeue | fail | lost | orphan | max_age | remove | k8s_orphan | prune_events
    std::string task;
    std::string reason;
    Json to_json() const { return {{"action", action}, {"task", task}, {"reason", reason}}; }
};

struct Options {
    bool dry_run = false;
    // How long a Running agent may go without a heartbeat, its session
    // unreported, before it counts as lost.
    Duration grace = std::chrono::seconds(30);
};

struct Report {
    bool skipped = false;               // another reaper held the lock: nothing was looked at
    std::vector<Action> actions;        // done (a dry run: planned), in order
    std::vector<std::string> problems;  // actions that failed; the next pass tries again
};

// What passes need, from fracta.yaml (`config_file`, else FRACTA_CONFIG, else
// the project's around the current directory): the settings, a store
// connection of the reaper's own, and the session provider.
struct Target {
    agents::Settings settings;
    std::unique_ptr<store::Store> store;
    std::unique_ptr<provider::ProviderClient> provider;
};
Result<Target> open_target(const std::string& config_file);

// `store` must be the pass's own connection: on Postgres the leader lock is
// held on it for the length of the pass.
Result<Report> run_pass(const agents::Settings& settings, store::Store& store, const provider::ProviderClient& provider,
                        const Options& options);

}  // namespace fracta::reap
