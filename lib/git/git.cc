#include "git/git.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>


#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <string_view>

#include "base/sha256.h"
#include "git/git_internal.h"

namespace fracta::git {
namespace detail {

constexpr auto kGitTimeout = std::chrono::minutes(2);

// Variables that would point git at another repository than `-C <repo>`
// (set, for instance, when fracta runs from a git hook). Config passed
// through the environment (GIT_CONFIG_COUNT, GIT_CONFIG_GLOBAL) is kept.
const char* const kRepositoryVars[] = {
    "GIT_DIR",        "GIT_WORK_TREE",          "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
    "GIT_COMMON_DIR", "GIT_IMPLICIT_WORK_TREE", "GIT_PREFIX",     "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",  "GIT_SHALLOW_FILE",       "GIT_GRAFT_FILE", "GIT_INTERNAL_SUPER_PREFIX",
};

Result<proc::Outcome> git(const std::string& repo, const std::vector<std::string>& args,
                          const std::vector<std::string>& config, const std::map<std::string, std::string>& env) {
    proc::Command c;
    c.argv = {"git"};
    if (!repo.empty()) c.argv.insert(c.argv.end(), {"-C", repo});
    for (const auto& kv : config) c.argv.insert(c.argv.end(), {"-c", kv});
    c.argv.insert(c.argv.end(), args.begin(), args.end());
    c.env = {{"GIT_TERMINAL_PROMPT", "0"}, {"LC_ALL", "C"}};
    for (const auto& [k, v] : env) c.env[k] = v;
    c.unset_env.assign(std::begin(kRepositoryVars), std::end(kRepositoryVars));
    c.timeout = kGitTimeout;
    if (repo.empty()) c.cwd = "/";  // no repository of the caller's cwd gets involved
    return proc::run(c);            // git itself missing: NotFound "exec git: not found"
}

// "git worktree add", "git merge": how an error names the command.
std::string label(const std::vector<std::string>& args) {
    std::string l = "git " + args.at(0);
    if (args[0] == "worktree" && args.size() > 1) l += " " + args[1];
    return l;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// The line of git's stderr that says what went wrong: the first "fatal:" or
// "error:" line (git often says "Preparing worktree…" first; a transport's
// reason before git's "could not read" is added to it), else the first
// line that is not a hint or warning, else the first line.
std::string first_error_line(const std::string& err) {
    std::vector<std::string_view> lines;
    std::string_view rest = err;
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        auto line = rest.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) lines.push_back(line);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    }
    auto quiet = [](std::string_view l) {
        return starts_with(l, "hint:") || starts_with(l, "warning:") || starts_with(l, "Warning:");
    };
    for (size_t i = 0; i < lines.size(); ++i) {
        std::string_view l = lines[i];
        if (!starts_with(l, "fatal:") && !starts_with(l, "error:")) continue;
        // Over ssh, git only says it could not read; why is the transport's
        // line before it ("Host key verification failed.", "Permission denied").
        constexpr std::string_view kNoRead = "fatal: Could not read from remote repository.";
        if (l == kNoRead)
            for (size_t j = i; j-- > 0;)
                if (!quiet(lines[j])) return std::string(l.substr(0, l.size() - 1)) + ": " + std::string(lines[j]);
        return std::string(l);
    }
    for (auto l : lines)
        if (!starts_with(l, "hint:") && !starts_with(l, "warning:")) return std::string(l);
    return lines.empty() ? std::string() : std::string(lines[0]);
}

Error git_error(const std::string& repo, const std::vector<std::string>& args, const proc::Outcome& o) {
    if (o.timed_out)
        return temporary_error(label(args) + ": timed out after " +
                               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kGitTimeout).count()) +
                               " s");
    if (!repo.empty() && o.err.find("not a git repository") != std::string::npos)
        return failure("not a git repository: " + repo);
    std::string why = first_error_line(o.err);
    if (why.empty()) why = "exited with status " + std::to_string(o.exit_code);
    return failure(label(args) + ": " + why);
}

Result<std::string> git_ok(const std::string& repo, const std::vector<std::string>& args,
                           const std::vector<std::string>& config, const std::map<std::string, std::string>& env) {
    FRACTA_TRY_ASSIGN(o, git(repo, args, config, env));
    if (!o.ok()) return git_error(repo, args, o);
    return std::move(o.out);
}

std::string chomp(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

}  // namespace detail
namespace {
using namespace detail;
namespace fs = std::filesystem;

std::vector<std::string> split_nul(const std::string& s) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start < s.size()) {
        size_t end = s.find('\0', start);
        if (end == std::string::npos) end = s.size();
        if (end > start) parts.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

std::string absolute_path(const std::string& p) {
    std::error_code ec;
    auto abs = fs::absolute(p, ec);
    if (ec) return p;
    std::string s = abs.lexically_normal().string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
}

// Same place on disk, symlinks resolved for the parts that exist.
bool same_path(const std::string& a, const std::string& b) {
    std::error_code ea, eb;
    auto ca = fs::weakly_canonical(absolute_path(a), ea);
    auto cb = fs::weakly_canonical(absolute_path(b), eb);
    if (ea || eb) return absolute_path(a) == absolute_path(b);
    return ca == cb;
}

std::string repository_key(const std::string& repo) {
    std::error_code ec;
    std::string key = fs::weakly_canonical(absolute_path(repo), ec).string();
    return ec ? absolute_path(repo) : key;
}

std::mutex& process_lock(const std::string& key) {
    static std::mutex registry_mutex;
    static std::map<std::string, std::mutex> locks;
    std::lock_guard<std::mutex> hold(registry_mutex);
    return locks[key];
}

// Changes to one repository are made one at a time: across threads by a
// mutex, across processes (several providers starting sessions at once) by
// an flock, because git reads other worktrees' half-written metadata while
// one is being added ("failed to read .git/worktrees/x/commondir"). The lock
// file lives in /tmp, keyed by the repository's path, so the repository
// itself gets no stray file.
class RepositoryLock {
public:
    explicit RepositoryLock(const std::string& repo) : key_(repository_key(repo)), hold_(process_lock(key_)) {
        const std::string path = "/tmp/fracta-git-" + sha256_hex(key_).substr(0, 16) + ".lock";
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd_ >= 0)
            while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
            }
    }
    ~RepositoryLock() {
        if (fd_ >= 0) ::close(fd_);  // releases the flock
    }
    RepositoryLock(const RepositoryLock&) = delete;
    RepositoryLock& operator=(const RepositoryLock&) = delete;

private:
    std::string key_;
    std::lock_guard<std::mutex> hold_;
    int fd_ = -1;
};

Status validate_revision(const std::string& rev) {
    if (rev.empty() || rev[0] == '-') return usage_error("invalid base revision '" + rev + "'");
    return {};
}

Status prune(const std::string& repo) {
    FRACTA_TRY(git_ok(repo, {"worktree", "prune"}));
    return {};
}

Result<std::string> head_commit(const std::string& repo) {
    FRACTA_TRY_ASSIGN(out, git_ok(repo, {"rev-parse", "--verify", "HEAD"}));
    return chomp(out);
}

// `branch` already validated.
Result<bool> has_branch(const std::string& repo, const std::string& branch) {
    std::vector<std::string> args = {"show-ref", "--verify", "--quiet", "refs/heads/" + branch};
    FRACTA_TRY_ASSIGN(o, git(repo, args));
    if (o.ok()) return true;
    if (o.exit_code == 1 && !o.timed_out) return false;
    return git_error(repo, args, o);
}

Result<bool> has_ref(const std::string& repo, const std::string& ref) {
    std::vector<std::string> args = {"rev-parse", "--quiet", "--verify", ref};
    FRACTA_TRY_ASSIGN(o, git(repo, args));
    if (o.ok()) return true;
    if (o.exit_code == 1 && !o.timed_out) return false;
    return git_error(repo, args, o);
}

// Tracked files with changes, staged or not (untracked files do not count:
// a merge that would overwrite one refuses by itself, touching nothing).
Result<bool> has_uncommitted_changes(const std::string& repo) {
    FRACTA_TRY_ASSIGN(out, git_ok(repo, {"status", "--porcelain", "--untracked-files=no"}));
    return !out.empty();
}

Result<std::vector<std::string>> unmerged_files(const std::string& repo) {
    FRACTA_TRY_ASSIGN(out, git_ok(repo, {"diff", "--name-only", "--diff-filter=U", "-z"}));
    return split_nul(out);
}

// `-c` options giving the merge commit an identity, or none when git already
// has one (from any config level or GIT_AUTHOR_*/GIT_COMMITTER_*/EMAIL).
Result<std::vector<std::string>> identity_config(const std::string& repo) {
    for (const char* who : {"GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"}) {
        FRACTA_TRY_ASSIGN(o, git(repo, {"var", who}));
        if (!o.ok()) return std::vector<std::string>{"user.name=fracta", "user.email=fracta@localhost"};
    }
    return std::vector<std::string>{};
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
    std::string s;
    for (const auto& i : items) s += (s.empty() ? "" : sep) + i;
    return s;
}

}  // namespace

Result<std::string> toplevel(const std::string& dir) {
    FRACTA_TRY_ASSIGN(out, git_ok(dir, {"rev-parse", "--show-toplevel"}));
    return chomp(out);
}

Result<std::string> current_branch(const std::string& repo) {
    std::vector<std::string> args = {"symbolic-ref", "--quiet", "--short", "HEAD"};
    FRACTA_TRY_ASSIGN(o, git(repo, args));
    if (o.exit_code == 1 && !o.timed_out) return failure("no current branch in " + repo + ": HEAD is detached");
    if (!o.ok()) return git_error(repo, args, o);
    return chomp(o.out);
}

Status validate_branch_name(const std::string& branch) {
    auto invalid = [&] { return usage_error("invalid branch name '" + branch + "'"); };
    // "-x" would read as an option further on, "@{-1}" means another branch.
    if (branch.empty() || branch[0] == '-' || branch.find("@{") != std::string::npos) return invalid();
    std::vector<std::string> args = {"check-ref-format", "--branch", branch};
    FRACTA_TRY_ASSIGN(o, git("", args));
    if (o.ok()) return {};
    if (o.err.find("not a valid branch name") != std::string::npos) return invalid();
    return git_error("", args, o);
}

Result<bool> branch_exists(const std::string& repo, const std::string& branch) {
    FRACTA_TRY(validate_branch_name(branch));
    return has_branch(repo, branch);
}

Result<std::vector<Worktree>> list_worktrees(const std::string& repo) {
    FRACTA_TRY_ASSIGN(out, git_ok(repo, {"worktree", "list", "--porcelain", "-z"}));
    // Records are runs of NUL-terminated "key value" fields, separated by an empty field.
    std::vector<Worktree> trees;
    bool in_record = false;
    size_t start = 0;
    while (start < out.size()) {
        size_t end = out.find('\0', start);
        if (end == std::string::npos) end = out.size();
        std::string_view field(out.data() + start, end - start);
        start = end + 1;
        if (field.empty()) {
            in_record = false;
            continue;
        }
        auto space = field.find(' ');
        auto key = field.substr(0, space);
        auto value = space == std::string_view::npos ? std::string_view{} : field.substr(space + 1);
        if (key == "worktree") {
            trees.push_back(Worktree{std::string(value), "", "", false});
            in_record = true;
        } else if (!in_record) {
            continue;
        } else if (key == "HEAD") {
            trees.back().head = value;
        } else if (key == "branch") {
            trees.back().branch = starts_with(value, "refs/heads/") ? value.substr(11) : value;
        } else if (key == "prunable") {
            trees.back().prunable = true;
        }
    }
    return trees;
}

Status add_worktree(const std::string& repo, const std::string& dir, const std::string& branch,
                    const std::string& base) {
    FRACTA_TRY(validate_branch_name(branch));
    const std::string path = absolute_path(dir);
    RepositoryLock hold(repo);

    FRACTA_TRY_ASSIGN(trees, list_worktrees(repo));
    bool stale = false;
    for (const auto& t : trees) {
        stale = stale || t.prunable;
        if (t.prunable || !same_path(t.path, path)) continue;
        if (t.branch == branch) return {};  // already there: a repeated or resumed start
        return failure("git worktree add: " + path + " is already a worktree on " +
                       (t.branch.empty() ? "a detached HEAD" : "branch '" + t.branch + "'"));
    }
    // A task's old worktree directory deleted by hand still holds its
    // branch and its path in git's eyes until pruned.
    if (stale) FRACTA_TRY(prune(repo));

    FRACTA_TRY_ASSIGN(exists, has_branch(repo, branch));
    std::vector<std::string> args;
    if (exists) {
        args = {"worktree", "add", path, branch};
    } else {
        FRACTA_TRY(validate_revision(base));
        args = {"worktree", "add", "-b", branch, path, base};
    }
    FRACTA_TRY(git_ok(repo, args));
    return {};
}

Status remove_worktree(const std::string& repo, const std::string& dir, bool force) {
    const std::string path = absolute_path(dir);
    RepositoryLock hold(repo);

    FRACTA_TRY_ASSIGN(trees, list_worktrees(repo));
    bool stale = false;
    const Worktree* target = nullptr;
    for (size_t i = 0; i < trees.size(); ++i) {
        stale = stale || trees[i].prunable;
        if (!target && same_path(trees[i].path, path)) {
            if (i == 0) return failure("git worktree remove: " + path + " is the main worktree");
            target = &trees[i];
        }
    }
    if (target && !target->prunable) {
        std::vector<std::string> args = {"worktree", "remove"};
        if (force) args.push_back("--force");
        args.push_back(target->path);
        FRACTA_TRY(git_ok(repo, args));
    }
    if (stale) FRACTA_TRY(prune(repo));
    return {};
}

Status delete_branch(const std::string& repo, const std::string& branch, bool force) {
    FRACTA_TRY(validate_branch_name(branch));
    RepositoryLock hold(repo);
    FRACTA_TRY_ASSIGN(exists, has_branch(repo, branch));
    if (!exists) return {};
    FRACTA_TRY(git_ok(repo, {"branch", force ? "-D" : "-d", branch}));
    return {};
}

Result<MergeResult> merge_no_ff(const std::string& repo, const std::string& branch) {
    FRACTA_TRY(validate_branch_name(branch));
    RepositoryLock hold(repo);

    const std::string what = "merge " + branch;
    FRACTA_TRY_ASSIGN(into, current_branch(repo));
    if (into == branch) return failure(what + ": cannot merge a branch into itself");
    FRACTA_TRY_ASSIGN(exists, has_branch(repo, branch));
    if (!exists) return failure(what + ": no such branch");
    FRACTA_TRY_ASSIGN(merging, has_ref(repo, "MERGE_HEAD"));
    if (merging) return failure(what + ": a merge is already in progress in " + repo);
    FRACTA_TRY_ASSIGN(dirty, has_uncommitted_changes(repo));
    if (dirty) return failure(what + ": " + repo + " has uncommitted changes; commit or stash them first");
    FRACTA_TRY_ASSIGN(before, head_commit(repo));
    FRACTA_TRY_ASSIGN(identity, identity_config(repo));

    std::vector<std::string> args = {
        "merge", "--no-ff", "--no-edit", "-m", "Merge " + branch + " (fracta)", "refs/heads/" + branch};
    FRACTA_TRY_ASSIGN(o, git(repo, args, identity));

    MergeResult result;
    if (o.ok()) {
        FRACTA_TRY_ASSIGN(after, head_commit(repo));
        result.merged = true;
        if (after == before) {
            result.message = branch + " is already merged into " + into;
        } else {
            result.commit = after;
            result.message = "merged " + branch + " into " + into + " (" + after.substr(0, 12) + ")";
        }
        return result;
    }

    // Failed: put the tree back as it was if git left a merge in progress.
    FRACTA_TRY_ASSIGN(files, unmerged_files(repo));
    FRACTA_TRY_ASSIGN(left_merging, has_ref(repo, "MERGE_HEAD"));
    if (!files.empty() || left_merging) {
        auto aborted = git_ok(repo, {"merge", "--abort"});
        if (!aborted.ok()) return std::move(aborted).take_error().context(what + ": cannot undo the failed merge");
    }
    if (files.empty()) return git_error(repo, args, o);

    FRACTA_TRY_ASSIGN(after, head_commit(repo));
    FRACTA_TRY_ASSIGN(still_dirty, has_uncommitted_changes(repo));
    if (after != before || still_dirty)
        return failure(what + ": the merge was aborted but " + repo + " is not as it was before");
    result.conflict = true;
    result.conflicted_files = std::move(files);
    result.message = "merging " + branch + " into " + into + " conflicts in " + join(result.conflicted_files, ", ") +
                     "; merge aborted";
    return result;
}

}  // namespace fracta::git
