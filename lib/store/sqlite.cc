// sqlite.cc — the embedded store: one file, WAL mode, one writer at a time
// (BEGIN IMMEDIATE), readers never blocked. Watchers learn of commits by
// watching the database's write-ahead log with inotify: no polling loop, and
// it works across processes.
#include <poll.h>
#include <sqlite3.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "base/io.h"
#include "store/store.h"

namespace fracta::store {
namespace {

namespace fs = std::filesystem;

ErrorKind kind_of(int code) {
    switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
        return ErrorKind::Temporary;
    default:
        return ErrorKind::Failed;
    }
}

class SqliteStore final : public Store {
public:
    SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
    ~SqliteStore() override {
        if (inotify_fd_ >= 0) ::close(inotify_fd_);
        truncate_wal_if_large();
        sqlite3_close_v2(db_);
    }

    Dialect dialect() const override { return Dialect::Sqlite; }
    std::string describe() const override { return "sqlite:" + path_; }

    Status exec(std::string_view sql, const Params& params) override {
        if (params.empty()) {
            // Several statements (migrations): sqlite3_exec runs them all.
            std::string text(sql);
            char* msg = nullptr;
            int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg);
            if (rc != SQLITE_OK) {
                std::string why = msg ? msg : sqlite3_errstr(rc);
                sqlite3_free(msg);
                return fail(kind_of(rc), describe() + ": " + why);
            }
            return {};
        }
        auto rows = run(sql, params);
        if (!rows.ok()) return std::move(rows).take_error();
        return {};
    }

    Result<Rows> query(std::string_view sql, const Params& params) override { return run(sql, params); }

    Status transaction(const std::function<Status()>& body) override {
        // BEGIN IMMEDIATE takes the write lock now, waiting (busy_timeout)
        // behind other writers, so the body never hits a mid-way conflict.
        FRACTA_TRY(exec("BEGIN IMMEDIATE", {}));
        Status result = body();
        if (result.ok()) {
            Status commit = exec("COMMIT", {});
            if (commit.ok()) return {};
            result = std::move(commit);
        }
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return result;
    }

    Status notify(const std::string&) override { return {}; }  // the WAL write is the notification

    Status listen(const std::string&) override {
        if (inotify_fd_ >= 0) return {};
        inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (inotify_fd_ < 0) return temporary_error("inotify: " + io::errno_text(errno));
        fs::path dir = fs::path(path_).parent_path();
        if (dir.empty()) dir = ".";
        if (inotify_add_watch(inotify_fd_, dir.c_str(), IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO) < 0)
            return temporary_error("inotify " + dir.string() + ": " + io::errno_text(errno));
        return {};
    }

    Result<Wake> wait_change(std::chrono::milliseconds timeout, int hangup_fd) override {
        const std::string base = fs::path(path_).filename().string();
        struct pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {hangup_fd, 0, 0}};
        int n = ::poll(fds, hangup_fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
        if (n < 0 && errno != EINTR) return temporary_error("poll: " + io::errno_text(errno));
        if (n <= 0) return Wake::Timeout;
        if (hangup_fd >= 0 && (fds[1].revents & (POLLERR | POLLHUP | POLLNVAL))) return Wake::Hangup;
        bool changed = false;
        alignas(struct inotify_event) char buf[8192];
        for (;;) {
            ssize_t len = ::read(inotify_fd_, buf, sizeof buf);
            if (len <= 0) break;
            for (char* p = buf; p < buf + len;) {
                auto* ev = reinterpret_cast<struct inotify_event*>(p);
                std::string name = ev->len ? ev->name : "";
                if (name == base || name == base + "-wal") changed = true;
                p += sizeof(struct inotify_event) + ev->len;
            }
        }
        return changed ? Wake::Changed : Wake::Timeout;
    }

private:
    // We keep the WAL across processes (no checkpoint on close), but the
    // first opener of a database replays the whole WAL and forgets how much
    // of it was already checkpointed — so an untended WAL only grows, and
    // every open gets slower. Fold it back and empty it once it is large:
    // one checkpoint per ~hundred records instead of one per process.
    void truncate_wal_if_large() {
        struct stat st;
        if (::stat((path_ + "-wal").c_str(), &st) != 0 || st.st_size < kWalTruncateBytes) return;
        sqlite3_exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
    }
    static constexpr off_t kWalTruncateBytes = 1 << 20;

    Result<Rows> run(std::string_view sql, const Params& params) {
        sqlite3_stmt* stmt = nullptr;
        int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
        if (rc != SQLITE_OK) return fail(kind_of(rc), describe() + ": " + sqlite3_errmsg(db_));
        for (size_t i = 0; i < params.size(); ++i) {
            int idx = static_cast<int>(i + 1);
            const Value& v = params[i];
            if (auto p = std::get_if<int64_t>(&v)) sqlite3_bind_int64(stmt, idx, *p);
            else if (auto s = std::get_if<std::string>(&v))
                sqlite3_bind_text(stmt, idx, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
            else sqlite3_bind_null(stmt, idx);
        }
        Rows rows;
        for (;;) {
            rc = sqlite3_step(stmt);
            if (rc == SQLITE_DONE) break;
            if (rc != SQLITE_ROW) {
                std::string why = sqlite3_errmsg(db_);
                sqlite3_finalize(stmt);
                return fail(kind_of(rc), describe() + ": " + why);
            }
            Row row;
            int cols = sqlite3_column_count(stmt);
            for (int c = 0; c < cols; ++c) {
                switch (sqlite3_column_type(stmt, c)) {
                case SQLITE_NULL: row.columns.emplace_back(std::monostate{}); break;
                case SQLITE_INTEGER: row.columns.emplace_back(int64_t{sqlite3_column_int64(stmt, c)}); break;
                default:
                    row.columns.emplace_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)),
                                                         static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
                }
            }
            rows.push_back(std::move(row));
        }
        sqlite3_finalize(stmt);
        return rows;
    }

    sqlite3* db_;
    std::string path_;
    int inotify_fd_ = -1;
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite(const std::string& raw_path) {
    std::error_code ec;
    std::string path = fs::absolute(raw_path, ec).lexically_normal().string();
    if (ec) return usage_error("bad sqlite path \"" + raw_path + "\"");
    FRACTA_TRY(io::make_dirs(fs::path(path).parent_path().string(), 0700));

    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close_v2(db);
        return failure("open sqlite:" + path + ": " + why);
    }
    auto store = std::make_unique<SqliteStore>(db, path);
    // WAL: readers never block the writer. synchronous=NORMAL: a commit
    // survives a process crash; only a power loss can drop the last ones.
    // Most users are short processes (one record, one latest-seq): keep the
    // WAL and its index between them instead of checkpointing (and syncing)
    // on every close; the automatic checkpoint every ~1000 pages still runs.
    sqlite3_busy_timeout(db, 30000);
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    int persist = 1;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    // Switching a new file to WAL needs an exclusive lock, and SQLite skips
    // the busy handler when waiting could deadlock (we read, another process
    // holds a write lock): wait here instead, as long as busy_timeout would.
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (int attempt = 0;; ++attempt) {
        Status s = store->exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", {});
        if (s.ok()) break;
        if (s.error().kind != ErrorKind::Temporary || std::chrono::steady_clock::now() > give_up)
            return std::move(s).take_error();
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5 << std::min(attempt, 4), 50)));
    }
    return std::unique_ptr<Store>(std::move(store));
}

}  // namespace fracta::store
