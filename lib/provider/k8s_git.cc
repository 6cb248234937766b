// k8s_git.cc — the git workspace of a Kubernetes session (see
// k8s_internal.h): resolved on the caller's side, where the project's
// checkout is, so the pod gets a plain URL, commit and branch.
#include "git/git.h"
#include "git/remote.h"
#include "provider/k8s_internal.h"

namespace fracta::provider::k8s_op {

Result<k8s::GitCheckout> git_checkout(const std::string& name, const StartRequest& request,
                                      const k8s::ObjectSettings& settings) {
    k8s::GitCheckout out;
    if (!request.git || !settings.git.push) return out;
    const GitSpec& g = *request.git;
    std::string url = settings.git.url;
    if (url.empty()) {
        auto origin = git::remote_url(g.repo, "origin");
        if (!origin.ok()) return out;  // nowhere to clone from: an empty workspace, as before
        url = *origin;
    }
    auto commit = git::resolve_commit(g.repo, g.base.empty() ? "HEAD" : g.base);
    if (!commit.ok()) return std::move(commit).take_error().context("git workspace");
    out.url = url;
    out.commit = *commit;
    out.branch = g.branch.empty() ? "feature/" + name : g.branch;
    FRACTA_TRY(git::validate_branch_name(out.branch));
    out.depth = settings.git.depth;
    out.push = true;
    out.token_secret = settings.git.token_secret;
    out.token_key = settings.git.token_key;
    out.ssh_key_secret = settings.git.ssh_key_secret;
    out.ssh_key_key = settings.git.ssh_key_key;
    out.known_hosts_key = settings.git.known_hosts_key;
    return out;
}

}  // namespace fracta::provider::k8s_op
