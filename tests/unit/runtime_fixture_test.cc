// The fake agent CLIs (tests/fixtures/) against lib/runtime: each fixture is
// run for real, with the argv, environment and workspace files lib/runtime
// renders, and its real output goes through the runtime's parser. This proves
// the fixtures and the parsers agree — and that the files and environment
// together hand the gateway token to the CLI (a one-shot HTTP listener here
// plays the gateway and records the Authorization header it receives).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "runtime/runtime.h"
#include "support.h"

extern char** environ;

using namespace fracta;
using namespace fracta::runtime;
namespace fs = std::filesystem;

namespace {

using test::slurp;
using test::source_root;

std::string fixture(const std::string& name) {
    std::string path = source_root() + "/tests/fixtures/" + name;
    INFO("fixture " << path << " (set FRACTA_SOURCE to the repository root)");
    REQUIRE(access(path.c_str(), X_OK) == 0);
    return path;
}

struct Ran {
    int exit_code = -1;
    std::string out;  // stdout
    std::string err;  // stderr
};

std::string read_fd(int fd) {
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        REQUIRE(n > 0);
        text.append(buf, static_cast<size_t>(n));
    }
    return text;
}

// Run argv in `dir` with the inherited environment (minus FIXTURE_*) plus
// `env`, feeding `input` on stdin. Test-only process handling.
Ran run(const Argv& argv, const std::string& dir, const Env& env = {}, const std::string& input = "") {
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) {
        std::string entry = *e;
        std::string key = entry.substr(0, entry.find('='));
        if (key.rfind("FIXTURE_", 0) != 0 && !env.count(key)) envs.push_back(entry);
    }
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char*> cargv, cenv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);

    // stdin from a file, so a child that exits early cannot SIGPIPE us.
    std::string in_path = dir + "/../stdin-" + std::to_string(getpid());
    std::string err_path = dir + "/../stderr-" + std::to_string(getpid());
    std::ofstream(in_path) << input;
    int out[2];
    REQUIRE(pipe(out) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int in = open(in_path.c_str(), O_RDONLY);
        int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(in, 0);
        dup2(out[1], 1);
        dup2(err, 2);
        close(out[0]);
        if (chdir(dir.c_str()) != 0) _exit(126);
        execve(cargv[0], cargv.data(), cenv.data());
        dprintf(2, "exec %s: %s\n", cargv[0], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    Ran ran;
    ran.out = read_fd(out[0]);
    close(out[0]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::ifstream err_file(err_path);
    std::stringstream err;
    err << err_file.rdbuf();
    ran.err = err.str();
    fs::remove(err_path);
    fs::remove(in_path);
    return ran;
}

// A fresh git repository (under its own temp dir, so stderr files stay out of it).
std::string git_workspace() {
    std::string dir = test::temp_dir() + "/ws";
    fs::create_directories(dir);
    REQUIRE(run({"/usr/bin/env", "git", "init", "-q"}, dir).exit_code == 0);
    return dir;
}

void write_files(const std::string& dir, const Files& files) {
    for (const auto& [path, content] : files) {
        fs::path full = fs::path(dir) / path;
        fs::create_directories(full.parent_path());
        std::ofstream(full) << content;
    }
}

int commit_count(const std::string& dir) {
    Ran r = run({"/usr/bin/env", "git", "rev-list", "--count", "--all"}, dir);
    return r.exit_code == 0 ? std::stoi(r.out) : 0;
}

// Render everything for `session` and run it in `dir`, as a worker would.
Ran start(const Runtime& rt, const SessionInfo& session, const std::string& dir, Env extra = {},
          const std::string& input = "") {
    RuntimeSpec spec;
    spec.program = rt.name() == "shell" ? "/bin/sh" : fixture(std::string(rt.name()));
    spec.model = "fixture-model";
    spec.allowed_tools = {"Read", "Bash(git *)"};
    write_files(dir, rt.workspace_files(session, spec));
    auto argv = rt.command(session, spec);
    REQUIRE(argv.ok());
    Env env = rt.environment(session, spec);
    env["FRACTA_GATEWAY_TOKEN"] = "tok-" + session.task;  // what the caller adds
    env["FRACTA_SESSION_DIR"] = dir + "/../session";       // what the provider adds
    for (auto& [k, v] : extra) env[k] = v;
    return run(*argv, dir, env, input);
}

SessionInfo session_for(const std::string& task) {
    SessionInfo s;
    s.task = task;
    s.contract = "Append to the log and commit.";
    s.base_branch = "main";
    return s;
}

// One HTTP request answered 200; the request head is kept for the test.
class OneShotGateway {
public:
    OneShotGateway() {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(listen(fd_, 1) == 0);
        socklen_t len = sizeof addr;
        REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        url_ = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
        thread_ = std::thread([this] { serve(); });
    }
    ~OneShotGateway() {
        shutdown(fd_, SHUT_RDWR);
        if (thread_.joinable()) thread_.join();
        close(fd_);
    }
    const std::string& url() const { return url_; }
    // What arrived; call after the client is done (an idle gateway stops waiting).
    std::string request() {
        shutdown(fd_, SHUT_RDWR);
        thread_.join();
        return request_;
    }

private:
    void serve() {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        char buf[4096];
        for (ssize_t n; request_.find("\r\n\r\n") == std::string::npos && (n = read(c, buf, sizeof buf)) > 0;)
            request_.append(buf, static_cast<size_t>(n));
        std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                            "Connection: close\r\n\r\n{}";
        (void)!write(c, reply.data(), reply.size());
        close(c);
    }
    int fd_ = -1;
    std::string url_, request_;
    std::thread thread_;
};

}  // namespace

TEST_CASE("each fixture runs with lib/runtime's argv, and the parser reads its real output",
          "[runtime][fixture]") {
    for (const char* name : {"claude", "codex", "opencode"}) {
        DYNAMIC_SECTION(name) {
            const Runtime& rt = **find_runtime(name);
            std::string dir = git_workspace();
            SessionInfo s = session_for(std::string("fx-") + name);

            Ran first = start(rt, s, dir, {{"FIXTURE_COMMIT", "1"}});
            INFO(first.err);
            CHECK(first.exit_code == 0);
            RunResult r = rt.parse(first.exit_code, first.out);
            CHECK(r.success);
            CHECK(r.error.empty());
            CHECK(r.text.find(std::string(name) + " fixture ran in " + dir + " for \"") != std::string::npos);
            REQUIRE_FALSE(r.resume_token.empty());
            CHECK(commit_count(dir) == 1);

            // Resume: the follow-up run continues the same session.
            s.resume_token = r.resume_token;
            s.prompt = "Now the follow-up.";
            Ran again = start(rt, s, dir);
            RunResult r2 = rt.parse(again.exit_code, again.out);
            CHECK(r2.success);
            CHECK(r2.resume_token == r.resume_token);
            CHECK(r2.text.find("for \"Now the follow-up.\"") != std::string::npos);
            std::string log = slurp(dir + "/fixture-" + name + ".log");
            CHECK(log.find(r.resume_token + " Read ") == 0);
            CHECK(log.find("\n" + r.resume_token + " Now the follow-up.\n") != std::string::npos);
        }
    }
}

TEST_CASE("each fixture's failure shape parses as a failure with its reason", "[runtime][fixture]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"claude", "claude reported an error: fixture failure requested (FIXTURE_FAIL=1)"},
        {"codex", "fixture failure requested (FIXTURE_FAIL=1)"},
        {"opencode", "fixture failure requested (FIXTURE_FAIL=1)"},
    };
    for (const auto& [name, reason] : cases) {
        DYNAMIC_SECTION(name) {
            const Runtime& rt = **find_runtime(name);
            std::string dir = git_workspace();
            Ran ran = start(rt, session_for("fx-fail"), dir, {{"FIXTURE_FAIL", "1"}});
            CHECK(ran.exit_code == 1);
            RunResult r = rt.parse(ran.exit_code, ran.out);
            CHECK_FALSE(r.success);
            CHECK(r.error == reason);
            CHECK_FALSE(r.resume_token.empty());
            CHECK_FALSE(fs::exists(dir + "/fixture-" + name + ".log"));  // failed before any work
        }
    }
}

TEST_CASE("fixtures reject flags the real CLIs would not take", "[runtime][fixture]") {
    for (const char* name : {"claude", "codex", "opencode"}) {
        DYNAMIC_SECTION(name) {
            std::string dir = git_workspace();
            Ran ran = run({fixture(name), "--no-such-flag"}, dir);
            CHECK(ran.exit_code == 2);
            CHECK(ran.err.find("no-such-flag") != std::string::npos);
            CHECK(ran.out.empty());
            RunResult r = (**find_runtime(name)).parse(ran.exit_code, ran.out);
            CHECK_FALSE(r.success);
            CHECK_FALSE(r.error.empty());
        }
    }
}

TEST_CASE("stream mode: each fixture answers its first prompt and then stdin", "[runtime][fixture]") {
    for (const char* name : {"claude", "codex", "opencode"}) {
        DYNAMIC_SECTION(name) {
            const Runtime& rt = **find_runtime(name);
            std::string dir = git_workspace();
            SessionInfo s = session_for("fx-stream");
            s.mode = Mode::Stream;
            Ran ran = start(rt, s, dir, {}, "hello there\n");
            INFO(ran.err);
            RunResult r = rt.parse(ran.exit_code, ran.out, Mode::Stream);
            CHECK(r.success);
            std::string doc = std::string(name) == "claude" ? "CLAUDE.md" : "AGENTS.md";
            CHECK(r.text.find("for \"Read " + doc) != std::string::npos);
            CHECK(r.text.find("for \"hello there\"") != std::string::npos);
        }
    }
}

TEST_CASE("the workspace files and environment hand each fixture the gateway URL and token",
          "[runtime][fixture]") {
    for (const char* name : {"claude", "codex", "opencode"}) {
        DYNAMIC_SECTION(name) {
            OneShotGateway gateway;
            const Runtime& rt = **find_runtime(name);
            std::string dir = git_workspace();
            SessionInfo s = session_for("fx-gw");
            s.gateway_url = gateway.url();
            Ran ran = start(rt, s, dir, {{"FIXTURE_CALL_GATEWAY", "1"}});
            RunResult r = rt.parse(ran.exit_code, ran.out);
            CHECK(r.success);
            CHECK(r.text.find("gateway: HTTP 200") != std::string::npos);
            std::string request = gateway.request();
            CHECK(request.rfind("POST /agents/fx-gw/mcp HTTP/1.1\r\n", 0) == 0);
            CHECK(request.find("\r\nAuthorization: Bearer tok-fx-gw\r\n") != std::string::npos);
        }
    }
}

TEST_CASE("the shell runtime runs its contract for real, with the gateway in its environment",
          "[runtime][fixture]") {
    const Runtime& rt = **find_runtime("shell");
    std::string dir = git_workspace();
    SessionInfo s = session_for("fx-shell");
    s.gateway_url = "http://127.0.0.1:8080";
    s.contract = "echo \"$FRACTA_TASK $FRACTA_GATEWAY_URL ${#FRACTA_GATEWAY_TOKEN}\"; pwd";
    Ran ran = start(rt, s, dir);
    RunResult r = rt.parse(ran.exit_code, ran.out);
    CHECK(r.success);
    CHECK(r.text == "fx-shell http://127.0.0.1:8080/agents/fx-shell/mcp 12\n" + dir + "\n");

    s.contract = "echo partial; exit 4";
    ran = start(rt, s, dir);
    r = rt.parse(ran.exit_code, ran.out);
    CHECK_FALSE(r.success);
    CHECK(r.error == "shell exited with status 4");
    CHECK(r.text == "partial\n");

    s.contract = "";
    s.mode = Mode::Stream;
    ran = start(rt, s, dir, {}, "echo from-stdin $FRACTA_TASK\n");
    r = rt.parse(ran.exit_code, ran.out, Mode::Stream);
    CHECK(r.success);
    CHECK(r.text == "from-stdin fx-shell\n");
}
