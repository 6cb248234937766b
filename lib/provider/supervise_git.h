// supervise_git.h — the git workspace of an agent pod, around its session:
// `supervise --git-url URL --git-commit SHA --git-branch B [--git-depth N]
// [--git-push]` clones the remote at the commit onto the branch before the
// session starts, and pushes the branch when the session has ended well.
// The remote's token comes from $FRACTA_GIT_TOKEN (a secretKeyRef), which
// the session's command never sees.
#pragma once

#include <string>

#include "base/result.h"
#include "git/remote.h"

namespace fracta::provider {

struct PodGit {
    git::Remote remote;  // url empty: no git workspace
    std::string commit, branch;
    int depth = 0;
    bool push = false;
};

// Clone into work_dir (the workspace volume, empty). Errors name the clone.
Status git_prepare(const PodGit& g, const std::string& work_dir);

// After the session: push when it succeeded (exit 0). A refused push is the
// session's failure: the error names the branch and why.
Status git_finish(const PodGit& g, const std::string& work_dir, int exit_code);

}  // namespace fracta::provider
