#include "events/k8s_store.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <thread>

namespace fracta::events {
namespace {

using k8s::kConfigMaps;
using steady = std::chrono::steady_clock;

constexpr const char* kManagedBy = "app.kubernetes.io/managed-by";
constexpr const char* kComponent = "gc/component";
constexpr const char* kEventsSelector = "gc/component=event";
// The watch sees the counter too, to notice a seq whose ConfigMap is late.
constexpr const char* kWatchSelector = "gc/component in (event,event-seq)";
constexpr const char* kLastEventKey = "last-event";
// How long a watcher waits for an event the counter already names before it
// lists again (which materialises an event its writer died before creating).
constexpr std::chrono::milliseconds kStuckAfter(2000);

bool alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool dns_label(std::string_view s) {
    if (s.empty() || s.size() > 63) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    return s.front() != '-' && s.back() != '-';
}

const Json* member(const Json& object, std::initializer_list<const char*> path) {
    const Json* at = &object;
    for (const char* key : path) {
        if (!at->is_object()) return nullptr;
        auto it = at->find(key);
        if (it == at->end()) return nullptr;
        at = &*it;
    }
    return at;
}

std::string string_at(const Json& object, std::initializer_list<const char*> path) {
    const Json* v = member(object, path);
    return v && v->is_string() ? v->get<std::string>() : std::string();
}

Result<uint64_t> parse_seq(const std::string& text, const std::string& what) {
    if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
        return failure(what + ": \"" + text + "\" is not a seq");
    return static_cast<uint64_t>(std::stoull(text));
}

// An event as stored: the wire JSON, seq included.
Result<Event> decode_event(const std::string& text, const std::string& where) {
    auto json = parse_json(text);
    if (!json.ok()) return failure(where + ": the event is not JSON");
    auto e = event_from_json(*json, zero_time());
    if (!e.ok()) return failure(where + ": " + e.error().message);
    const Json* seq = member(*json, {"seq"});
    if (!seq || !seq->is_number_unsigned() || seq->get<uint64_t>() == 0)
        return failure(where + ": the event has no seq");
    e->seq = seq->get<uint64_t>();
    return std::move(*e);
}

Result<Event> event_of(const Json& configmap) {
    std::string name = string_at(configmap, {"metadata", "name"});
    const Json* data = member(configmap, {"data", "event"});
    if (!data || !data->is_string()) return failure("ConfigMap " + name + ": no data.event");
    return decode_event(data->get<std::string>(), "ConfigMap " + name);
}

Json event_object(const Event& e) {
    Json labels = Json::object();
    labels[kManagedBy] = "fracta";
    labels[kComponent] = "event";
    labels["gc/type"] = k8s_label_value(e.type);
    labels["gc/actor"] = k8s_label_value(e.actor);
    return Json{{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata", {{"name", k8s_event_name(e.seq)}, {"labels", labels}}},
                {"data", {{"event", event_line(e)}}}};
}

Json counter_object() {
    Json labels = Json::object();
    labels[kManagedBy] = "fracta";
    labels[kComponent] = "event-seq";
    return Json{{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata", {{"name", kK8sCounterName}, {"labels", labels}}},
                {"data", {{"seq", "0"}}}};
}

bool matches(const Event& e, const Filter& f) {
    if (e.seq <= f.after_seq) return false;
    if (!f.type.empty() && e.type != f.type) return false;
    if (!f.actor.empty() && e.actor != f.actor) return false;
    if (!f.subject.empty() && e.subject != f.subject) return false;
    if (f.since) {
        auto ts = parse_rfc3339(e.ts);
        if (!ts.ok() || *ts < *f.since) return false;
    }
    return true;
}

bool hung_up(int fd) {
    if (fd < 0) return false;
    struct pollfd p = {fd, 0, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

double jitter() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

bool is_k8s_url(std::string_view url) {
    return url.starts_with("k8s:");
}

std::string k8s_event_name(uint64_t seq) {
    std::string digits = std::to_string(seq);
    if (digits.size() < 10) digits.insert(0, 10 - digits.size(), '0');
    return kK8sEventPrefix + digits;
}

std::string k8s_label_value(std::string_view text) {
    std::string v;
    for (char c : text.substr(0, 63)) v += alnum(c) || c == '.' || c == '_' || c == '-' ? c : '_';
    size_t first = 0, last = v.size();
    while (first < last && !alnum(v[first])) ++first;
    while (last > first && !alnum(v[last - 1])) --last;
    return v.substr(first, last - first);
}

Result<std::unique_ptr<K8sStore>> K8sStore::open(const std::string& url, const OpenOptions& options) {
    if (!is_k8s_url(url)) return usage_error("not a k8s: store URL: \"" + url + "\"");
    std::string ns = url.substr(4);
    if (!ns.empty() && !dns_label(ns))
        return usage_error("store " + url + ": \"" + ns + "\" is not a namespace name (a DNS label)");
    k8s::ResolveOptions ro;
    ro.kubeconfig = options.kubeconfig;
    ro.context = options.context;
    ro.ns = ns;
    FRACTA_TRY_ASSIGN(config, k8s::Config::resolve(ro));
    return std::make_unique<K8sStore>(k8s::Client(std::move(config)));
}

Result<K8sStore::Counter> K8sStore::read_counter(bool create) {
    // Two rounds: a racing first writer may create it between our GET and CREATE.
    for (int round = 0; round < 2; ++round) {
        auto got = client_.get(kConfigMaps, kK8sCounterName);
        Json object;
        if (got.ok()) {
            object = std::move(*got);
        } else if (!got.not_found()) {
            return std::move(got).take_error();
        } else if (!create) {
            return Counter{};
        } else {
            auto made = client_.create(kConfigMaps, counter_object());
            if (!made.ok() && made.already_exists()) continue;
            if (!made.ok()) return std::move(made).take_error();
            object = std::move(*made);
        }
        Counter c;
        FRACTA_TRY_ASSIGN(seq,
                          parse_seq(string_at(object, {"data", "seq"}), std::string(kK8sCounterName) + " data.seq"));
        c.seq = seq;
        // last-event belongs to this seq only if its seq says so (another
        // writer, e.g. Gas City's script, may have bumped the counter alone).
        std::string last = string_at(object, {"data", kLastEventKey});
        if (!last.empty()) {
            auto e = decode_event(last, std::string(kK8sCounterName) + " data." + kLastEventKey);
            if (e.ok() && e->seq == c.seq) c.last = std::move(*e);
        }
        c.object = std::move(object);
        return c;
    }
    return temporary_error(std::string("ConfigMap ") + kK8sCounterName + " keeps appearing and vanishing");
}

Status K8sStore::materialise(const Counter& c) {
    if (!c.last) return {};
    auto made = client_.create(kConfigMaps, event_object(*c.last));
    if (made.ok() || made.already_exists()) return {};
    return std::move(made).take_error();
}

Result<K8sStore::Counter> K8sStore::settled_counter(bool create) {
    FRACTA_TRY_ASSIGN(c, read_counter(create));
    FRACTA_TRY(materialise(c));
    return c;
}

Status K8sStore::ensure() {
    FRACTA_TRY_ASSIGN(c, settled_counter(true));
    (void)c;
    return {};
}

Result<uint64_t> K8sStore::append(const Event& event) {
    k8s::RetryPolicy policy;
    policy.attempts = kCasAttempts;
    policy.base = std::chrono::milliseconds(10);
    policy.cap = std::chrono::milliseconds(500);
    for (int attempt = 1; attempt <= kCasAttempts; ++attempt) {
        // Settling first is what keeps ConfigMaps appearing in seq order.
        auto c = settled_counter(true);
        if (!c.ok()) return std::move(c).take_error().context("record");
        Event mine = event;
        mine.seq = c->seq + 1;
        Json next = std::move(c->object);
        next["data"]["seq"] = std::to_string(mine.seq);
        next["data"][kLastEventKey] = event_line(mine);
        auto put = client_.replace(kConfigMaps, kK8sCounterName, next);  // carries resourceVersion: a CAS
        if (put.ok()) {
            // Committed. A failure here is repaired by the next reader or writer.
            (void)client_.create(kConfigMaps, event_object(mine));
            return mine.seq;
        }
        // 404: deleted since we read it; both mean "read again".
        if (!put.conflict() && !put.not_found()) return std::move(put).take_error().context("record");
        std::this_thread::sleep_for(k8s::backoff_delay(attempt, policy, jitter()));
    }
    return temporary_error(std::string("record: ConfigMap ") + kK8sCounterName + " changed under every one of " +
                           std::to_string(kCasAttempts) + " attempts (too many concurrent writers)");
}

Result<std::vector<Event>> K8sStore::list_events(const std::string& selector, std::string* resource_version) {
    k8s::Query q;
    q.label_selector = selector;
    auto listed = client_.list(kConfigMaps, q);
    if (!listed.ok()) return std::move(listed).take_error();
    if (resource_version) *resource_version = string_at(*listed, {"metadata", "resourceVersion"});
    std::vector<Event> events;
    if (const Json* items = member(*listed, {"items"}); items && items->is_array()) {
        events.reserve(items->size());
        for (const Json& item : *items) {
            FRACTA_TRY_ASSIGN(e, event_of(item));
            events.push_back(std::move(e));
        }
    }
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.seq < b.seq; });
    return events;
}

bool K8sStore::adopt_last(const Counter& c, const std::vector<Event>& listed) {
    if (!c.last) return false;
    for (auto it = listed.rbegin(); it != listed.rend(); ++it)
        if (it->seq == c.seq) return false;
    // Its writer died before creating it. Best effort: a reader without
    // create rights still answers with the event, and the next writer
    // creates the ConfigMap anyway.
    (void)materialise(c);
    return true;
}

Result<std::vector<Event>> K8sStore::list(const Filter& f) {
    // The counter first: every event below its seq has a ConfigMap, so the
    // LIST after it misses at most the counter's own last event.
    FRACTA_TRY_ASSIGN(c, read_counter(false));
    std::string selector = kEventsSelector;
    // Labels narrow the LIST; the exact strings are checked below.
    if (std::string v = k8s_label_value(f.type); !f.type.empty() && !v.empty()) selector += ",gc/type=" + v;
    if (std::string v = k8s_label_value(f.actor); !f.actor.empty() && !v.empty()) selector += ",gc/actor=" + v;
    FRACTA_TRY_ASSIGN(all, list_events(selector, nullptr));
    if (c.last && matches(*c.last, f) && adopt_last(c, all)) {
        all.push_back(*c.last);
        std::sort(all.begin(), all.end(), [](const Event& a, const Event& b) { return a.seq < b.seq; });
    }
    std::vector<Event> events;
    for (Event& e : all)
        if (matches(e, f)) events.push_back(std::move(e));
    if (f.limit && events.size() > f.limit) {
        if (f.newest)
            events.erase(events.begin(), events.end() - static_cast<std::ptrdiff_t>(f.limit));
        else
            events.resize(f.limit);
    }
    return events;
}

Result<uint64_t> K8sStore::latest_seq() {
    // list includes the counter's last event even before its ConfigMap exists.
    FRACTA_TRY_ASSIGN(c, read_counter(false));
    return c.seq;
}

namespace {

// A watcher's place in the sequence: events reach the sink in seq order,
// each once; those that arrive before their predecessor wait in `early`.
struct Delivery {
    uint64_t cursor;
    const std::function<Status(const Event&)>& sink;
    std::map<uint64_t, Event> early;

    void offer(Event e) {
        if (e.seq > cursor) early.emplace(e.seq, std::move(e));
    }
    Status flush() {
        while (!early.empty() && early.begin()->first <= cursor + 1) {
            auto it = early.begin();
            if (it->first == cursor + 1) {
                FRACTA_TRY(sink(it->second));
                cursor = it->first;
            }
            early.erase(it);
        }
        return {};
    }
};

// A temporary error is waited out (250 ms, doubling to 10 s; a hang-up cuts
// the wait short); any other error ends the watch.
class Backoff {
public:
    explicit Backoff(int hangup_fd) : hangup_fd_(hangup_fd) {}

    Status pause_after(Error e) {
        if (e.kind != ErrorKind::Temporary) return e;
        wait_ = std::min(std::chrono::milliseconds(10000), std::max(std::chrono::milliseconds(250), wait_ * 2));
        for (auto until = steady::now() + wait_; steady::now() < until;) {
            if (hung_up(hangup_fd_)) return {};
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return {};
    }
    void reset() { wait_ = std::chrono::milliseconds(0); }

private:
    int hangup_fd_;
    std::chrono::milliseconds wait_{0};
};

// How following the API's watch ended, besides the watch's own result.
struct Followed {
    bool hangup = false;           // the reader went away
    std::optional<Error> stopped;  // the sink failed, or an event ConfigMap is bad
};

// The second half of a round of watch(): the API's watch from the list's
// resourceVersion (events and counter changes), until the reader hangs up,
// the watch ends, or the counter is ahead and nothing arrived for
// kStuckAfter (then the caller lists again).
k8s::ApiResult<k8s::WatchResult> follow_changes(k8s::Client& client, Delivery& d, uint64_t counter_seq,
                                                const std::string& rv, int hangup_fd, Followed& out) {
    uint64_t counter_seen = counter_seq;
    auto last_progress = steady::now();
    k8s::WatchOptions o;
    o.label_selector = kWatchSelector;
    o.resource_version = rv;
    o.cancelled = [&] {
        if (hung_up(hangup_fd)) return out.hangup = true;
        return counter_seen > d.cursor && steady::now() - last_progress > kStuckAfter;
    };
    auto on_event = [&](const k8s::WatchEvent& ev) -> bool {
        if (ev.type != "ADDED" && ev.type != "MODIFIED") return true;  // DELETED: retention; BOOKMARK
        std::string component = string_at(ev.object, {"metadata", "labels", kComponent});
        if (component == "event-seq") {
            auto seq = parse_seq(string_at(ev.object, {"data", "seq"}), kK8sCounterName);
            if (seq.ok() && *seq > counter_seen) {
                counter_seen = *seq;
                if (counter_seen > d.cursor && d.early.empty()) last_progress = steady::now();
            }
            return true;
        }
        auto e = event_of(ev.object);
        if (!e.ok()) {
            out.stopped = std::move(e).take_error();
            return false;
        }
        counter_seen = std::max(counter_seen, e->seq);
        uint64_t before = d.cursor;
        d.offer(std::move(*e));
        Status sent = d.flush();
        if (!sent.ok()) {
            out.stopped = std::move(sent).take_error();
            return false;
        }
        if (d.cursor != before) last_progress = steady::now();
        return true;
    };
    return client.watch(kConfigMaps, o, on_event);
}

}  // namespace

Status K8sStore::watch(uint64_t after_seq, int hangup_fd, const std::function<Status(const Event&)>& sink) {
    Delivery d{after_seq, sink, {}};
    Backoff backoff(hangup_fd);
    for (;;) {
        if (hung_up(hangup_fd)) return {};
        // List: the counter, then everything there is.
        auto c = read_counter(false);
        if (!c.ok()) {
            FRACTA_TRY(backoff.pause_after(std::move(c).take_error()));
            continue;
        }
        std::string rv;
        auto listed = list_events(kEventsSelector, &rv);
        if (!listed.ok()) {
            FRACTA_TRY(backoff.pause_after(std::move(listed).take_error()));
            continue;
        }
        if (c->last && c->seq > d.cursor && adopt_last(*c, *listed)) d.early.emplace(c->seq, *c->last);
        for (Event& e : *listed) d.offer(std::move(e));
        // Below the oldest ConfigMap there is nothing left to wait for: those
        // events were deleted (retention), not delayed.
        if (!d.early.empty() && d.early.begin()->first > d.cursor + 1 && d.cursor + 1 <= c->seq)
            d.cursor = d.early.begin()->first - 1;
        FRACTA_TRY(d.flush());

        Followed followed;
        auto watched = follow_changes(client_, d, c->seq, rv, hangup_fd, followed);
        if (followed.stopped) return *followed.stopped;
        if (followed.hangup) return {};
        if (!watched.ok()) {
            FRACTA_TRY(backoff.pause_after(std::move(watched).take_error()));
            continue;
        }
        backoff.reset();  // stuck, or the watch ended: list again
    }
}

}  // namespace fracta::events
