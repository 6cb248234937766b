// git.h — the git operations fracta needs for local workspaces: one worktree
// and branch per task, merged back with --no-ff, removed by the reaper.
//
// Everything runs the real `git` (lib/proc), never libgit2: `git -C <repo>`
// with GIT_TERMINAL_PROMPT=0, LC_ALL=C, no variables inherited that would
// point git at another repository (GIT_DIR, GIT_WORK_TREE, …), and empty
// stdin. Failures are Failed errors carrying git's own message:
// "git worktree add: fatal: …". Invalid branch names are Usage errors. A
// missing git binary is NotFound (127); a git call that hangs past 2 minutes,
// Temporary (111). Needs git >= 2.36 (`worktree list -z`).
//
// Paths given relative are taken from the current directory, not the repo.
// Calls that change a repository are serialised per repository within this
// process (git's index and worktree locks make concurrent ones fail).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace fracta::git {

// The root of the work tree containing `dir`. Not in one: Failed
// "not a git repository: <dir>".
Result<std::string> toplevel(const std::string& dir);

// The branch HEAD points at; Failed when HEAD is detached.
Result<std::string> current_branch(const std::string& repo);

Result<bool> branch_exists(const std::string& repo, const std::string& branch);

// A name `git check-ref-format --branch` accepts (and not "@{…}" shorthand,
// nor one starting with '-'). Anything else: Usage (100).
Status validate_branch_name(const std::string& branch);

// Make `dir` a worktree of `repo` on `branch`:
// - a new branch: `git worktree add -b <branch> <dir> <base>`;
// - an existing branch (a resumed task): `git worktree add <dir> <branch>`,
//   and `base` is not used;
// - `dir` already a worktree of `repo` on `branch`: nothing to do.
// Registrations left behind by deleted worktree directories are pruned first.
Status add_worktree(const std::string& repo, const std::string& dir, const std::string& branch,
                    const std::string& base);

// Remove the worktree at `dir`; `force` also removes one with changes.
// Not a worktree of `repo` (any more): nothing to do. Prunes registrations of
// worktrees whose directory is gone. A plain directory is never deleted.
Status remove_worktree(const std::string& repo, const std::string& dir, bool force);

// `git branch -d` (`-D` with force). Absent: nothing to do.
Status delete_branch(const std::string& repo, const std::string& branch, bool force);

struct MergeResult {
    bool merged = false;    // the branch is now part of the current branch
    bool conflict = false;  // it was not, because of conflicts; the merge was aborted
    std::string message;    // one line for people: what happened
    std::string commit;     // the merge commit; empty when there was nothing to merge
    std::vector<std::string> conflicted_files;
};

// Merge `branch` into the repo's current branch: `git merge --no-ff` with the
// message "Merge <branch> (fracta)". Nothing to merge: merged, no commit.
// Conflicts: `git merge --abort`, the tree is as before, conflict=true with
// the files listed. Uncommitted changes to tracked files beforehand, a
// detached HEAD, a missing branch or merging a branch into itself: Failed,
// nothing touched. The commit uses the identity git would use; when git has
// none (no user.name/user.email anywhere), "fracta <fracta@localhost>".
Result<MergeResult> merge_no_ff(const std::string& repo, const std::string& branch);

struct Worktree {
    std::string path;       // absolute
    std::string head;       // commit id
    std::string branch;     // short name; empty when detached
    bool prunable = false;  // its directory is gone; `git worktree prune` would drop it
};

// Every worktree of the repo, the main one first (`git worktree list --porcelain`).
Result<std::vector<Worktree>> list_worktrees(const std::string& repo);

}  // namespace fracta::git
