// remote.cc — see remote.h.
#include "git/remote.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <utility>

#include "base/base64.h"
#include "git/git.h"
#include "git/git_internal.h"

namespace fracta::git {
namespace {

using detail::chomp;
using detail::git;
using detail::git_ok;

// The environment one git command authenticates with. An SSH key lives in
// a 0700 directory of its own for as long as this object does: the agent's
// session, which runs between the clone and the push, never finds it.
class Auth {
public:
    static Result<Auth> make(const Remote& r) {
        Auth a;
        if (!r.token.empty())
            a.env_ = {{"GIT_CONFIG_COUNT", "1"},
                      {"GIT_CONFIG_KEY_0", "http.extraHeader"},
                      {"GIT_CONFIG_VALUE_0", "Authorization: Basic " + base64_encode("x-access-token:" + r.token)}};
        if (r.ssh_key.empty()) return a;
        if (r.known_hosts.empty())
            return usage_error("an SSH key needs known_hosts: the server's host key is never taken on trust");
        const char* tmp = std::getenv("TMPDIR");
        std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/fracta-git-ssh.XXXXXX";
        if (!::mkdtemp(dir.data())) return failure("ssh key: cannot make a private directory under " + dir);
        a.dir_ = dir;
        FRACTA_TRY(write_private(dir + "/id", r.ssh_key.back() == '\n' ? r.ssh_key : r.ssh_key + "\n"));
        FRACTA_TRY(write_private(dir + "/known_hosts", r.known_hosts + "\n"));
        // Quoted for the shell git runs GIT_SSH_COMMAND with; mkdtemp's
        // name has no quote in it, and TMPDIR is ours.
        a.env_["GIT_SSH_COMMAND"] = "ssh -i '" + dir + "/id' -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes"
                                    " -o StrictHostKeyChecking=yes -o UserKnownHostsFile='" + dir + "/known_hosts'";
        return a;
    }
    Auth() = default;
    Auth(Auth&& o) noexcept : env_(std::move(o.env_)), dir_(std::exchange(o.dir_, {})) {}
    Auth& operator=(Auth&&) = delete;
    ~Auth() {
        std::error_code ec;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    }
    const std::map<std::string, std::string>& env() const { return env_; }

private:
    static Status write_private(const std::string& path, const std::string& content) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        ::chmod(path.c_str(), 0600);  // ssh refuses a key others can read
        out << content;
        if (!out.flush()) return failure("ssh key: cannot write " + path);
        return {};
    }
    std::map<std::string, std::string> env_;
    std::string dir_;
};

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
    auto auth = Auth::make(remote);
    if (!auth.ok()) return std::move(auth).take_error().context("clone " + remote.url);
    auto listed = git_ok(dir, {"ls-remote", "--heads", "--", remote.url, "refs/heads/" + branch}, {}, auth->env());
    if (!listed.ok()) return std::move(listed).take_error().context("clone " + remote.url);
    const std::string want = listed->empty() ? commit : "refs/heads/" + branch;
    std::vector<std::string> fetch = {"fetch", "-q", "--no-tags"};
    if (depth > 0) fetch.push_back("--depth=" + std::to_string(depth));
    fetch.insert(fetch.end(), {"--", remote.url, want});
    FRACTA_TRY(step(fetch, auth->env()));
    FRACTA_TRY(step({"checkout", "-q", "-b", branch, "FETCH_HEAD"}, {}));
    // The agent's commits need an author even where no git config exists.
    FRACTA_TRY(step({"config", "user.name", "fracta agent"}, {}));
    FRACTA_TRY(step({"config", "user.email", "agent@fracta.invalid"}, {}));
    return {};
}

Status push_branch(const std::string& dir, const Remote& remote, const std::string& branch) {
    std::vector<std::string> args = {"push", "-q", "--porcelain", "--", remote.url, "HEAD:refs/heads/" + branch};
    auto auth = Auth::make(remote);
    if (!auth.ok()) return std::move(auth).take_error().context("push " + branch);
    FRACTA_TRY_ASSIGN(o, git(dir, args, {}, auth->env()));
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
