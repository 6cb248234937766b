// k8s_lifecycle.cc — start, stop and wait of fracta-spawn-k8s: the ops that
// create or delete a session's objects and follow its pod with watches
// (never polling loops).
#include <chrono>
#include <set>

#include "base/sha256.h"
#include "provider/k8s_internal.h"
#include "provider/k8s_objects.h"

namespace fracta::provider::k8s_op {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kOutputTail = 64 * 1024;

const k8s::Resource& workload_resource(const std::string& mode) {
    return mode == "stream" ? k8s::kPods : k8s::kJobs;
}

// Waiting reasons that do not clear up by waiting longer.
bool fatal_waiting(const std::string& reason) {
    static const std::set<std::string> fatal = {
        "ImagePullBackOff",  "ErrImagePull",        "InvalidImageName", "ErrImageNeverPull",
        "CreateContainerConfigError", "CreateContainerError", "CrashLoopBackOff", "RunContainerError"};
    return fatal.count(reason) != 0;
}

// The pod is created before its ConfigMap and Secret (they need its uid), so
// a kubelet may see it before they exist and report the env it cannot fill
// yet; it retries, as for a volume it cannot mount yet. Not a failure.
bool own_object_pending(const std::string& reason, const std::string& message, const k8s::ObjectNames& names) {
    if (reason != "CreateContainerConfigError") return false;
    for (const std::string& missing : {"secret \"" + names.secret + "\" not found",
                                       "configmap \"" + names.config_map + "\" not found"})
        if (message == missing) return true;
    return false;
}

// Why a starting pod will never run, or "".
std::string start_failure(const Json& pod, const k8s::ObjectNames& names) {
    auto cs = "/status/containerStatuses"_json_pointer;
    if (pod.contains(cs) && pod.at(cs).is_array())
        for (const Json& c : pod.at(cs)) {
            std::string reason = str_at(c, "/state/waiting/reason"_json_pointer);
            std::string message = str_at(c, "/state/waiting/message"_json_pointer);
            if (fatal_waiting(reason) && !own_object_pending(reason, message, names))
                return reason + (message.empty() ? "" : ": " + message);
        }
    auto conds = "/status/conditions"_json_pointer;
    if (pod.contains(conds) && pod.at(conds).is_array())
        for (const Json& c : pod.at(conds))
            if (c.value("type", "") == "PodScheduled" && c.value("status", "") == "False" &&
                c.value("reason", "") == "Unschedulable") {
                std::string message = c.value("message", "");
                return "Unschedulable" + (message.empty() ? "" : ": " + message);
            }
    return "";
}

// Delete what a failed start created; the errors of the start matter more.
void roll_back(k8s::Client& client, const k8s::ObjectNames& names, const std::string& mode, bool cm, bool secret) {
    (void)client.del(workload_resource(mode), mode == "stream" ? names.pod : names.job, "Background");
    if (cm) (void)client.del(k8s::kConfigMaps, names.config_map, "Background");
    if (secret) (void)client.del(k8s::kSecrets, names.secret, "Background");
}

Error create_error(const k8s::ApiResult<Json>& r, const k8s::ObjectNames& names) {
    if (r.conflict()) return failure("start " + names.raw + ": session \"" + names.raw + "\" already exists");
    return r.error().context("start " + names.raw);
}

}  // namespace

Status start(k8s::Client& client, const std::string& name, const StartRequest& request, const K8sContext& ctx,
             Io& io) {
    FRACTA_TRY_ASSIGN(settings, load_settings(ctx, client.ns()));
    FRACTA_TRY_ASSIGN(token, random_token_hex(32));
    FRACTA_TRY_ASSIGN(checkout, git_checkout(name, request, settings));
    FRACTA_TRY_ASSIGN(objects, build_session_objects({name, request, settings, token, checkout}));
    const k8s::ObjectNames& names = objects.names;
    const std::string mode = objects.mode;

    auto created = client.create(workload_resource(mode), objects.workload);
    if (!created.ok()) return create_error(created, names);
    FRACTA_TRY_ASSIGN(owner, k8s::owner_of(*created));
    auto cm = client.create(k8s::kConfigMaps, with_owner(objects.config_map, owner));
    if (!cm.ok()) {
        roll_back(client, names, mode, false, false);
        return create_error(cm, names);
    }
    auto secret = client.create(k8s::kSecrets, with_owner(objects.secret, owner));
    if (!secret.ok()) {
        roll_back(client, names, mode, true, false);
        return create_error(secret, names);
    }

    // Watch from the workload's own version: the pod's every change since
    // comes in order, with no LIST and no polling.
    std::string why;
    bool up = false;
    k8s::WatchOptions w;
    w.label_selector = "fracta-agent-id=" + names.label;
    w.resource_version = str_at(*created, "/metadata/resourceVersion"_json_pointer);
    w.deadline = Clock::now() + std::chrono::seconds(ctx.start_timeout_s);
    auto watched = client.watch(k8s::kPods, w, [&](const k8s::WatchEvent& e) {
        if (e.type != "ADDED" && e.type != "MODIFIED" && e.type != "DELETED") return true;
        if (str_at(e.object, "/metadata/annotations/fracta~1session-name"_json_pointer) != names.raw) return true;
        if (e.type == "DELETED") {
            why = "its pod was deleted while starting";
            return false;
        }
        std::string phase = str_at(e.object, "/status/phase"_json_pointer);
        if (phase == "Running" || phase == "Succeeded" || phase == "Failed") {
            up = true;  // a batch pod may well have finished already
            return false;
        }
        why = start_failure(e.object, names);
        return why.empty();
    });
    if (!watched.ok()) {
        roll_back(client, names, mode, true, true);
        return std::move(watched).take_error().context("start " + name + ": watch pods");
    }
    if (!up) {
        roll_back(client, names, mode, true, true);
        if (why.empty())
            return temporary_error("start " + name + ": the pod did not run within " +
                                   std::to_string(ctx.start_timeout_s) + "s");
        return failure("start " + name + ": " + why);
    }
    if (!request.nudge.empty()) {
        // The session types its nudge itself (callers never send it); best effort.
        std::string pod = mode == "stream" ? names.pod : "";
        if (pod.empty()) {
            auto found = find_pod(client, names);
            if (found.ok() && *found) pod = (**found)["metadata"]["name"];
        }
        // Confirmed like any nudge, within the caller's startup budget; a
        // program that does not react is reported, the session stays up.
        const auto started = std::chrono::steady_clock::now();
        const std::chrono::milliseconds wait = std::chrono::seconds(20);
        auto r = pod_control(client, pod, token).nudge(request.nudge, wait);
        Status sent = report_nudge(nudge_events_of(ctx), name, request.nudge, wait, r, started, io);
        if (!sent.ok()) io.warn("start " + name + ": startup " + sent.error().message);
    }
    return {};
}

Status stop(k8s::Client& client, const k8s::ObjectNames& names) {
    for (const auto& [resource, object] : {std::pair{&k8s::kJobs, names.job}, std::pair{&k8s::kPods, names.pod}}) {
        auto r = client.del(*resource, object, "Background");
        if (!r.ok() && !r.not_found()) return std::move(r).take_error().context("stop " + names.raw);
    }
    // Return once no pod of the session runs: the garbage collector deletes
    // a Job's pods on its own time, and is-running right after must say no.
    k8s::Query q;
    q.label_selector = "fracta-agent-id=" + names.label;
    FRACTA_TRY_ASSIGN(pods, client.list(k8s::kPods, q));
    std::set<std::string> live;
    for (const Json& p : pods.value("items", Json::array()))
        if (pod_live(p)) live.insert(str_at(p, "/metadata/name"_json_pointer));
    if (live.empty()) return {};
    k8s::WatchOptions w;
    w.label_selector = q.label_selector;
    w.resource_version = str_at(pods, "/metadata/resourceVersion"_json_pointer);
    w.deadline = Clock::now() + std::chrono::seconds(20);
    auto watched = client.watch(k8s::kPods, w, [&](const k8s::WatchEvent& e) {
        std::string pod = str_at(e.object, "/metadata/name"_json_pointer);
        if (e.type == "DELETED" || (e.type == "MODIFIED" && !pod_live(e.object))) live.erase(pod);
        return !live.empty();
    });
    if (!watched.ok()) return std::move(watched).take_error().context("stop " + names.raw);
    return {};  // at the deadline the deletion is still under way: done as far as callers go
}

Result<Json> wait(k8s::Client& client, const k8s::ObjectNames& names, long long timeout_s) {
    bool batch = true;
    auto object = client.get(k8s::kJobs, names.job);
    if (object.not_found()) {
        batch = false;
        object = client.get(k8s::kPods, names.pod);
    }
    if (object.not_found()) return failure("wait " + names.raw + ": no session \"" + names.raw + "\"");
    if (!object.ok()) return std::move(object).take_error().context("wait " + names.raw);

    bool killed = false;
    auto finished = [&](const Json& o) {
        if (o.contains("/metadata/deletionTimestamp"_json_pointer)) return killed = true;
        if (!batch) {
            std::string phase = str_at(o, "/status/phase"_json_pointer);
            return phase == "Succeeded" || phase == "Failed";
        }
        auto conds = "/status/conditions"_json_pointer;
        if (o.contains(conds) && o.at(conds).is_array())
            for (const Json& c : o.at(conds))
                if ((c.value("type", "") == "Complete" || c.value("type", "") == "Failed") &&
                    c.value("status", "") == "True") {
                    if (c.value("reason", "") == "DeadlineExceeded") killed = true;
                    return true;
                }
        return false;
    };
    if (!finished(*object)) {
        k8s::WatchOptions w;
        w.field_selector = "metadata.name=" + (batch ? names.job : names.pod);
        w.resource_version = str_at(*object, "/metadata/resourceVersion"_json_pointer);
        w.deadline = Clock::now() + std::chrono::seconds(timeout_s);
        bool done = false;
        auto watched = client.watch(batch ? k8s::kJobs : k8s::kPods, w, [&](const k8s::WatchEvent& e) {
            if (e.type == "DELETED") done = killed = true;
            else if (e.type == "ADDED" || e.type == "MODIFIED") done = finished(e.object);
            return !done;
        });
        if (!watched.ok()) return std::move(watched).take_error().context("wait " + names.raw);
        if (!done) return temporary_error("wait " + names.raw + ": session \"" + names.raw + "\" is still running");
    }

    FRACTA_TRY_ASSIGN(pod, find_pod(client, names));
    Json s = pod_status(names.raw, pod);
    Json j = {{"name", names.raw}};
    if (!pod || !s.contains("exit_code")) {
        j["state"] = killed ? "killed" : "lost";
        j["exit_code"] = nullptr;
    } else {
        j["state"] = killed ? "killed" : "exited";
        j["exit_code"] = s["exit_code"];
    }
    j["started_at"] = s.value("started_at", "");
    j["ended_at"] = s.value("ended_at", "");
    std::string out;
    if (pod) {
        k8s::LogOptions o;
        o.container = "agent";
        auto text = client.log(str_at(*pod, "/metadata/name"_json_pointer), o);
        if (text.ok()) out = *text;
    }
    if (out.size() > kOutputTail) out = out.substr(out.size() - kOutputTail);
    j["output_tail"] = out;
    return j;
}

}  // namespace fracta::provider::k8s_op
