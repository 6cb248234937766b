// k8s_internal.h — what the parts of fracta-spawn-k8s share (k8s.cc: the
// backend's reads and render; k8s_lifecycle.cc: start, stop, wait;
// k8s_control.cc: the supervisor's control API through the pod proxy).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "k8s/client.h"
#include "k8s/objects.h"
#include "provider/control.h"
#include "provider/k8s.h"
#include "provider/nudge_events.h"

namespace fracta::provider {

// The backend of k8s.h: its reads, render and lifecycle in k8s.cc, the ops
// that go to the supervisor in k8s_control.cc.
class K8sBackend final : public SessionBackend {
public:
    explicit K8sBackend(K8sContext ctx) : ctx_(std::move(ctx)) {}

    // Without "mode" (every Gas City start) a session is a terminal in a
    // bare Pod, as for fracta-spawn-local: nudges and keys must reach it.
    // fracta-cp always names the mode.
    std::string default_mode() const override { return "stream"; }

    const std::vector<Op>& ops() const override;
    Status check_name(const std::string& name) const override;

    Status start(const std::string& name, const StartRequest& request, Io& io) override;
    Status stop(const std::string& name) override;
    Status interrupt(const std::string& name) override;
    Result<Json> status(const std::string& name) override;
    Result<std::vector<Json>> list(const std::string& prefix) override;
    Result<Json> wait(const std::string& name, std::chrono::seconds timeout) override;
    Status watch(const std::string& prefix, Io& io) override;  // k8s_watch.cc
    Result<bool> process_alive(const std::string& name, const std::vector<std::string>& processes) override;
    Status nudge(const std::string& name, const std::string& text, const std::vector<std::string>& options,
                 Io& io) override;
    Status send_keys(const std::string& name, const std::vector<std::string>& keys) override;
    Result<std::string> peek(const std::string& name, long lines) override;
    Status logs(const std::string& name, bool follow, Io& io) override;
    Result<std::string> last_activity(const std::string& name) override;
    Result<std::string> get_meta(const std::string& name, const std::string& key) override;
    Status set_meta(const std::string& name, const std::string& key, const std::string& value) override;
    Status remove_meta(const std::string& name, const std::string& key) override;
    Status clear_scrollback(const std::string& name) override;
    Status copy_to(const std::string& name, const std::string& src, const std::string& rel_dst) override;
    Result<int> attach(const std::string& name, const std::vector<std::string>& options) override;
    Result<Answer> extra(const OpCall& call, Io& io) override;  // render

private:
    // One client for the whole op, made on first use: the kubeconfig or
    // in-cluster configuration (ops refused before any call make none).
    Result<k8s::Client*> client();

    K8sContext ctx_;
    std::optional<k8s::Client> client_;
};

namespace k8s_op {

// A string at `p` in `j`, or "".
std::string str_at(const Json& j, const Json::json_pointer& p);

// The session's pod as the API server has it, if any: the newest pod
// carrying its fracta-agent-id label (one LIST).
Result<std::optional<Json>> find_pod(k8s::Client& client, const k8s::ObjectNames& names);

// The status object of the session contract for a pod (null: none exists).
Json pod_status(const std::string& raw_name, const std::optional<Json>& pod);

bool pod_live(const Json& pod);  // Pending or Running, not being deleted

// The object settings for a session: fracta.yaml's runtime.kubernetes (when
// --config names one) with the namespace the client works in.
Result<k8s::ObjectSettings> load_settings(const K8sContext& ctx, const std::string& ns);

// The namespace when no client exists (render): flag, env, fracta.yaml, "fracta".
std::string fallback_namespace(const K8sContext& ctx);

// The client's configuration: the flags, then fracta.yaml's
// runtime.kubernetes namespace, kubeconfig and context (--config).
Result<k8s::ResolveOptions> resolve_options(const K8sContext& ctx);

Status start(k8s::Client& client, const std::string& name, const StartRequest& request, const K8sContext& ctx, Io& io);

// What session `name`'s pod clones (k8s_git.cc): with the request's `git`
// and runtime.kubernetes.push not false, the remote (git.url, else the
// repo's origin), the base's commit in the repo, and the branch
// (feature/<name> unless given). No remote to name: none (url empty).
Result<k8s::GitCheckout> git_checkout(const std::string& name, const StartRequest& request,
                                      const k8s::ObjectSettings& settings);
Status stop(k8s::Client& client, const k8s::ObjectNames& names);
Result<Json> wait(k8s::Client& client, const k8s::ObjectNames& names, long long timeout_s);
// The sessions' statuses, then each change, from one pod watch (k8s_watch.cc).
Status watch_sessions(k8s::Client& client, const std::string& prefix, Io& io);

// The supervisor of a pod, reached through the API server's pods/proxy with
// the session's control token.
SupervisorControl pod_control(k8s::Client& client, const std::string& pod, const std::string& token);
// The session's supervisor while its pod runs; std::nullopt when it does not.
Result<std::optional<SupervisorControl>> running_supervisor(k8s::Client& client, const k8s::ObjectNames& names);

// Where nudge events go (nudge_events.h): the project of --config, else of
// the nearest fracta.yaml from here.
NudgeEvents nudge_events_of(const K8sContext& ctx);

}  // namespace k8s_op
}  // namespace fracta::provider
