// migrations.cc — the schema, as an ordered list of versioned steps, and the
// runner that applies the missing ones at open.
//
// sqlite keeps the applied version in PRAGMA user_version too, so that the
// common case (schema current) costs one pragma read per process; Postgres
// checks schema_migrations and serialises concurrent migrators with an
// advisory lock held for the migrating transaction.
#include "base/time.h"
#include "store/store.h"

namespace fracta::store {
namespace {

// Advisory lock key for schema changes: "fracta" in ASCII.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(110117107116097)";

}  // namespace

namespace {

// The schema is written once. Where the dialects differ, a placeholder:
//   {id}      an auto-numbered primary key
//   {bigint}  a 64-bit integer column
std::string in_dialect(std::string sql, bool sqlite) {
    auto replace = [&](const std::string& from, const std::string& to) {
        for (size_t at = sql.find(from); at != std::string::npos; at = sql.find(from, at + to.size()))
            sql.replace(at, from.size(), to);
    };
    replace("{id}", sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY");
    replace("{bigint}", sqlite ? "INTEGER" : "BIGINT");
    return sql;
}

const char* kEventLog = R"(
    CREATE TABLE events (
      seq     {bigint} PRIMARY KEY,   -- from event_seq: starts at 1, no gaps
      ts      TEXT NOT NULL,          -- as recorded (RFC 3339)
      ts_utc  TEXT NOT NULL,          -- normalised UTC, fixed width: compares as time
      type    TEXT NOT NULL,
      actor   TEXT NOT NULL DEFAULT '',
      subject TEXT NOT NULL DEFAULT '',
      message TEXT NOT NULL DEFAULT '',
      payload TEXT                    -- compact JSON, or NULL
    );
    CREATE INDEX events_subject ON events (subject, seq);
    CREATE TABLE event_seq (id INTEGER PRIMARY KEY CHECK (id = 1), seq {bigint} NOT NULL);
    INSERT INTO event_seq (id, seq) VALUES (1, 0);)";

// Times are fixed-width RFC 3339 UTC strings (base/time.h): they compare as
// times in both dialects.
const char* kControlPlane = R"(
    CREATE TABLE agents (
      name TEXT PRIMARY KEY,
      status TEXT NOT NULL,             -- Pending Queued Running Idle Completed Failed Stopped
      mode TEXT NOT NULL DEFAULT 'batch',
      runtime TEXT NOT NULL DEFAULT '',
      model TEXT NOT NULL DEFAULT '',
      branch TEXT NOT NULL DEFAULT '',
      base_branch TEXT NOT NULL DEFAULT '',
      workspace TEXT NOT NULL DEFAULT '',
      provider TEXT NOT NULL DEFAULT '',
      ref TEXT NOT NULL DEFAULT '',
      contract TEXT NOT NULL DEFAULT '',
      current_intent TEXT NOT NULL DEFAULT '',
      last_output TEXT NOT NULL DEFAULT '',
      exit_code INTEGER,
      reason TEXT NOT NULL DEFAULT '',
      resume_token TEXT NOT NULL DEFAULT '',
      attempt INTEGER NOT NULL DEFAULT 0,
      parent TEXT NOT NULL DEFAULT '',
      labels TEXT NOT NULL DEFAULT '{}',
      env TEXT NOT NULL DEFAULT '{}',
      token_hash TEXT NOT NULL DEFAULT '',  -- SHA-256 of the gateway token; never the token
      cancel_requested INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      started_at TEXT NOT NULL DEFAULT '',
      ended_at TEXT NOT NULL DEFAULT '',
      heartbeat_at TEXT NOT NULL DEFAULT '',
      updated_at TEXT NOT NULL
    );
    CREATE INDEX agents_status ON agents (status);
    CREATE INDEX agents_parent ON agents (parent);
    CREATE TABLE missions (
      id {id},
      task TEXT NOT NULL,
      payload TEXT NOT NULL DEFAULT '{}',
      status TEXT NOT NULL,             -- pending claimed completed failed cancelled
      priority INTEGER NOT NULL DEFAULT 0,
      attempt INTEGER NOT NULL DEFAULT 0,
      max_attempts INTEGER NOT NULL DEFAULT 3,
      claimed_by TEXT NOT NULL DEFAULT '',
      lease_expires_at TEXT NOT NULL DEFAULT '',
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX missions_claim ON missions (status, priority DESC, id);
    CREATE INDEX missions_task ON missions (task);
    CREATE TABLE messages (
      id {id},
      from_task TEXT NOT NULL,
      to_task TEXT NOT NULL,
      content TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX messages_to ON messages (to_task, id);
    CREATE TABLE cursors (task TEXT PRIMARY KEY, last_id {bigint} NOT NULL DEFAULT 0);)";

// What an agent's run cost, as its CLI reported it (NULL: not reported);
// cost in millionths of a US dollar, so both dialects keep it exact. And
// what ends it beside its own exit: the check run in its worktree, and its
// time limit (0: none).
const char* kAgentUsage = R"(
    ALTER TABLE agents ADD COLUMN check_command TEXT NOT NULL DEFAULT '';
    ALTER TABLE agents ADD COLUMN timeout_ms {bigint} NOT NULL DEFAULT 0;
    ALTER TABLE agents ADD COLUMN turns {bigint};
    ALTER TABLE agents ADD COLUMN input_tokens {bigint};
    ALTER TABLE agents ADD COLUMN output_tokens {bigint};
    ALTER TABLE agents ADD COLUMN cost_micro_usd {bigint};)";

// Objectives (spec: control-plane.md, "Objectives"): a goal a tree of
// agents works on, under budgets that admission checks in the transaction
// that records each spawn; proposals are the missions agents ask for. An
// agent belongs to at most one objective; dedupe_key keeps two live agents
// of one objective off the same sub-task. Budgets are 0 for "no limit";
// deadline_at is created_at + max_runtime ('' for none); cost in millionths
// of a US dollar, as on agents.
const char* kObjectives = R"(
    CREATE TABLE objectives (
      id TEXT PRIMARY KEY,
      description TEXT NOT NULL,
      status TEXT NOT NULL,   -- open answered disproven exhausted budget_exhausted timed_out frozen
      created_at TEXT NOT NULL,
      created_by TEXT NOT NULL DEFAULT '',
      updated_at TEXT NOT NULL,
      max_missions {bigint} NOT NULL DEFAULT 0,
      max_depth {bigint} NOT NULL DEFAULT 0,
      max_branching {bigint} NOT NULL DEFAULT 0,
      max_runtime_ms {bigint} NOT NULL DEFAULT 0,
      deadline_at TEXT NOT NULL DEFAULT '',
      max_tokens {bigint} NOT NULL DEFAULT 0,
      max_cost_micro_usd {bigint} NOT NULL DEFAULT 0,
      max_concurrent {bigint} NOT NULL DEFAULT 0,
      breaker {bigint} NOT NULL DEFAULT 0,          -- consecutive failures that freeze it (0: never)
      mission_count {bigint} NOT NULL DEFAULT 0,    -- admitted
      refused_count {bigint} NOT NULL DEFAULT 0,
      finding_count {bigint} NOT NULL DEFAULT 0,
      failed_count {bigint} NOT NULL DEFAULT 0,
      completed_count {bigint} NOT NULL DEFAULT 0,
      failure_streak {bigint} NOT NULL DEFAULT 0,
      tokens_used {bigint} NOT NULL DEFAULT 0,
      cost_micro_usd {bigint} NOT NULL DEFAULT 0,
      outcome TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX objectives_status ON objectives (status);
    CREATE TABLE proposals (
      id {id},
      objective_id TEXT NOT NULL,
      proposed_by TEXT NOT NULL DEFAULT '',
      task TEXT NOT NULL,
      contract TEXT NOT NULL DEFAULT '',
      priority INTEGER NOT NULL DEFAULT 0,
      dedupe_key TEXT NOT NULL DEFAULT '',
      rationale TEXT NOT NULL DEFAULT '',
      evidence TEXT NOT NULL DEFAULT '',
      status TEXT NOT NULL,   -- pending admitted refused rejected
      rule TEXT NOT NULL DEFAULT '',
      review_note TEXT NOT NULL DEFAULT '',
      created_at TEXT NOT NULL,
      reviewed_at TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX proposals_objective ON proposals (objective_id, status);
    ALTER TABLE agents ADD COLUMN objective_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE agents ADD COLUMN dedupe_key TEXT NOT NULL DEFAULT '';
    CREATE INDEX agents_objective ON agents (objective_id, status);)";

}  // namespace

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> all = [] {
        std::vector<Migration> list;
        auto add = [&](int version, const char* name, const char* sql) {
            list.push_back({version, name, in_dialect(sql, true), in_dialect(sql, false)});
        };
        add(1, "event log", kEventLog);
        add(2, "control plane: agents, missions, mailbox", kControlPlane);
        add(3, "agents: check, timeout, turns, tokens and cost", kAgentUsage);
        add(4, "objectives and proposals", kObjectives);
        return list;
    }();
    return all;
}

Status migrate(Store& store) {
    const int latest = migrations().back().version;
    const bool sqlite = store.dialect() == Dialect::Sqlite;

    auto current_version = [&]() -> Result<int> {
        if (sqlite) {
            FRACTA_TRY_ASSIGN(rows, store.query("PRAGMA user_version"));
            return rows.empty() ? 0 : static_cast<int>(rows[0].integer(0));
        }
        FRACTA_TRY_ASSIGN(rows, store.query("SELECT to_regclass('schema_migrations') IS NOT NULL"));
        if (rows.empty() || rows[0].text(0) != "t") return 0;
        FRACTA_TRY_ASSIGN(max, store.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
        return static_cast<int>(max[0].integer(0));
    };

    FRACTA_TRY_ASSIGN(before, current_version());
    if (before >= latest) return {};

    return store.transaction([&]() -> Status {
        if (!sqlite) FRACTA_TRY(store.exec(kMigrationLock));
        FRACTA_TRY(store.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                              " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"));
        // Another process may have migrated while we waited for the lock.
        FRACTA_TRY_ASSIGN(done, store.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
        int applied = static_cast<int>(done[0].integer(0));
        for (const Migration& m : migrations()) {
            if (m.version <= applied) continue;
            Status step = store.exec(sqlite ? m.sqlite : m.postgres);
            if (!step.ok())
                return std::move(step).take_error().context("migration " + std::to_string(m.version) + " (" +
                                                            m.name + ")");
            FRACTA_TRY(store.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                  {int64_t{m.version}, std::string(m.name), format_rfc3339(now())}));
        }
        if (sqlite) FRACTA_TRY(store.exec("PRAGMA user_version = " + std::to_string(latest)));
        return {};
    });
}

}  // namespace fracta::store
