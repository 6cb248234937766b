#include "events/provider.h"

#include <cstdlib>

#include "base/units.h"
#include "config/config.h"
#include "events/k8s_store.h"
#include "events/log.h"

namespace fracta::events {
namespace {

const cli::Command kQuery = {
    "query", "[--subject TASK] [--type T] [--actor A] [--since DURATION|TIME] [--after-seq N] [--limit N]",
    "Print matching events as NDJSON, oldest first. --limit keeps the newest N.",
    {{"subject", 0, "TASK", "only events about this task"},
     {"type", 0, "TYPE", "only this event type (exact)"},
     {"actor", 0, "ACTOR", "only this actor (exact)"},
     {"since", 0, "WHEN", "only events at or after a time (RFC 3339) or this long ago (10m, 2h)"},
     {"after-seq", 0, "N", "only events with seq > N"},
     {"limit", 'n', "N", "at most the newest N events"}},
    {},
    ""};

const cli::Command kTail = {
    "tail", "[-n N] [-f]", "Print the last N events for people; with --follow keep printing new ones.",
    {{"lines", 'n', "N", "how many past events to show (default 20)"},
     {"follow", 'f', "", "keep printing new events until interrupted"}},
    {},
    ""};

// sqlite: and postgres: — the EventLog over a store::Store, which migrates
// (creates) the store when opened.
class SqlBackend final : public Backend {
public:
    SqlBackend(std::unique_ptr<store::Store> s, uint64_t retention)
        : store_(std::move(s)), log_(*store_, retention) {}
    Status ensure() override { return {}; }
    Result<uint64_t> append(const Event& e) override { return log_.append(e); }
    Result<std::vector<Event>> list(const Filter& f) override { return log_.list(f); }
    Result<uint64_t> latest_seq() override { return log_.latest_seq(); }
    Status watch(uint64_t after, int hangup_fd, const std::function<Status(const Event&)>& sink) override {
        return log_.watch(after, hangup_fd, sink);
    }

private:
    std::unique_ptr<store::Store> store_;
    EventLog log_;
};

std::string text_line(const Event& e) {
    std::string line = std::to_string(e.seq) + "  " + e.ts + "  " + e.type + "  " + (e.actor.empty() ? "-" : e.actor);
    if (!e.subject.empty()) line += "  " + e.subject;
    if (!e.message.empty()) line += "  " + e.message;
    return line + "\n";
}

Result<Event> read_event(Io& io) {
    FRACTA_TRY_ASSIGN(input, io.read_input(kMaxJsonInput));
    FRACTA_TRY_ASSIGN(json, parse_json(input));
    return event_from_json(json, now());
}

Result<Filter> read_filter(Io& io) {
    FRACTA_TRY_ASSIGN(input, io.read_input(kMaxJsonInput));
    if (input.find_first_not_of(" \t\r\n") == std::string::npos) return Filter{};
    FRACTA_TRY_ASSIGN(json, parse_json(input));
    return filter_from_json(json);
}

Result<uint64_t> seq_arg(const std::string& text) {
    FRACTA_TRY_ASSIGN(v, cli::parse_int("after_seq", text));
    return static_cast<uint64_t>(v);
}

Status expect_args(const std::string& op, const std::vector<std::string>& args, size_t max) {
    if (args.size() > max) return usage_error(op + ": unexpected argument \"" + args[max] + "\"");
    return {};
}

Result<Filter> query_filter(const cli::Args& a) {
    Filter f;
    f.subject = a.get("subject");
    f.type = a.get("type");
    f.actor = a.get("actor");
    FRACTA_TRY(cli::int_option(a, "after-seq", f.after_seq));
    FRACTA_TRY(cli::int_option(a, "limit", f.limit));
    f.newest = a.has("limit");
    if (a.has("since")) {
        std::string when = a.get("since");
        auto ago = parse_duration(when);
        if (ago.ok()) {
            Timestamp t = now();
            int64_t ns = t.nanos - static_cast<int64_t>(ago->count() % 1000000000);
            t.seconds -= ago->count() / 1000000000;
            if (ns < 0) {
                ns += 1000000000;
                --t.seconds;
            }
            t.nanos = static_cast<int32_t>(ns);
            f.since = t;
        } else {
            auto at = parse_rfc3339(when);
            if (!at.ok()) return usage_error("--since: not a duration or RFC 3339 time: \"" + when + "\"");
            f.since = *at;
        }
    }
    return f;
}

}  // namespace

uint64_t retention(const config::Config& config) {
    const Json& root = config.document.root;
    if (!root.is_object() || !root.contains("events") || !root["events"].is_object()) return 0;
    const Json& n = root["events"].value("retention", Json());
    return n.is_number_integer() && n.get<int64_t>() > 0 ? n.get<uint64_t>() : 0;
}

Result<StoreChoice> choose_store(const std::string& flag, const std::string& cwd) {
    if (!flag.empty()) return StoreChoice{flag, "--store", {}};
    if (const char* env = std::getenv("FRACTA_EVENTS_STORE"); env && *env)
        return StoreChoice{env, "FRACTA_EVENTS_STORE", {}};
    if (auto file = config::find_file(cwd)) {
        FRACTA_TRY_ASSIGN(cfg, config::load(*file));
        return StoreChoice{config::state_store_url(cfg), *file, cfg.warnings,
                           retention(cfg)};
    }
    std::string base;
    if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg == '/') base = xdg;
    else if (const char* home = std::getenv("HOME"); home && *home) base = std::string(home) + "/.local/state";
    else return usage_error("no store: set --store, FRACTA_EVENTS_STORE, XDG_STATE_HOME or HOME");
    return StoreChoice{"sqlite:" + base + "/fracta/events.db", "default", {}};
}

Result<std::unique_ptr<Backend>> open_backend(const std::string& url, const OpenOptions& options) {
    if (is_k8s_url(url)) {
        FRACTA_TRY_ASSIGN(k8s, K8sStore::open(url, options));
        return std::unique_ptr<Backend>(std::move(k8s));
    }
    FRACTA_TRY_ASSIGN(opened, store::open(url, "fracta-events"));
    return std::unique_ptr<Backend>(std::make_unique<SqlBackend>(std::move(opened), options.retention));
}

Status run(const std::string& op, const std::vector<std::string>& args, const StoreOpener& open_store, Io& io,
           bool text) {
    auto print = [&](const Event& e) { return io.write(text ? text_line(e) : event_line(e) + "\n"); };

    if (op == "ensure-running") {
        FRACTA_TRY(expect_args(op, args, 0));
        FRACTA_TRY_ASSIGN(store, open_store());
        return store->ensure();
    }
    if (op == "record") {
        FRACTA_TRY(expect_args(op, args, 0));
        FRACTA_TRY_ASSIGN(event, read_event(io));
        FRACTA_TRY_ASSIGN(store, open_store());
        FRACTA_TRY_ASSIGN(seq, store->append(event));
        (void)seq;
        return {};
    }
    if (op == "list") {
        FRACTA_TRY(expect_args(op, args, 0));
        FRACTA_TRY_ASSIGN(filter, read_filter(io));
        FRACTA_TRY_ASSIGN(store, open_store());
        FRACTA_TRY_ASSIGN(events, store->list(filter));
        if (text) {
            for (const Event& e : events) FRACTA_TRY(print(e));
            return {};
        }
        Json array = Json::array();
        for (const Event& e : events) array.push_back(event_to_json(e));
        return io.write(to_line(array) + "\n");
    }
    if (op == "latest-seq") {
        FRACTA_TRY(expect_args(op, args, 0));
        FRACTA_TRY_ASSIGN(store, open_store());
        FRACTA_TRY_ASSIGN(seq, store->latest_seq());
        return io.write(std::to_string(seq) + "\n");
    }
    if (op == "watch") {
        FRACTA_TRY(expect_args(op, args, 1));
        uint64_t after = 0;
        if (!args.empty()) {
            FRACTA_TRY_ASSIGN(n, seq_arg(args[0]));
            after = n;
        }
        FRACTA_TRY_ASSIGN(store, open_store());
        return store->watch(after, io.hangup_fd, print);
    }
    if (op == "query" || op == "tail") {
        const cli::Command& sub = op == "query" ? kQuery : kTail;
        std::vector<std::string> words = {op};
        words.insert(words.end(), args.begin(), args.end());
        FRACTA_TRY_ASSIGN(a, cli::parse(sub, words));
        if (a.has("help")) return io.write(cli::help_text(sub));
        if (!a.positional().empty()) return usage_error(op + ": unexpected argument \"" + a.positional()[0] + "\"");
        if (op == "query") {
            FRACTA_TRY_ASSIGN(filter, query_filter(a));
            FRACTA_TRY_ASSIGN(store, open_store());
            FRACTA_TRY_ASSIGN(events, store->list(filter));
            for (const Event& e : events) FRACTA_TRY(print(e));
            return {};
        }
        FRACTA_TRY_ASSIGN(lines, cli::parse_int("--lines", a.get("lines", "20")));
        FRACTA_TRY_ASSIGN(store, open_store());
        Backend& log = *store;
        Filter last;
        last.limit = static_cast<uint64_t>(lines);
        last.newest = true;
        FRACTA_TRY_ASSIGN(latest, log.latest_seq());
        uint64_t cursor = latest;
        if (lines > 0) {
            FRACTA_TRY_ASSIGN(events, log.list(last));
            for (const Event& e : events) FRACTA_TRY(io.write(text_line(e)));
            if (!events.empty()) cursor = events.back().seq;
        }
        if (!a.has("follow")) return {};
        return log.watch(cursor, io.hangup_fd, [&](const Event& e) { return io.write(text_line(e)); });
    }
    return fail(ErrorKind::Unsupported, "unknown operation \"" + op + "\"");
}

}  // namespace fracta::events
