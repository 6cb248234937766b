// lib/git/remote.h against real repositories in temp dirs, the remote a bare
// repository reached by file:// URL: a pod's clone at a commit onto a new
// branch, the push back, a later clone continuing the pushed branch, a
// refused push, and the control plane's fetch of the branch.
#include "git/remote.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "proc/run.h"
#include "support.h"

using namespace fracta;

namespace {

// test::sh, without the final newline
std::string sh(const std::string& dir, const std::string& line) {
    std::string out = test::sh(dir, line);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

git::Remote plain(const std::string& url) { return {url, "", "", ""}; }

struct Remote {
    std::string root = test::temp_dir();
    std::string bare = root + "/remote.git";
    std::string project = root + "/project";
    std::string url = "file://" + bare;
    std::string base;
    Remote() {
        setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
        setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
        sh("/", "git init -q --bare " + bare + " && git init -q -b main " + project);
        sh(project, "git config user.name T && git config user.email t@example.com && echo one > README && git add . && "
                    "git commit -qm first && git remote add origin " + url + " && git push -q origin main");
        base = sh(project, "git rev-parse HEAD");
    }
    std::string dir(const std::string& name) {
        std::string d = root + "/" + name;
        sh("/", "mkdir -p " + d);
        return d;
    }
};

}  // namespace

TEST_CASE("a pod's workspace: cloned at the base onto its branch, pushed, continued by a later clone", "[git]") {
    Remote r;
    std::string pod = r.dir("pod1");
    REQUIRE(git::clone_at(pod, plain(r.url), r.base, "feature/t", 0).ok());
    CHECK(sh(pod, "git branch --show-current") == "feature/t");
    CHECK(sh(pod, "git rev-parse HEAD") == r.base);
    sh(pod, "echo a > a.txt && git add a.txt && git commit -qm a");  // the clone's own identity
    REQUIRE(git::push_branch(pod, plain(r.url), "feature/t").ok());
    CHECK(sh(r.bare, "git log -1 --format=%s feature/t") == "a");

    // A later turn of the same task continues the pushed branch.
    std::string again = r.dir("pod2");
    REQUIRE(git::clone_at(again, plain(r.url), r.base, "feature/t", 1).ok());
    CHECK(sh(again, "git log -1 --format=%s") == "a");
    sh(again, "echo b > b.txt && git add b.txt && git commit -qm b");
    REQUIRE(git::push_branch(again, plain(r.url), "feature/t").ok());

    // The first pod's branch is behind now: its push is refused, never forced.
    sh(pod, "echo c > c.txt && git add c.txt && git commit -qm c");
    auto refused = git::push_branch(pod, plain(r.url), "feature/t");
    REQUIRE_FALSE(refused.ok());
    INFO(refused.error().message);
    CHECK(refused.error().message.rfind("push feature/t: rejected as non-fast-forward (", 0) == 0);
    CHECK(refused.error().message.find("; git: ! HEAD:refs/heads/feature/t [rejected] (fetch first)") != std::string::npos);
    CHECK(sh(r.bare, "git log -1 --format=%s feature/t") == "b");
    // A kept workspace (a PVC) is taken as it is: the refused work stays.
    REQUIRE(git::clone_at(pod, plain(r.url), r.base, "feature/t", 0).ok());
    CHECK(sh(pod, "git log -1 --format=%s") == "c");

    // The control plane fetches the branch to merge it.
    REQUIRE(git::fetch_branch(r.project, "origin", "feature/t").ok());
    CHECK(sh(r.project, "git log -1 --format=%s feature/t") == "b");
    CHECK(git::remote_url(r.project, "origin").value() == r.url);
    CHECK(git::resolve_commit(r.project, "main").value() == r.base);
}

TEST_CASE("a clone that cannot reach its remote names the clone; a bad branch is refused", "[git]") {
    Remote r;
    auto missing = git::clone_at(r.dir("x"), plain("file://" + r.root + "/nowhere.git"), r.base, "feature/x", 0);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.rfind("clone file://" + r.root + "/nowhere.git: ", 0) == 0);
    CHECK(git::clone_at(r.dir("y"), plain(r.url), r.base, "bad..name", 0).error().kind == ErrorKind::Usage);
    CHECK_FALSE(git::fetch_branch(r.project, "origin", "feature/none").ok());
    CHECK_FALSE(git::remote_url(r.project, "upstream").ok());
}

TEST_CASE("an SSH key without known_hosts is refused before git runs: a host key is never taken on trust", "[git]") {
    Remote r;
    git::Remote ssh = {"ssh://git@127.0.0.1:1/remote.git", "", "-----BEGIN OPENSSH PRIVATE KEY-----\n", ""};
    auto refused = git::clone_at(r.dir("s"), ssh, r.base, "feature/s", 0);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message ==
          "clone ssh://git@127.0.0.1:1/remote.git: an SSH key needs known_hosts: the server's host key is never taken on trust");
    CHECK(refused.error().kind == ErrorKind::Usage);
}
