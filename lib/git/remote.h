// remote.h — a workspace that comes from a remote and goes back to it: an
// agent pod clones the project at its base commit onto feature/<task> and
// pushes that branch when the session ends; the control plane fetches the
// pushed branch before it merges. Same rules as git.h (the real git,
// messages from git itself); a token travels in git's environment
// (http.extraHeader through GIT_CONFIG_*), never on a command line; an SSH
// key is written to a private file only for as long as one git command runs.
#pragma once

#include <string>

#include "base/result.h"

namespace fracta::git {

struct Remote {
    std::string url;
    std::string token;  // empty: none; else HTTP basic auth, user "x-access-token"
    // An SSH private key for ssh:// and user@host: remotes, and the
    // known_hosts lines the server's key must match (required with a key:
    // an unknown or changed host key is refused, never accepted).
    std::string ssh_key, known_hosts;
};

// `git remote get-url <name>` of repo. No such remote: Failed.
Result<std::string> remote_url(const std::string& repo, const std::string& name);

// The commit `rev` names in repo.
Result<std::string> resolve_commit(const std::string& repo, const std::string& rev);

// Make `dir` (empty, or see below) a repository with `commit` of the remote checked out on
// a new `branch` — or, when the remote has `branch` already (an earlier turn
// of the task pushed it), that branch's tip; depth > 0 fetches that much
// history only. A `dir` that has `branch` already (a workspace PVC kept from
// an earlier pod) is checked out on it as it is.
// Errors name the step: "clone <url>: git fetch: fatal: …".
Status clone_at(const std::string& dir, const Remote& remote, const std::string& commit, const std::string& branch,
                int depth);

// Push HEAD of `dir` to the remote's refs/heads/<branch>, never forced.
// Refused because the remote's branch moved: Failed "push <branch>: rejected
// as non-fast-forward (…); git: <git's line>"; other refusals keep git's line too.
Status push_branch(const std::string& dir, const Remote& remote, const std::string& branch);

// Fetch the remote's `branch` into repo's local branch of the same name
// (forced: the remote's is the agent's truth); repo must not have it checked out.
Status fetch_branch(const std::string& repo, const std::string& remote, const std::string& branch);

}  // namespace fracta::git
