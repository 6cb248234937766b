// postgres.cc — the shared store: libpq, one connection per Store, text
// parameters, LISTEN/NOTIFY for change notification.
//
// Host names are resolved with c-ares and passed as `hostaddr`, so the static
// binaries connect by name without glibc's NSS. A dropped connection is
// re-established before the next statement (and LISTENs re-issued), so a
// restarted database costs a temporary error, not a dead process.
#include <libpq-fe.h>
#include <poll.h>

#include <cstring>
#include <random>
#include <set>
#include <thread>

#include "base/io.h"
#include "net/resolve.h"
#include "store/store.h"

namespace fracta::store {
namespace {

std::string first_line(const char* text) {
    std::string s = text ? text : "";
    if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
    return s;
}

// SQLSTATE classes that mean "try again": connection exceptions, serialization
// failures and deadlocks, insufficient resources, operator intervention.
bool transient_sqlstate(const std::string& state) {
    return state.rfind("08", 0) == 0 || state == "40001" || state == "40P01" || state.rfind("53", 0) == 0 ||
           state.rfind("57P", 0) == 0 || state == "55P03";
}

bool transient_connect_error(const std::string& why) {
    for (const char* s : {"Connection refused", "timeout", "timed out", "No such file or directory",
                          "starting up", "shutting down", "too many clients", "could not translate", "resolve",
                          "server closed the connection", "Network is unreachable", "No route to host"})
        if (why.find(s) != std::string::npos) return true;
    return false;
}

class PgStore final : public Store {
public:
    PgStore(std::vector<std::string> keys, std::vector<std::string> values, std::string described)
        : keys_(std::move(keys)), values_(std::move(values)), described_(std::move(described)) {}
    ~PgStore() override {
        if (conn_) PQfinish(conn_);
    }

    Status connect() {
        if (conn_) PQfinish(conn_);
        std::vector<const char*> k, v;
        for (size_t i = 0; i < keys_.size(); ++i) {
            k.push_back(keys_[i].c_str());
            v.push_back(values_[i].c_str());
        }
        k.push_back(nullptr);
        v.push_back(nullptr);
        conn_ = PQconnectdbParams(k.data(), v.data(), 1);
        if (PQstatus(conn_) != CONNECTION_OK) {
            std::string why = first_line(PQerrorMessage(conn_));
            return fail(transient_connect_error(why) ? ErrorKind::Temporary : ErrorKind::Failed,
                        "connect " + described_ + ": " + why);
        }
        // Notices ("relation exists, skipping") are not errors; keep stderr clean.
        PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
        for (const std::string& channel : channels_) {
            auto listened = run("LISTEN \"" + channel + "\"", {});
            if (!listened.ok()) return std::move(listened).take_error();
        }
        return {};
    }

    Dialect dialect() const override { return Dialect::Postgres; }
    std::string describe() const override { return described_; }

    Status exec(std::string_view sql, const Params& params) override {
        auto rows = run(sql, params);
        if (!rows.ok()) return std::move(rows).take_error();
        return {};
    }
    Result<Rows> query(std::string_view sql, const Params& params) override { return run(sql, params); }

    Status transaction(const std::function<Status()>& body) override {
        std::mt19937 rng(std::random_device{}());
        for (int attempt = 1;; ++attempt) {
            Status begun = exec("BEGIN", {});
            Status result = begun.ok() ? body() : begun;
            bool committing = false;
            if (result.ok()) {
                committing = true;
                result = exec("COMMIT", {});
                if (result.ok()) return {};
            }
            in_tx_ = false;
            if (PQstatus(conn_) == CONNECTION_OK) {
                PGresult* r = PQexec(conn_, "ROLLBACK");
                PQclear(r);
            }
            // A COMMIT lost with its connection may have happened: never
            // replay it. Conflicts and failures before COMMIT are safe to retry.
            bool lost_commit = committing && PQstatus(conn_) != CONNECTION_OK;
            if (result.error().kind != ErrorKind::Temporary || lost_commit || attempt >= 8) return result;
            std::uniform_int_distribution<int> jitter(0, 10 << attempt);
            std::this_thread::sleep_for(std::chrono::milliseconds(5 + jitter(rng)));
        }
    }

    Status notify(const std::string& channel) override {
        return exec("SELECT pg_notify(?, '')", {channel});
    }

    Status listen(const std::string& channel) override {
        if (!channels_.insert(channel).second) return {};
        return exec("LISTEN \"" + channel + "\"", {});
    }

    Result<Wake> wait_change(std::chrono::milliseconds timeout, int hangup_fd) override {
        if (PQstatus(conn_) != CONNECTION_OK) FRACTA_TRY(connect());
        if (drain_notifies()) return Wake::Changed;
        struct pollfd fds[2] = {{PQsocket(conn_), POLLIN, 0}, {hangup_fd, 0, 0}};
        int n = ::poll(fds, hangup_fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
        if (n < 0 && errno != EINTR) return temporary_error("poll: " + io::errno_text(errno));
        if (n <= 0) return Wake::Timeout;
        if (hangup_fd >= 0 && (fds[1].revents & (POLLERR | POLLHUP | POLLNVAL))) return Wake::Hangup;
        if (!PQconsumeInput(conn_))
            return temporary_error(described_ + ": connection lost: " + first_line(PQerrorMessage(conn_)));
        return drain_notifies() ? Wake::Changed : Wake::Timeout;
    }

private:
    bool drain_notifies() {
        bool any = false;
        while (PGnotify* n = PQnotifies(conn_)) {
            any = true;
            PQfreemem(n);
        }
        return any;
    }

    Result<Rows> run(std::string_view sql, const Params& params) {
        std::string text(sql);
        bool starts_tx = text == "BEGIN";
        // Outside a transaction a dead connection is simply re-opened.
        if (!in_tx_ && PQstatus(conn_) != CONNECTION_OK) FRACTA_TRY(connect());

        PGresult* res;
        if (params.empty()) {
            res = PQexec(conn_, text.c_str());
        } else {
            std::string converted = postgres_placeholders(text);
            std::vector<std::string> storage;
            std::vector<const char*> values;
            storage.reserve(params.size());
            for (const Value& v : params) {
                if (auto p = std::get_if<int64_t>(&v)) storage.push_back(std::to_string(*p));
                else if (auto s = std::get_if<std::string>(&v)) storage.push_back(*s);
                else storage.emplace_back();
            }
            for (size_t i = 0; i < params.size(); ++i)
                values.push_back(std::holds_alternative<std::monostate>(params[i]) ? nullptr : storage[i].c_str());
            res = PQexecParams(conn_, converted.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0);
        }
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            std::string why = first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(conn_));
            if (why.empty()) why = first_line(PQerrorMessage(conn_));
            bool transient = PQstatus(conn_) != CONNECTION_OK || (state && transient_sqlstate(state));
            PQclear(res);
            return fail(transient ? ErrorKind::Temporary : ErrorKind::Failed, described_ + ": " + why);
        }
        if (starts_tx) in_tx_ = true;
        if (text == "COMMIT" || text == "ROLLBACK") in_tx_ = false;
        Rows rows;
        int nrows = PQntuples(res), ncols = PQnfields(res);
        rows.reserve(static_cast<size_t>(nrows));
        for (int r = 0; r < nrows; ++r) {
            Row row;
            for (int c = 0; c < ncols; ++c) {
                if (PQgetisnull(res, r, c)) row.columns.emplace_back(std::monostate{});
                else row.columns.emplace_back(std::string(PQgetvalue(res, r, c),
                                                          static_cast<size_t>(PQgetlength(res, r, c))));
            }
            rows.push_back(std::move(row));
        }
        PQclear(res);
        return rows;
    }

    std::vector<std::string> keys_, values_;
    std::string described_;
    PGconn* conn_ = nullptr;
    bool in_tx_ = false;
    std::set<std::string> channels_;
};

// postgres://user:secret@host/db → postgres://user@host/db
std::string without_password(const std::string& url) {
    auto scheme = url.find("://");
    auto at = url.find('@');
    if (scheme == std::string::npos || at == std::string::npos) return url;
    auto colon = url.find(':', scheme + 3);
    if (colon == std::string::npos || colon > at) return url;
    return url.substr(0, colon) + url.substr(at);
}

}  // namespace

Result<std::unique_ptr<Store>> open_postgres(const std::string& url, const std::string& application_name) {
    const std::string described = without_password(url);
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
    if (!opts) {
        std::string why = first_line(err ? err : "cannot parse");
        PQfreemem(err);
        return usage_error("bad store URL \"" + described + "\": " + why);
    }
    std::string host, hostaddr;
    bool has_timeout = false;
    for (PQconninfoOption* o = opts; o->keyword; ++o) {
        if (!o->val) continue;
        if (!std::strcmp(o->keyword, "host")) host = o->val;
        if (!std::strcmp(o->keyword, "hostaddr")) hostaddr = o->val;
        if (!std::strcmp(o->keyword, "connect_timeout")) has_timeout = true;
    }
    PQconninfoFree(opts);

    // libpq expands the URL given as dbname; later keywords override it.
    std::vector<std::string> keys = {"dbname", "fallback_application_name"};
    std::vector<std::string> values = {url, application_name};
    if (!has_timeout) {
        keys.push_back("connect_timeout");
        values.push_back("10");
    }
    bool named_host = !host.empty() && host[0] != '/' && host[0] != '@' && host.find(',') == std::string::npos &&
                      !net::is_ip_literal(host);
    if (named_host && hostaddr.empty()) {
        // Try every address of the name in turn (host repeated, one addr each).
        FRACTA_TRY_ASSIGN(addrs, net::resolve_host(host));
        std::string hosts, addr_list;
        for (const std::string& a : addrs) {
            hosts += (hosts.empty() ? "" : ",") + host;
            addr_list += (addr_list.empty() ? "" : ",") + a;
        }
        keys.push_back("host");
        values.push_back(hosts);
        keys.push_back("hostaddr");
        values.push_back(addr_list);
    }
    auto store = std::make_unique<PgStore>(std::move(keys), std::move(values), described);
    FRACTA_TRY(store->connect());
    return std::unique_ptr<Store>(std::move(store));
}

}  // namespace fracta::store
