// local_start.cc — `fracta-spawn-local start NAME`: claim the name, prepare
// the working directory (worktree, overlays, files), run the hooks, launch
// the supervisor detached, and return once the session is up.
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/io.h"
#include "config/config.h"
#include "git/git.h"
#include "proc/run.h"
#include "provider/local.h"
#include "session/session_dir.h"
#include "session/workspace.h"

extern char** environ;

namespace fracta::provider {
namespace {

namespace fs = std::filesystem;
using session::SessionDir;

// The session's environment: ours, then the request's, then the secrets,
// then what identifies the session to itself.
std::map<std::string, std::string> session_env_map(const StartRequest& r, const SessionDir& dir) {
    std::map<std::string, std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string kv = *e;
        auto eq = kv.find('=');
        if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : r.env) env[k] = v;
    for (const auto& [k, v] : r.secret_env) env[k] = v;
    env["FRACTA_SESSION"] = dir.name();
    env["FRACTA_SESSION_DIR"] = dir.path();
    if (r.mode == "stream" && env["TERM"].empty()) env["TERM"] = "xterm-256color";
    return env;
}

Status run_hook(const std::string& what, const std::vector<std::string>& argv, const std::string& cwd,
                const std::map<std::string, std::string>& env) {
    const std::string line = argv.back();
    proc::Command c;
    c.argv = argv;
    c.cwd = cwd;
    c.env = env;
    c.timeout = std::chrono::seconds(60);
    FRACTA_TRY_ASSIGN(outcome, proc::run(c));
    if (outcome.ok()) return {};
    std::string why = outcome.timed_out ? "timed out" : "exit " + std::to_string(outcome.exit_code);
    std::string err = outcome.err.substr(0, outcome.err.find('\n'));
    return failure(what + " \"" + line + "\": " + why + (err.empty() ? "" : ": " + err));
}

}  // namespace

Status copy_into(const std::string& src, const std::string& dst_dir, const std::string& rel_dst) {
    std::string dst = rel_dst.empty() ? dst_dir : dst_dir + "/" + rel_dst;
    std::error_code ec;
    fs::create_directories(fs::path(dst).parent_path(), ec);
    proc::Command c;
    c.argv = fs::is_directory(src, ec) && rel_dst.empty() ? std::vector<std::string>{"cp", "-a", src + "/.", dst}
                                                           : std::vector<std::string>{"cp", "-a", src, dst};
    FRACTA_TRY_ASSIGN(outcome, proc::run(c));
    if (!outcome.ok()) return failure("copy " + src + ": " + outcome.err.substr(0, outcome.err.find('\n')));
    return {};
}

namespace {

// Worktrees under <repo>/.worktrees must not show up as untracked files.
void exclude_worktrees(const std::string& repo) {
    proc::Command c;
    c.argv = {"git", "-C", repo, "rev-parse", "--git-common-dir"};
    auto out = proc::run(c);
    if (!out.ok() || !out->ok()) return;
    std::string git_dir = out->out.substr(0, out->out.find('\n'));
    if (!git_dir.empty() && git_dir[0] != '/') git_dir = repo + "/" + git_dir;
    std::string exclude = git_dir + "/info/exclude";
    std::ifstream in(exclude);
    std::string line;
    while (std::getline(in, line))
        if (line == "/.worktrees/") return;
    std::error_code ec;
    fs::create_directories(git_dir + "/info", ec);
    std::ofstream(exclude, std::ios::app) << "/.worktrees/\n";
}

// Prepare the working directory: a git worktree, or a plain directory.
Result<std::string> prepare_workdir(const std::string& name, const StartRequest& r, const std::string& cwd) {
    std::string work_dir = r.work_dir;
    if (r.git) {
        std::string branch = r.git->branch.empty() ? "feature/" + name : r.git->branch;
        std::string base = r.git->base;
        if (base.empty()) {
            FRACTA_TRY_ASSIGN(current, git::current_branch(r.git->repo));
            base = current;
        }
        if (work_dir.empty()) {
            work_dir = r.git->repo + "/.worktrees/" + name;
            exclude_worktrees(r.git->repo);
        }
        FRACTA_TRY(git::add_worktree(r.git->repo, work_dir, branch, base));
    } else if (work_dir.empty()) {
        work_dir = cwd;
    } else {
        FRACTA_TRY(io::make_dirs(work_dir, 0755));
    }
    std::error_code ec;
    return fs::canonical(work_dir, ec).string();
}

// Fork the supervisor into its own session, detached from our stdio, holding
// the lock we took; wait for its "ready" line.
Status launch_supervisor(const std::string& name, const StartRequest& r, const LocalContext& ctx,
                         const SessionDir& dir, const std::string& work_dir, int lock_fd) {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) return temporary_error("pipe: " + io::errno_text(errno));
    std::vector<std::string> args = {ctx.self_exe, "supervise", name, "--state-dir", ctx.root, "--mode", r.mode,
                                     "--workdir", work_dir, "--lock-fd", std::to_string(lock_fd),
                                     "--ready-fd", std::to_string(ready[1])};
    auto joined = [](const std::vector<std::string>& keys) {
        std::string out;
        for (const auto& k : keys) out += (out.empty() ? "" : ",") + k;
        return out;
    };
    if (!r.clear_keys.empty()) args.insert(args.end(), {"--clear-keys", joined(r.clear_keys)});
    if (!r.submit_keys.empty()) args.insert(args.end(), {"--submit-keys", joined(r.submit_keys)});
    args.push_back("--");
    const std::map<std::string, std::string> env_map = session_env_map(r, dir);
    // No command: the user's shell (Gas City's "a default shell is started").
    auto shell = env_map.find("SHELL");
    if (r.command.empty()) args.push_back(shell != env_map.end() && !shell->second.empty() ? shell->second : "/bin/sh");
    else args.insert(args.end(), {"/bin/sh", "-c", r.command});
    std::vector<std::string> env;
    for (const auto& [k, v] : env_map) env.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string supervisor_log = dir.file("supervisor.log");

    pid_t pid = ::fork();
    if (pid < 0) return temporary_error("fork: " + io::errno_text(errno));
    if (pid == 0) {
        ::setsid();
        int null = ::open("/dev/null", O_RDWR);
        int log = ::open(supervisor_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(log >= 0 ? log : null, 2);
        // Only the lock and the ready pipe go on; nothing else of the caller.
        ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        ::fcntl(lock_fd, F_SETFD, 0);
        ::fcntl(ready[1], F_SETFD, 0);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(ready[1]);
    std::string answer;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        struct pollfd p = {ready[0], POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        char buf[512];
        ssize_t n = ::read(ready[0], buf, sizeof buf);
        if (n <= 0) break;
        answer.append(buf, static_cast<size_t>(n));
        if (answer.find('\n') != std::string::npos) break;  // one line says it all
    }
    ::close(ready[0]);
    if (answer.rfind("ready", 0) == 0) return {};
    if (answer.rfind("error: ", 0) == 0) {
        std::string why = answer.substr(7);
        while (!why.empty() && why.back() == '\n') why.pop_back();
        return failure(why);
    }
    return failure("supervisor did not come up (see " + supervisor_log + ")");
}

// A start that does not say how a nudge clears and submits (every Gas City
// start) gets the keys of the runtime whose program its command runs, as the
// nearest fracta.yaml declares them (agents.agent_runtimes.<name>): the
// command's first word that is not a VAR=value, by base name, against each
// entry's program (else its adapter, else its name).
void runtime_nudge_keys(StartRequest& r, const std::string& cwd) {
    if (!r.clear_keys.empty() || !r.submit_keys.empty() || r.command.empty()) return;
    auto file = config::find_file(cwd);
    if (!file) return;
    auto config = config::load(*file);
    if (!config.ok()) return;
    std::string program;
    for (size_t at = 0; at < r.command.size();) {
        size_t start = r.command.find_first_not_of(" \t", at);
        if (start == std::string::npos) break;
        size_t end = r.command.find_first_of(" \t", start);
        std::string word = r.command.substr(start, end == std::string::npos ? std::string::npos : end - start);
        at = end == std::string::npos ? r.command.size() : end;
        if (word.find('=') != std::string::npos) continue;
        program = word.substr(word.rfind('/') + 1);
        break;
    }
    for (const auto& [name, rt] : config->agent_runtimes) {
        std::string own = !rt.program.empty() ? rt.program : !rt.adapter.empty() ? rt.adapter : name;
        if (own.substr(own.rfind('/') + 1) != program) continue;
        r.clear_keys = rt.clear_keys;
        r.submit_keys = rt.submit_keys;
        return;
    }
}

// Wait for the prompt a TUI shows when it is ready for input.
void wait_for_prompt(const SessionDir& dir, const std::string& prefix) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        auto out = dir.tail(5);
        if (out.ok()) {
            std::string text = *out;
            while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
            auto nl = text.rfind('\n');
            std::string last = nl == std::string::npos ? text : text.substr(nl + 1);
            if (last.rfind(prefix, 0) == 0) return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace

Status start_local(const std::string& name, StartRequest request, const LocalContext& ctx, Io& io) {
    runtime_nudge_keys(request, request.work_dir.empty() ? ctx.cwd : request.work_dir);
    if (!request.secret_refs.empty())
        return usage_error("\"secret_refs\": a local session cannot read a Kubernetes Secret (use secret_env)");

    SessionDir dir(ctx.root, name);
    FRACTA_TRY(io::make_dirs(dir.path(), 0700));
    auto lock = session::take_lock(dir.file("lock"), std::chrono::milliseconds(300));
    if (!lock.ok()) return failure("session \"" + name + "\" already exists");
    const int lock_fd = *lock;
    struct Unlock {
        int fd;
        ~Unlock() { ::close(fd); }
    } unlock{lock_fd};

    // Everything that can be refused is checked before anything is written.
    FRACTA_TRY_ASSIGN(work_dir, prepare_workdir(name, request, ctx.cwd));
    FRACTA_TRY(session::check_files(work_dir, request.workspace_files));
    std::error_code ec;
    for (const std::string& overlay : request.pack_overlay_dirs)
        if (fs::is_directory(overlay, ec)) FRACTA_TRY(copy_into(overlay, work_dir, ""));
    if (!request.overlay_dir.empty() && fs::is_directory(request.overlay_dir, ec))
        FRACTA_TRY(copy_into(request.overlay_dir, work_dir, ""));
    for (const CopyFile& c : request.copy_files)
        if (fs::exists(c.src, ec)) FRACTA_TRY(copy_into(c.src, work_dir, c.rel_dst));
    FRACTA_TRY(session::write_files(work_dir, request.workspace_files));

    std::map<std::string, std::string> hook_env = request.env;
    hook_env["FRACTA_SESSION"] = name;
    for (const std::string& line : request.pre_start)
        FRACTA_TRY(run_hook("pre_start", {"/bin/sh", "-c", line}, work_dir, hook_env));

    // The name is ours and the start will go ahead: only now forget what an
    // earlier session of that name left (a refused start keeps its result).
    for (const char* leaf : {"state.json", "output.log", "input", "control.sock", "supervisor.log"})
        ::unlink(dir.file(leaf).c_str());
    fs::remove_all(dir.file("meta"), ec);

    FRACTA_TRY(launch_supervisor(name, request, ctx, dir, work_dir, lock_fd));

    // Setup failures do not undo a running session: they are reported.
    for (const std::string& line : request.session_setup) {
        Status s = run_hook("session_setup", {"/bin/sh", "-c", line}, work_dir, hook_env);
        if (!s.ok()) io.warn(s.error().message);
    }
    if (!request.session_setup_script.empty()) {
        Status s = run_hook("session_setup_script", {request.session_setup_script}, work_dir, hook_env);
        if (!s.ok()) io.warn(s.error().message);
    }
    if (!request.nudge.empty()) {
        if (!request.ready_prompt_prefix.empty()) wait_for_prompt(dir, request.ready_prompt_prefix);
        if (request.ready_delay_ms > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(request.ready_delay_ms));
        // Confirmed like any nudge, within the caller's startup budget; a
        // program that does not react is reported, the session stays up.
        Status sent = request.mode == "stream"
                          ? deliver_nudge(dir, request.nudge, std::chrono::seconds(20), ctx, io)
                          : Status(usage_error("the session has no terminal (batch mode)"));
        if (!sent.ok()) io.warn("startup nudge: " + sent.error().message);
    }
    return {};
}

}  // namespace fracta::provider
