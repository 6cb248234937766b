// supervise_git.cc — see supervise_git.h.
#include "provider/supervise_git.h"

namespace fracta::provider {

Status git_prepare(const PodGit& g, const std::string& work_dir) {
    if (g.remote.url.empty()) return {};
    return git::clone_at(work_dir, g.remote, g.commit, g.branch, g.depth);
}

Status git_finish(const PodGit& g, const std::string& work_dir, int exit_code) {
    if (g.remote.url.empty() || !g.push || exit_code != 0) return {};
    return git::push_branch(work_dir, g.remote, g.branch);
}

}  // namespace fracta::provider
