// fracta's git operations against real repositories in temp dirs: a worktree
// and branch per task, resumed and removed idempotently, merged back with
// --no-ff, conflicts aborted cleanly. Nothing here reads the user's git config.
#include "git/git.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "proc/run.h"
#include "support.h"

using namespace fracta;
namespace fs = std::filesystem;
using fracta::test::ok;

namespace {

// For the library's git as well as the tests' own: no global or system
// config, no identity or repository from the environment.
void isolate_from_user() {
    setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    for (const char* v : {"GIT_DIR", "GIT_WORK_TREE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                          "GIT_COMMITTER_EMAIL", "EMAIL"})
        unsetenv(v);
}

using test::sh;

std::string read(const std::string& path) {
    std::stringstream s;
    s << std::ifstream(path).rdbuf();
    return s.str();
}

// A repository on main with one commit (README: "one"; .worktrees/ ignored,
// as fracta-init leaves it), identity in its own config.
std::string fresh_repo() {
    isolate_from_user();
    std::string repo = test::temp_dir() + "/project";
    sh("/", "git init -q -b main " + repo);
    sh(repo, "git config user.name Test && git config user.email test@example.com");
    sh(repo, "echo one > README && echo .worktrees/ > .gitignore && git add . && git commit -qm first");
    return repo;
}

// fresh_repo() and the worktree of task x (branch feature/x from main).
struct RepoWithTask {
    std::string repo, dir;
};
RepoWithTask repo_with_task_x() {
    std::string repo = fresh_repo();
    std::string dir = repo + "/.worktrees/x";
    ok(git::add_worktree(repo, dir, "feature/x", "main"));
    return {repo, dir};
}

void commit(const std::string& dir, const std::string& file, const std::string& content) {
    std::ofstream(dir + "/" + file) << content;
    sh(dir, "git add '" + file + "' && git commit -qm 'change " + file + "'");
}

std::string head(const std::string& dir) {
    return sh(dir, "git rev-parse HEAD");
}

}  // namespace

TEST_CASE("a task's worktree is a new branch from the base", "[git]") {
    auto [repo, dir] = repo_with_task_x();

    CHECK(read(dir + "/README") == "one\n");
    CHECK(sh(dir, "git branch --show-current") == "feature/x\n");
    CHECK(sh(dir, "git rev-parse HEAD") == head(repo));
    CHECK(*git::branch_exists(repo, "feature/x"));
    CHECK(*git::current_branch(repo) == "main");

    auto trees = ok(git::list_worktrees(repo));
    REQUIRE(trees.size() == 2);
    CHECK(trees[0].path == repo);
    CHECK(trees[0].branch == "main");
    CHECK(trees[1].path == dir);
    CHECK(trees[1].branch == "feature/x");
    CHECK(trees[1].head + "\n" == head(repo));
    CHECK_FALSE(trees[1].prunable);
}

TEST_CASE("two tasks work side by side, each in its own worktree", "[git]") {
    std::string repo = fresh_repo();
    std::string x = repo + "/.worktrees/x", y = repo + "/.worktrees/y";
    ok(git::add_worktree(repo, x, "feature/x", "main"));
    ok(git::add_worktree(repo, y, "feature/y", "main"));
    commit(x, "x.txt", "from x\n");
    CHECK(fs::exists(x + "/x.txt"));
    CHECK_FALSE(fs::exists(y + "/x.txt"));
    CHECK(git::list_worktrees(repo)->size() == 3);
}

TEST_CASE("workers in several threads add worktrees to one repository at once", "[git]") {
    std::string repo = fresh_repo();
    std::vector<std::string> errors(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            std::string task = "t" + std::to_string(i);
            auto s = git::add_worktree(repo, repo + "/.worktrees/" + task, "feature/" + task, "main");
            if (!s.ok()) errors[i] = s.error().message;
        });
    for (auto& t : threads) t.join();
    for (const auto& e : errors) CHECK(e == "");
    CHECK(git::list_worktrees(repo)->size() == 5);
}

TEST_CASE("a resumed task gets its existing branch checked out", "[git]") {
    std::string repo = fresh_repo();
    std::string dir = repo + "/.worktrees/r";
    ok(git::add_worktree(repo, dir, "feature/r", "main"));
    commit(dir, "work.txt", "half done\n");
    ok(git::remove_worktree(repo, dir, false));
    REQUIRE_FALSE(fs::exists(dir));

    // The base is not used for a branch that exists already.
    ok(git::add_worktree(repo, dir, "feature/r", "no-such-base"));
    CHECK(read(dir + "/work.txt") == "half done\n");
    CHECK(sh(dir, "git branch --show-current") == "feature/r\n");
}

TEST_CASE("adding a task's worktree again changes nothing", "[git]") {
    auto [repo, dir] = repo_with_task_x();
    std::ofstream(dir + "/scratch") << "in progress";
    ok(git::add_worktree(repo, dir, "feature/x", "main"));
    ok(git::add_worktree(repo, repo + "/.worktrees/../.worktrees/x/", "feature/x", "main"));
    CHECK(read(dir + "/scratch") == "in progress");
    CHECK(git::list_worktrees(repo)->size() == 2);

    SECTION("but the same directory on another branch is refused") {
        auto s = git::add_worktree(repo, dir, "feature/other", "main");
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().kind == ErrorKind::Failed);
        CHECK(s.error().message == "git worktree add: " + dir + " is already a worktree on branch 'feature/x'");
    }
    SECTION("and the branch in a second directory is git's error") {
        auto s = git::add_worktree(repo, repo + "/.worktrees/x2", "feature/x", "main");
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().message.rfind("git worktree add: fatal: 'feature/x' is already checked out at", 0) == 0);
    }
}

TEST_CASE("a worktree directory deleted by hand can be added again", "[git]") {
    auto [repo, dir] = repo_with_task_x();
    fs::remove_all(dir);
    REQUIRE(git::list_worktrees(repo)->at(1).prunable);

    SECTION("in the same place") {
        ok(git::add_worktree(repo, dir, "feature/x", "main"));
    }
    SECTION("somewhere else") {
        ok(git::add_worktree(repo, repo + "/.worktrees/moved", "feature/x", "main"));
    }
    CHECK(git::list_worktrees(repo)->size() == 2);
}

TEST_CASE("removing worktrees and deleting branches is idempotent", "[git]") {
    auto [repo, dir] = repo_with_task_x();

    ok(git::remove_worktree(repo, dir, false));
    CHECK_FALSE(fs::exists(dir));
    CHECK(git::list_worktrees(repo)->size() == 1);
    ok(git::remove_worktree(repo, dir, false));
    ok(git::remove_worktree(repo, repo + "/never-was", true));

    ok(git::delete_branch(repo, "feature/x", false));
    CHECK_FALSE(*git::branch_exists(repo, "feature/x"));
    ok(git::delete_branch(repo, "feature/x", false));
    ok(git::delete_branch(repo, "feature/x", true));
}

TEST_CASE("a worktree deleted by hand is removed by pruning", "[git]") {
    auto [repo, dir] = repo_with_task_x();
    fs::remove_all(dir);
    ok(git::remove_worktree(repo, dir, false));
    CHECK(git::list_worktrees(repo)->size() == 1);
    ok(git::delete_branch(repo, "feature/x", false));  // it has nothing unmerged
}

TEST_CASE("work in progress is only thrown away with force", "[git]") {
    auto [repo, dir] = repo_with_task_x();
    std::ofstream(dir + "/README") << "edited\n";

    auto kept = git::remove_worktree(repo, dir, false);
    REQUIRE_FALSE(kept.ok());
    CHECK(kept.error().kind == ErrorKind::Failed);
    CHECK(kept.error().message ==
          "git worktree remove: fatal: '" + dir + "' contains modified or untracked files, use --force to delete it");
    CHECK(read(dir + "/README") == "edited\n");
    ok(git::remove_worktree(repo, dir, true));
    CHECK_FALSE(fs::exists(dir));

    ok(git::add_worktree(repo, dir, "feature/x", "main"));
    commit(dir, "new.txt", "unmerged\n");
    ok(git::remove_worktree(repo, dir, false));
    auto unmerged = git::delete_branch(repo, "feature/x", false);
    REQUIRE_FALSE(unmerged.ok());
    CHECK(unmerged.error().message == "git branch: error: The branch 'feature/x' is not fully merged.");
    ok(git::delete_branch(repo, "feature/x", true));
    CHECK_FALSE(*git::branch_exists(repo, "feature/x"));
}

TEST_CASE("the main worktree is never removed", "[git]") {
    std::string repo = fresh_repo();
    auto s = git::remove_worktree(repo, repo, true);
    REQUIRE_FALSE(s.ok());
    CHECK(fs::exists(repo + "/README"));
}

TEST_CASE("a finished task merges into the current branch with a merge commit", "[git]") {
    auto [repo, dir] = repo_with_task_x();
    commit(dir, "feature.txt", "new feature\n");

    auto m = git::merge_no_ff(repo, "feature/x");
    REQUIRE(m.ok());
    CHECK(m->merged);
    CHECK_FALSE(m->conflict);
    CHECK(m->conflicted_files.empty());
    CHECK(m->commit + "\n" == head(repo));
    CHECK(m->message == "merged feature/x into main (" + m->commit.substr(0, 12) + ")");

    CHECK(read(repo + "/feature.txt") == "new feature\n");
    CHECK(*git::current_branch(repo) == "main");
    std::istringstream parents(sh(repo, "git rev-list --parents -n 1 HEAD"));
    std::vector<std::string> ids{std::istream_iterator<std::string>(parents), {}};
    CHECK(ids.size() == 3);  // the commit and its two parents
    CHECK(sh(repo, "git log -1 --format=%s") == "Merge feature/x (fracta)\n");
    CHECK(sh(repo, "git log -1 --format='%an <%ae>'") == "Test <test@example.com>\n");
    CHECK(sh(repo, "git status --porcelain") == "");

    SECTION("merging it again has nothing to do") {
        auto again = git::merge_no_ff(repo, "feature/x");
        REQUIRE(again.ok());
        CHECK(again->merged);
        CHECK(again->commit.empty());
        CHECK(again->message == "feature/x is already merged into main");
        CHECK(again->commit + sh(repo, "git rev-list --count HEAD") == "3\n");
    }
}

TEST_CASE("a conflicting merge is aborted and leaves the tree as it was", "[git]") {
    auto [repo, dir] = repo_with_task_x();
    commit(dir, "README", "theirs\n");
    commit(dir, "other.txt", "no conflict here\n");
    commit(repo, "README", "ours\n");
    std::string before = head(repo);

    auto m = git::merge_no_ff(repo, "feature/x");
    REQUIRE(m.ok());
    CHECK_FALSE(m->merged);
    CHECK(m->conflict);
    CHECK(m->commit.empty());
    CHECK(m->conflicted_files == std::vector<std::string>{"README"});
    CHECK(m->message == "merging feature/x into main conflicts in README; merge aborted");

    CHECK(head(repo) == before);
    CHECK(sh(repo, "git status --porcelain") == "");
    CHECK(read(repo + "/README") == "ours\n");
    CHECK_FALSE(fs::exists(repo + "/other.txt"));
    CHECK_FALSE(fs::exists(repo + "/.git/MERGE_HEAD"));
}

TEST_CASE("a merge into a tree with uncommitted changes touches nothing", "[git]") {
    auto [repo, dir] = repo_with_task_x();
    commit(dir, "feature.txt", "new\n");
    std::ofstream(repo + "/README") << "uncommitted\n";
    std::string before = head(repo);

    auto m = git::merge_no_ff(repo, "feature/x");
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().kind == ErrorKind::Failed);
    CHECK(m.error().message == "merge feature/x: " + repo + " has uncommitted changes; commit or stash them first");
    CHECK(head(repo) == before);
    CHECK(read(repo + "/README") == "uncommitted\n");
    CHECK_FALSE(fs::exists(repo + "/feature.txt"));
}

TEST_CASE("merges that cannot start are refused", "[git]") {
    std::string repo = fresh_repo();
    auto missing = git::merge_no_ff(repo, "feature/none");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message == "merge feature/none: no such branch");

    auto itself = git::merge_no_ff(repo, "main");
    REQUIRE_FALSE(itself.ok());
    CHECK(itself.error().message == "merge main: cannot merge a branch into itself");

    sh(repo, "git checkout -q --detach");
    auto detached = git::merge_no_ff(repo, "main");
    REQUIRE_FALSE(detached.ok());
    CHECK(detached.error().message == "no current branch in " + repo + ": HEAD is detached");
}

TEST_CASE("a merge works in a repository without any identity configured", "[git]") {
    std::string repo = fresh_repo();
    // Nothing to guess from either: git would refuse to commit on its own.
    sh(repo, "git config --unset user.name && git config --unset user.email && git config user.useConfigOnly true");
    std::string dir = repo + "/.worktrees/x";
    ok(git::add_worktree(repo, dir, "feature/x", "main"));
    sh(dir, "echo x > x && git add x && git -c user.name=A -c user.email=a@b commit -qm x");

    auto m = ok(git::merge_no_ff(repo, "feature/x"));
    CHECK(m.merged);
    CHECK(sh(repo, "git log -1 --format='%an <%ae>|%cn <%ce>'") ==
          "fracta <fracta@localhost>|fracta <fracta@localhost>\n");
}

TEST_CASE("branch names git would not accept are usage errors", "[git]") {
    std::string repo = fresh_repo();
    for (std::string bad : {"feature/..x", "a b", "", "-x", "@{-1}", "HEAD", "x.lock", "x~1", "feature/x/"}) {
        INFO(bad);
        auto s = git::validate_branch_name(bad);
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().kind == ErrorKind::Usage);
        CHECK(s.error().message == "invalid branch name '" + bad + "'");
        CHECK(git::add_worktree(repo, repo + "/w", bad, "main").error().kind == ErrorKind::Usage);
        CHECK(git::merge_no_ff(repo, bad).error().kind == ErrorKind::Usage);
        CHECK(git::delete_branch(repo, bad, true).error().kind == ErrorKind::Usage);
        CHECK(git::branch_exists(repo, bad).error().kind == ErrorKind::Usage);
    }
    CHECK(git::validate_branch_name("feature/task-1_a").ok());
    CHECK_FALSE(fs::exists(repo + "/w"));
}

TEST_CASE("outside a repository every call says so", "[git]") {
    isolate_from_user();
    std::string dir = test::temp_dir();
    auto top = git::toplevel(dir);
    REQUIRE_FALSE(top.ok());
    CHECK(top.error().kind == ErrorKind::Failed);
    CHECK(top.error().message == "not a git repository: " + dir);
    CHECK(git::merge_no_ff(dir, "feature/x").error().message == "not a git repository: " + dir);
    CHECK(git::add_worktree(dir, dir + "/w", "feature/x", "main").error().message == "not a git repository: " + dir);
    CHECK(git::list_worktrees(dir).error().message == "not a git repository: " + dir);
}

TEST_CASE("toplevel finds the root from anywhere inside", "[git]") {
    std::string repo = fresh_repo();
    fs::create_directories(repo + "/a/b");
    CHECK(*git::toplevel(repo + "/a/b") == repo);
    CHECK(*git::toplevel(repo) == repo);
}

TEST_CASE("a repository named in the environment does not redirect the calls", "[git]") {
    std::string repo = fresh_repo();
    std::string other = fresh_repo();
    sh(other, "git checkout -q -b elsewhere");
    setenv("GIT_DIR", (other + "/.git").c_str(), 1);
    auto branch = git::current_branch(repo);
    unsetenv("GIT_DIR");
    REQUIRE(branch.ok());
    CHECK(*branch == "main");
}

TEST_CASE("bad base revisions and missing bases are reported", "[git]") {
    std::string repo = fresh_repo();
    auto s = git::add_worktree(repo, repo + "/.worktrees/x", "feature/x", "no-such-base");
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().kind == ErrorKind::Failed);
    CHECK(s.error().message == "git worktree add: fatal: not a valid object name: 'no-such-base'");
    CHECK_FALSE(*git::branch_exists(repo, "feature/x"));
    CHECK(git::add_worktree(repo, repo + "/.worktrees/x", "feature/x", "--orphan").error().kind == ErrorKind::Usage);
}
