// Session building blocks: names, keys, safe workspace writes, the state
// directory, and the start JSON.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/io.h"
#include "provider/contract.h"
#include "session/keys.h"
#include "session/session_dir.h"
#include "session/workspace.h"
#include "support.h"

using namespace fracta;
using namespace fracta::session;
using fracta::test::slurp;

TEST_CASE("session names are Gas City's raw names", "[session]") {
    for (const char* ok : {"a", "city-mayor", "rig--agent__x", "A_1"}) CHECK(validate_name(ok).ok());
    for (const char* bad : {"", "a/b", "a.b", "../x", "a b", "é"}) {
        INFO(bad);
        auto r = validate_name(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind == ErrorKind::Usage);
    }
    CHECK_FALSE(validate_name(std::string(201, 'a')).ok());
}

TEST_CASE("tmux key names become terminal bytes", "[session]") {
    CHECK(key_bytes("Enter") == "\r");
    CHECK(key_bytes("C-c") == "\x03");
    CHECK(key_bytes("Up") == "\x1b[A");
    CHECK(key_bytes("Escape") == "\x1b");
    CHECK(key_bytes("hello") == "hello");
    CHECK(keys_bytes({"ls", "Enter"}) == "ls\r");
}

TEST_CASE("workspace files are written below the root, never outside it", "[session]") {
    std::string root = test::temp_dir();
    REQUIRE(write_files(root, {{"CLAUDE.md", "hi"}, {".claude/settings.json", "{}"}}).ok());
    CHECK(slurp(root + "/CLAUDE.md") == "hi");
    CHECK(slurp(root + "/.claude/settings.json") == "{}");

    for (const char* bad : {"../escape", "/etc/passwd", "a/../../b", "", "."}) {
        INFO(bad);
        auto r = write_files(root, {{"fine.txt", "x"}, {bad, "y"}});
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind == ErrorKind::Usage);
    }
    CHECK_FALSE(std::filesystem::exists(root + "/fine.txt"));  // nothing written when one is bad
}

TEST_CASE("no write goes through a symlink", "[session]") {
    std::string root = test::temp_dir(), outside = test::temp_dir();
    REQUIRE(symlink(outside.c_str(), (root + "/out").c_str()) == 0);
    REQUIRE(symlink((outside + "/target").c_str(), (root + "/file").c_str()) == 0);
    for (const char* via : {"out/x", "file"}) {
        INFO(via);
        auto r = write_files(root, {{"a.txt", "x"}, {via, "y"}});
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind == ErrorKind::Usage);
    }
    CHECK(std::filesystem::is_empty(outside));
    CHECK_FALSE(std::filesystem::exists(root + "/a.txt"));
}

TEST_CASE("the state directory reports absent, running and lost sessions", "[session]") {
    std::string root = test::temp_dir();
    SessionDir dir(root, "s1");
    CHECK(dir.status() == "absent");
    REQUIRE(io::make_dirs(dir.path(), 0700).ok());
    auto lock = take_lock(dir.file("lock"), std::chrono::seconds(30));  // free: at once
    REQUIRE(lock.ok());
    State s;
    s.name = "s1";
    s.phase = "running";
    REQUIRE(dir.write_state(s).ok());
    CHECK(dir.status() == "running");
    CHECK_FALSE(take_lock(dir.file("lock"), std::chrono::milliseconds(20)).ok());  // the name is taken
    close(*lock);  // the owner dies without writing an exit
    CHECK(dir.status() == "lost");
    CHECK(*wait_unlocked(dir.file("lock"), std::chrono::seconds(30)));  // released by the close: at once

    s.phase = "exited";
    s.exit_code = 3;
    REQUIRE(dir.write_state(s).ok());
    std::optional<State> read;
    CHECK(dir.status(&read) == "exited");
    CHECK(read->exit_code == 3);
}

TEST_CASE("tail returns the last lines without carriage returns", "[session]") {
    std::string root = test::temp_dir();
    SessionDir dir(root, "t");
    REQUIRE(io::make_dirs(dir.path(), 0700).ok());
    std::ofstream(dir.file("output.log")) << "one\r\ntwo\r\nthree\r\n";
    CHECK(*dir.tail(2) == "two\nthree\n");
    CHECK(*dir.tail(0) == "one\ntwo\nthree\n");
    CHECK(*dir.tail(10) == "one\ntwo\nthree\n");
    CHECK_FALSE(dir.last_activity().empty());
}

TEST_CASE("meta values round-trip and keys cannot escape", "[session]") {
    SessionDir dir(test::temp_dir(), "m");
    REQUIRE(dir.set_meta("GC_DRAIN", "1").ok());
    CHECK(*dir.get_meta("GC_DRAIN") == "1");
    CHECK(*dir.get_meta("unset") == "");
    REQUIRE(dir.remove_meta("GC_DRAIN").ok());
    REQUIRE(dir.remove_meta("GC_DRAIN").ok());
    CHECK(*dir.get_meta("GC_DRAIN") == "");
    CHECK_FALSE(dir.set_meta("../x", "1").ok());
    CHECK_FALSE(dir.set_meta(".hidden", "1").ok());
}

TEST_CASE("the start JSON is checked before anything happens", "[session]") {
    auto ok = provider::parse_start_request(Json::parse(
        R"({"command":"sleep 1","env":{"A":"1"},"mode":"stream","workspace_files":{"a/b.md":"x"},
            "git":{"repo":"/r"},"copy_files":[{"src":"/x","rel_dst":"y"}],"unknown":1})"));
    REQUIRE(ok.ok());
    CHECK(ok->mode == "stream");
    CHECK(ok->git->repo == "/r");
    CHECK(ok->copy_files.size() == 1);

    for (const char* bad : {R"({"mode":"turbo"})", R"({"env":{"A":1}})", R"({"workspace_files":{"../x":"y"}})",
                            R"({"workspace_files":{"/abs":"y"}})", R"({"git":{"base":"main"}})",
                            R"({"pre_start":"not a list"})", R"([1])"}) {
        INFO(bad);
        auto r = provider::parse_start_request(Json::parse(bad));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind == ErrorKind::Usage);
    }
}
