// remote.cc — see remote.h.
#include "git/remote.h"

#include <map>

#include "base/base64.h"
#include "git/git.h"
#include "git/git_internal.h"

namespace fracta::git {
namespace {

using detail::chomp;
using detail::git;
using detail::git_ok;

std::map<std::string, std::string> auth_env(const Remote& r) {
    if (r.token.empty()) return {};
    return {{"GIT_CONFIG_COUNT", "1"},
            {"GIT_CONFIG_KEY_0", "http.extraHeader"},
            {"GIT_CONFIG_VALUE_0", "Authorization: Basic " + base64_encode("x-access-token:" + r.token)}};
}

// Why a push was refused, with git's own line kept. "fetch first" and
// "non-fast-forward" are both a branch that moved under us: named as such,
// since git's wording for it depends on whether we have the new commits.
std::string rejected_reason(const std::string& err) {
    auto at = err.find("[rejected]");
    const bool by_remote = at == std::string::npos;
    if (by_remote) at = err.find("[remote rejected]");
    if (at == std::string::npos) return "";
    auto start = err.rfind('\n', at), end = err.find('\n', at);
    std::string line = err.substr(start == std::string::npos ? 0 : start + 1,
                                  end == std::string::npos ? std::string::npos : end - (start == std::string::npos ? 0 : start + 1));
    for (char& c : line)
        if (c == '\t') c = ' ';
    while (!line.empty() && line.front() == ' ') line.erase(0, 1);
    const bool moved = !by_remote && (line.find("fetch first") != std::string::npos ||
                                      line.find("non-fast-forward") != std::string::npos);
    std::string what = moved ? "rejected as non-fast-forward (the remote's branch has commits this one lacks)"
                       : by_remote ? "rejected by the remote" : "rejected";
    return what + "; git: " + line;
}

}  // namespace

Result<std::string> remote_url(const std::string& repo, const std::string& name) {
    FRACTA_TRY_ASSIGN(out, git_ok(repo, {"remote", "get-url", "--", name}));
    return chomp(std::move(out));
}

Result<std::string> resolve_commit(const std::string& repo, const std::string& rev) {
    FRACTA_TRY_ASSIGN(out, git_ok(repo, {"rev-parse", "--verify", "--end-of-options", rev + "^{commit}"}));
    return chomp(std::move(out));
}

Status clone_at(const std::string& dir, const Remote& remote, const std::string& commit, const std::string& branch,
                int depth) {
    FRACTA_TRY(validate_branch_name(branch));
    auto step = [&](const std::vector<std::string>& args, const std::map<std::string, std::string>& env) -> Status {
        auto r = git_ok(dir, args, {}, env);
        if (!r.ok()) return std::move(r).take_error().context("clone " + remote.url);
        return {};
    };
    FRACTA_TRY(step({"init", "-q", "."}, {}));
    // A workspace volume that outlives its pod (runtime.kubernetes.pvc) may
    // hold the branch from an earlier pod of the task: its commits, pushed
    // or not, are the agent's latest work, so they are kept as they are.
    if (git_ok(dir, {"rev-parse", "--verify", "-q", "refs/heads/" + branch}).ok())
        return step({"checkout", "-q", branch}, {});
    // A branch the remote has already (an earlier turn of the same task
    // pushed it) is continued; otherwise it starts at the base commit.
    auto listed = git_ok(dir, {"ls-remote", "--heads", "--", remote.url, "refs/heads/" + branch}, {}, auth_env(remote));
    if (!listed.ok()) return std::move(listed).take_error().context("clone " + remote.url);
    const std::string want = listed->empty() ? commit : "refs/heads/" + branch;
    std::vector<std::string> fetch = {"fetch", "-q", "--no-tags"};
    if (depth > 0) fetch.push_back("--depth=" + std::to_string(depth));
    fetch.insert(fetch.end(), {"--", remote.url, want});
    FRACTA_TRY(step(fetch, auth_env(remote)));
    FRACTA_TRY(step({"checkout", "-q", "-b", branch, "FETCH_HEAD"}, {}));
    // The agent's commits need an author even where no git config exists.
    FRACTA_TRY(step({"config", "user.name", "fracta agent"}, {}));
    FRACTA_TRY(step({"config", "user.email", "agent@fracta.invalid"}, {}));
    return {};
}

Status push_branch(const std::string& dir, const Remote& remote, const std::string& branch) {
    std::vector<std::string> args = {"push", "-q", "--porcelain", "--", remote.url, "HEAD:refs/heads/" + branch};
    FRACTA_TRY_ASSIGN(o, git(dir, args, {}, auth_env(remote)));
    if (o.ok()) return {};
    std::string rejected = rejected_reason(o.out + o.err);
    if (!rejected.empty()) return failure("push " + branch + ": " + rejected);
    return detail::git_error(dir, args, o).context("push " + branch);
}

Status fetch_branch(const std::string& repo, const std::string& remote, const std::string& branch) {
    FRACTA_TRY(validate_branch_name(branch));
    auto r = git_ok(repo, {"fetch", "-q", "--no-tags", "--", remote, "+refs/heads/" + branch + ":refs/heads/" + branch});
    if (!r.ok()) return std::move(r).take_error().context("fetch " + branch);
    return {};
}

}  // namespace fracta::git
