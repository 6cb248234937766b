// store.h — the one interface to fracta's state, with a sqlite and a
// Postgres implementation behind it.
//
// SQL is written once with `?` placeholders (rewritten to $1, $2 … for
// Postgres). Writes happen inside transaction(), which serialises writers
// (sqlite: BEGIN IMMEDIATE; Postgres: row locks taken by the statements) and
// retries on transient conflicts. Change notification is part of the
// interface because the two engines do it differently: Postgres with
// LISTEN/NOTIFY, sqlite by watching its write-ahead log with inotify.
//
// Errors are classified for the exit codes: an unreachable server, a busy
// database or a full disk is Temporary (retry later); bad SQL or a broken file
// is Failed; a malformed URL is Usage.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"

namespace fracta::store {

using Value = std::variant<std::monostate, int64_t, std::string>;
using Params = std::vector<Value>;

struct Row {
    std::vector<Value> columns;

    bool is_null(size_t i) const { return std::holds_alternative<std::monostate>(columns.at(i)); }
    int64_t integer(size_t i) const;   // 0 when null
    std::string text(size_t i) const;  // "" when null
};
using Rows = std::vector<Row>;

enum class Dialect { Sqlite, Postgres };

// Why wait_change() returned.
enum class Wake { Changed, Timeout, Hangup };

class Store {
public:
    virtual ~Store() = default;

    virtual Dialect dialect() const = 0;
    // The URL with any password removed: safe for messages and logs.
    virtual std::string describe() const = 0;

    virtual Status exec(std::string_view sql, const Params& params = {}) = 0;
    virtual Result<Rows> query(std::string_view sql, const Params& params = {}) = 0;

    // Run `body` in a write transaction: commit if it succeeds, roll back if
    // not. Transient conflicts (busy, serialization failure, deadlock) retry
    // the whole body with jittered backoff, so `body` must be re-runnable.
    virtual Status transaction(const std::function<Status()>& body) = 0;

    // Inside a transaction: wake every listener of `channel` at commit.
    virtual Status notify(const std::string& channel) = 0;
    // Subscribe this connection to `channel` (call once, before waiting).
    virtual Status listen(const std::string& channel) = 0;
    // Block until something may have changed on a listened channel, the
    // timeout passes, or `hangup_fd` (if >= 0) reports an error or hangup —
    // how a watcher notices that its reader went away.
    virtual Result<Wake> wait_change(std::chrono::milliseconds timeout, int hangup_fd) = 0;
};

struct Migration {
    int version;
    const char* name;
    std::string sqlite;    // the step in each dialect
    std::string postgres;
};

// All migrations, in order. Applied by open(): idempotent, and safe when
// several processes start at once.
const std::vector<Migration>& migrations();

// Open a store by URL and bring its schema up to date.
//   sqlite:/path/file.db   sqlite:relative.db   sqlite:///abs/path.db
//   postgres://…  postgresql://…  (libpq URLs; host names resolved with c-ares)
Result<std::unique_ptr<Store>> open(const std::string& url, const std::string& application_name = "fracta");

// Implementation entry points, used by open().
Result<std::unique_ptr<Store>> open_sqlite(const std::string& path);
Result<std::unique_ptr<Store>> open_postgres(const std::string& conninfo, const std::string& application_name);
Status migrate(Store& store);

// Rewrite `?` placeholders to `$1, $2, …` outside quoted strings.
std::string postgres_placeholders(std::string_view sql);

}  // namespace fracta::store
