// watch.cc — the streaming calls of Client: watches (list-then-watch,
// resuming from the last resourceVersion, re-listing after 410 Gone), pod
// logs, and requests through pods/proxy.
#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>

#include "k8s/client.h"
#include "k8s/watch_stream.h"

namespace fracta::k8s {
namespace {

using steady = std::chrono::steady_clock;

std::string resource_version_of(const Json& object) {
    if (!object.is_object()) return "";
    auto m = object.find("metadata");
    if (m == object.end() || !m->is_object()) return "";
    auto rv = m->find("resourceVersion");
    return rv != m->end() && rv->is_string() ? rv->get<std::string>() : "";
}

long status_code_of(const Json& status) {
    auto c = status.is_object() ? status.find("code") : status.end();
    return c != status.end() && c->is_number_integer() ? c->get<long>() : 0;
}

// The RBAC verb a request through pods/proxy needs.
std::string rbac_verb(const std::string& method) {
    if (method == "GET" || method == "HEAD") return "get";
    if (method == "POST") return "create";
    if (method == "PUT") return "update";
    if (method == "PATCH") return "patch";
    if (method == "DELETE") return "delete";
    return method;
}

// LIST, each item to `on_event` as ADDED (listed), and the list's version to
// watch from. True: on_event asked to stop.
ApiResult<bool> relist(Client& client, const Resource& r, const WatchOptions& o, const WatchCallback& on_event,
                       WatchResult& result) {
    Query q;
    q.label_selector = o.label_selector;
    q.field_selector = o.field_selector;
    auto listed = client.list(r, q);
    if (!listed.ok()) return listed.api_error();
    result.resource_version = resource_version_of(*listed);
    if (auto items = listed->find("items"); items != listed->end() && items->is_array())
        for (auto& item : *items)
            if (!on_event(WatchEvent{"ADDED", std::move(item), true})) return true;
    return false;
}

// The query of one watch stream from `version`, and its server-side timeout.
Query watch_query(const WatchOptions& o, const std::string& version, long timeout_s) {
    Query q;
    q.label_selector = o.label_selector;
    q.field_selector = o.field_selector;
    q.resource_version = version;
    q.watch = true;
    q.allow_watch_bookmarks = true;
    q.timeout_seconds = timeout_s;
    return q;
}

long watch_timeout(const WatchOptions& o) {
    long timeout_s = std::max(1L, o.server_timeout_seconds);
    if (o.deadline) {
        auto left = std::chrono::ceil<std::chrono::seconds>(*o.deadline - steady::now()).count();
        timeout_s = std::clamp<long>(left, 1, timeout_s);
    }
    return timeout_s;
}

}  // namespace

bool EventStream::line(std::string_view text) {
    if (text.empty()) return true;
    auto parsed = parse_json(text, size_t{64} << 20);
    if (!parsed.ok() || !parsed->is_object()) {
        failed = ApiError{0, "", "bad watch event",
                          failure("watch " + resource.qualified() + ": a watch event is not JSON")};
        return false;
    }
    WatchEvent ev;
    if (auto t = parsed->find("type"); t != parsed->end() && t->is_string()) ev.type = *t;
    if (auto obj = parsed->find("object"); obj != parsed->end()) ev.object = std::move(*obj);
    ++events;
    if (ev.type == "ERROR") {
        long code = status_code_of(ev.object);
        if (code == 410) {
            gone = true;
            return false;
        }
        failed = error_for(code ? static_cast<int>(code) : 500, to_line(ev.object));
        if (!on_event(ev)) stop = true;
        return false;
    }
    if (auto rv = resource_version_of(ev.object); !rv.empty()) result.resource_version = rv;
    if (!on_event(ev)) {
        stop = true;
        return false;
    }
    return true;
}

bool EventStream::data(std::string_view bytes) {
    pending.append(bytes);
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1)
        if (!line(std::string_view(pending).substr(start, nl - start))) return false;
    pending.erase(0, start);
    return true;
}

void EventStream::finish() {
    if (!pending.empty() && !stop && !gone && !failed) line(pending);
}

ApiResult<WatchResult> Client::watch(const Resource& r, const WatchOptions& o, const WatchCallback& on_event) {
    WatchResult result;
    result.resource_version = o.resource_version;
    auto deadline_passed = [&] { return o.deadline && steady::now() >= *o.deadline; };
    auto interrupted = [&] { return deadline_passed() || (o.cancelled && o.cancelled()); };
    auto ended = [&] {
        result.end = deadline_passed() ? WatchEnd::Deadline : WatchEnd::Cancelled;
        return result;
    };
    if (result.resource_version.empty()) {
        auto first = relist(*this, r, o, on_event, result);
        if (!first.ok()) return first.api_error();
        if (*first) return result;
    }
    int failures = 0;  // consecutive streams that failed or ended at once, without events
    for (;;) {
        if (interrupted()) return ended();
        long timeout_s = watch_timeout(o);
        Call call{.path = path(r, ns(), "", "", watch_query(o, result.resource_version, timeout_s)),
                  .verb = "watch",
                  .resource = r.qualified()};
        EventStream events(r, on_event, result,
                           [&](int code, const std::string& body) { return api_error(call, ns(), code, body); });
        http::RequestExtras extras;
        extras.cancelled = interrupted;
        // Silence is normal on a quiet watch; the server ends it at timeoutSeconds.
        extras.timeout = std::chrono::seconds(timeout_s + 30);
        auto began = steady::now();
        auto streamed = stream(
            call, [&](std::string_view data) { return events.data(data); }, extras);
        if (streamed.ok()) events.finish();

        if (events.stop) return result;
        if (events.failed) return *events.failed;
        if (events.gone || streamed.gone()) {
            ++result.relists;
            auto again = relist(*this, r, o, on_event, result);
            if (!again.ok()) return again.api_error();
            if (*again) return result;
            failures = 0;
            continue;
        }
        if (interrupted()) return ended();
        if (!streamed.ok() && streamed.code() != 0) return streamed.api_error();  // 403, 404, 5xx after retries
        ++result.reconnects;
        bool quick = steady::now() - began < std::chrono::seconds(1);
        if (streamed.ok() && (events.events > 0 || !quick)) {
            failures = 0;
            continue;
        }
        if (++failures >= std::max(1, retry_attempts())) {
            if (!streamed.ok()) return streamed.api_error();
            return ApiError{0, "", "watch keeps ending",
                            temporary_error("watch " + r.qualified() + ": the stream keeps ending at once")};
        }
        pause_for_retry(failures, interrupted);
    }
}

ApiResult<std::string> Client::log(const std::string& pod, const LogOptions& o) {
    Query q;
    q.container = o.container;
    q.tail_lines = o.tail_lines;
    Call call{.path = path(kPods, ns(), pod, "log", q), .verb = "get", .resource = "pods/log", .name = pod};
    auto r = send(call);
    if (!r.ok()) return r.api_error();
    return std::move(r->body);
}

ApiResult<Done> Client::follow_log(const std::string& pod, const LogOptions& o,
                                   const std::function<bool(std::string_view)>& on_data) {
    Query q;
    q.container = o.container;
    q.tail_lines = o.tail_lines;
    q.follow = true;
    Call call{.path = path(kPods, ns(), pod, "log", q), .verb = "get", .resource = "pods/log", .name = pod};
    http::RequestExtras extras;
    extras.cancelled = o.cancelled;
    extras.timeout = std::chrono::milliseconds(0);  // a quiet agent is not a dead stream
    auto r = stream(call, on_data, extras);
    if (!r.ok()) {
        if (o.cancelled && o.cancelled()) return Done{};
        return r.api_error();
    }
    return Done{};
}

ApiResult<http::ClientResponse> Client::proxy(const std::string& pod, int port, const std::string& method,
                                              const std::string& sub_path, const std::string& body,
                                              const std::vector<std::pair<std::string, std::string>>& headers,
                                              bool retry) {
    Call call{.method = method,
              .path = proxy_path(ns(), pod, port, sub_path),
              .body = body,
              .verb = rbac_verb(method),
              .resource = "pods/proxy",
              .name = pod,
              .passthrough = true,
              .headers = headers,
              .retry = retry};
    return send(call);
}

}  // namespace fracta::k8s
