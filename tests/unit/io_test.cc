// Whole-stream reads with caps, atomic files, directories, diagnostics.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/diag.h"
#include "base/io.h"
#include "support.h"

using namespace fracta;

namespace {
// Run `write` with stderr redirected into a pipe; return what it wrote.
template <class F>
std::string capture_stderr(F write) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    int saved = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[1]);
    write();
    dup2(saved, STDERR_FILENO);
    close(saved);
    auto text = io::read_all(fds[0], 1 << 16);
    close(fds[0]);
    return text.ok() ? *text : "";
}
}  // namespace

TEST_CASE("read_all reads to EOF without needing a trailing newline", "[io]") {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    REQUIRE(write(fds[1], "{\"type\":\"a\"}", 12) == 12);
    close(fds[1]);
    auto text = io::read_all(fds[0], 1024);
    close(fds[0]);
    REQUIRE(text.ok());
    CHECK(*text == "{\"type\":\"a\"}");
}

TEST_CASE("read_all refuses input over its cap", "[io]") {
    std::string path = test::temp_dir() + "/big";
    std::ofstream(path) << std::string(5000, 'x');
    int fd = open(path.c_str(), O_RDONLY);
    auto text = io::read_all(fd, 4096);
    close(fd);
    REQUIRE_FALSE(text.ok());
    CHECK(text.error().kind == ErrorKind::Usage);
    CHECK(text.error().message == "input too large: more than 4096 bytes");
}

TEST_CASE("atomic writes replace the whole file and leave no temp file", "[io]") {
    std::string dir = test::temp_dir();
    std::string path = dir + "/state.json";
    REQUIRE(io::write_file_atomic(path, "old").ok());
    REQUIRE(io::write_file_atomic(path, "new contents").ok());
    std::stringstream got;
    got << std::ifstream(path).rdbuf();
    CHECK(got.str() == "new contents");
    CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);
    CHECK_FALSE(io::write_file_atomic(dir + "/missing/x", "y").ok());
}

TEST_CASE("make_dirs creates every level and accepts existing ones", "[io]") {
    std::string dir = test::temp_dir() + "/a/b/c";
    REQUIRE(io::make_dirs(dir, 0700).ok());
    REQUIRE(io::make_dirs(dir, 0700).ok());
    CHECK(std::filesystem::is_directory(dir));
    std::string file = test::temp_dir() + "/f";
    std::ofstream(file) << "x";
    CHECK_FALSE(io::make_dirs(file + "/sub").ok());
}

TEST_CASE("diagnostics are one line: program, level, message", "[diag]") {
    diag::set_program("fracta-test");
    std::string out = capture_stderr([] { diag::error("open store: no such\nfile"); });
    CHECK(out == "fracta-test: error: open store: no such file\n");
    int status = -1;
    out = capture_stderr([&] { status = diag::report(temporary_error("connect: refused")); });
    CHECK(out == "fracta-test: error: connect: refused\n");
    CHECK(status == 111);
    CHECK(capture_stderr([] { diag::warning("w"); }) == "fracta-test: warning: w\n");
}
