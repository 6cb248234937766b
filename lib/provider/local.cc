#include "provider/local.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "base/io.h"
#include "k8s/objects_names.h"
#include "session/attach.h"
#include "session/control_client.h"
#include "session/keys.h"
#include "session/processes.h"
#include "session/session_dir.h"
#include "session/supervisor.h"
#include "session/workspace.h"

namespace fracta::provider {
namespace {

namespace fs = std::filesystem;
using session::SessionDir;
using session::State;

constexpr size_t kOutputTail = 64 * 1024;

const cli::Command kSupervise = {
    "supervise", "NAME [--foreground] [--control ADDR] [--mode batch|stream] [--workdir DIR] -- COMMAND [ARG…]",
    "Run COMMAND as session NAME under the supervisor, in the foreground (the entrypoint of agent pods).",
    {{"foreground", 0, "", "run in the foreground (always true; accepted for clarity)"},
     {"control", 0, "ADDR", "serve the control API on HOST:PORT (token: $FRACTA_SUPERVISOR_TOKEN)"},
     {"mode", 0, "MODE", "batch (pipes) or stream (a pty); default batch"},
     {"workdir", 0, "DIR", "run the command there"},
     {"state-dir", 0, "DIR", "the session state root"},
     {"lock-fd", 0, "N", "(internal) the session lock, already held"},
     {"ready-fd", 0, "N", "write \"ready\" to this descriptor once the session is up"},
     {"files-from", 0, "DIR", "first restore the workspace files kept in DIR (a mounted ConfigMap)"},
     {"clear-keys", 0, "KEYS", "how a nudge empties the input line: key names, comma-separated (default C-u)"},
     {"submit-keys", 0, "KEYS", "how a nudge submits: key names, comma-separated (default Enter)"}},
    {},
    ""};

Status need_args(const std::string& op, const std::vector<std::string>& args, size_t n, const char* usage) {
    if (args.size() < n) return usage_error(op + ": usage: " + op + " " + usage);
    return {};
}

std::string bool_line(bool b) { return b ? "true\n" : "false\n"; }

Json status_json(const SessionDir& dir) {
    std::optional<State> s;
    std::string state = dir.status(&s);
    Json j = {{"name", dir.name()}, {"state", state}};
    if (s) {
        if (s->exit_code && state == "exited") j["exit_code"] = *s->exit_code;
        if (!s->started_at.empty()) j["started_at"] = s->started_at;
        if (!s->ended_at.empty()) j["ended_at"] = s->ended_at;
        if (s->pgid) j["ref"] = std::to_string(s->pgid);
        j["mode"] = s->mode;
        j["work_dir"] = s->work_dir;
    }
    std::string activity = dir.last_activity();
    if (!activity.empty() && state != "absent") j["last_activity"] = activity;
    return j;
}

bool alive(const SessionDir& dir) { return dir.liveness() == session::Liveness::Alive; }

// Stop: ask the supervisor (it TERMs the group, then KILLs), wait for it to
// go; a supervisor that is already gone leaves its group to us.
Status stop(const SessionDir& dir) {
    std::optional<State> s;
    std::string st = dir.status(&s);
    if (st == "running" || st == "starting") {
        if (s && s->supervisor_pid > 0) ::kill(s->supervisor_pid, SIGTERM);
        FRACTA_TRY_ASSIGN(gone, session::wait_unlocked(dir.file("lock"), std::chrono::seconds(10)));
        if (gone) return {};
        if (s && s->supervisor_pid > 0) ::kill(s->supervisor_pid, SIGKILL);
        if (s && s->pgid > 0) ::kill(-s->pgid, SIGKILL);
        FRACTA_TRY_ASSIGN(dead, session::wait_unlocked(dir.file("lock"), std::chrono::seconds(5)));
        if (!dead) return temporary_error("session \"" + dir.name() + "\" did not stop");
        return {};
    }
    if (st == "lost" && s && s->pgid > 0) {
        for (const auto& p : session::processes_in_session(s->pgid)) ::kill(p.pid, SIGKILL);
        State ended = *s;
        ended.phase = "exited";
        ended.stopped = true;
        ended.exit_code = 128 + SIGKILL;
        (void)dir.write_state(ended);
    }
    return {};
}

Result<Json> wait_for(const SessionDir& dir, std::chrono::milliseconds timeout) {
    if (dir.status() == "absent") return failure("no session \"" + dir.name() + "\"");
    FRACTA_TRY_ASSIGN(ended, session::wait_unlocked(dir.file("lock"), timeout));
    if (!ended) return temporary_error("session \"" + dir.name() + "\" is still running");
    std::optional<State> s;
    std::string st = dir.status(&s);
    Json j = {{"name", dir.name()}};
    if (st == "exited" && s) {
        j["state"] = s->stopped || s->signal ? "killed" : "exited";
        j["exit_code"] = s->exit_code.value_or(-1);
    } else {
        j["state"] = "lost";
        j["exit_code"] = nullptr;
    }
    j["started_at"] = s ? s->started_at : "";
    j["ended_at"] = s ? s->ended_at : "";
    auto tail = dir.tail(0);
    std::string out = tail.ok() ? *tail : "";
    if (out.size() > kOutputTail) out = out.substr(out.size() - kOutputTail);
    j["output_tail"] = out;
    return j;
}

// logs --follow: print what is appended to the log until the session ends.
// Woken by inotify on the state directory (output written, log rotated,
// state written, lock released); the timeout is only a safety net.
Status follow_log(const SessionDir& dir, size_t printed, LocalIo& io) {
    int in = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (in >= 0) ::inotify_add_watch(in, dir.path().c_str(), IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
    struct Closer {
        int fd;
        ~Closer() {
            if (fd >= 0) ::close(fd);
        }
    } closer{in};
    for (;;) {
        bool ended = !alive(dir);
        FRACTA_TRY_ASSIGN(text, dir.tail(0));
        if (text.size() < printed) printed = 0;  // cleared or rotated: start over
        if (text.size() > printed) {
            FRACTA_TRY(io.write(std::string_view(text).substr(printed)));
            printed = text.size();
        }
        if (ended) return {};
        struct pollfd p = {in, POLLIN, 0};
        ::poll(&p, in >= 0 ? 1 : 0, 2000);
        char buf[4096];
        while (in >= 0 && ::read(in, buf, sizeof buf) > 0) {
        }
    }
}

// Workspace files shipped in a ConfigMap, one key per file (names encoded by
// k8s::encode_file_key), written into the workdir before the command starts.
// The kubelet's own entries (`..data`, `..2026_…`) start with a dot.
Status restore_files(const std::string& from, const std::string& work_dir) {
    std::map<std::string, std::string> entries;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(from, ec)) {
        const std::string key = e.path().filename().string();
        if (key.empty() || key[0] == '.' || !e.is_regular_file()) continue;  // follows the ConfigMap's symlinks
        std::ifstream in(e.path(), std::ios::binary);
        std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) return usage_error("--files-from: cannot read " + e.path().string());
        entries[key] = std::move(content);
    }
    if (ec) return usage_error("--files-from " + from + ": " + ec.message());
    FRACTA_TRY_ASSIGN(files, k8s::decode_file_keys(entries));
    const std::string root = work_dir.empty() ? std::filesystem::current_path().string() : work_dir;
    return session::write_files(root, files);
}

std::vector<std::string> split_keys(const std::string& list) {
    std::vector<std::string> keys;
    size_t start = 0;
    while (start <= list.size()) {
        size_t comma = list.find(',', start);
        std::string key = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!key.empty()) keys.push_back(key);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return keys;
}

Result<int> attach_op(const SessionDir& dir, const std::vector<std::string>& args) {
    static const cli::Command kAttach = {
        "attach", "NAME [--detach-key KEY]", "connect this terminal to the session's terminal",
        {{"detach-key", 0, "KEY", "the key that detaches: C-<letter> or one of C-\\ C-] C-^ C-_ (default C-\\)"}},
        {}, ""};
    std::vector<std::string> words = {"attach"};
    words.insert(words.end(), args.begin() + 1, args.end());
    FRACTA_TRY_ASSIGN(a, cli::parse(kAttach, words));
    session::AttachOptions o;
    if (a.has("detach-key")) {
        const std::string key = session::key_bytes(a.get("detach-key"));
        if (key.size() != 1 || static_cast<unsigned char>(key[0]) >= 0x20)
            return usage_error("--detach-key: use a control key such as C-\\, C-] or C-q");
        o.detach_key = key[0];
    }
    return session::attach_terminal(dir, o);
}

Result<int> supervise(const std::vector<std::string>& args, const LocalContext& ctx) {
    // NAME comes first, then options, then "--" and the command.
    if (args.empty() || args[0].rfind("-", 0) == 0)
        return usage_error("supervise: usage: supervise NAME [OPTIONS] -- COMMAND [ARG…]");
    std::vector<std::string> words = {"supervise"};
    words.insert(words.end(), args.begin() + 1, args.end());
    FRACTA_TRY_ASSIGN(a, cli::parse(kSupervise, words));
    if (a.positional().empty()) return usage_error("supervise: no command (put it after --)");
    session::SuperviseOptions o;
    o.name = args[0];
    o.argv = a.positional();
    o.root = a.get("state-dir", ctx.root);
    o.mode = a.get("mode", "batch");
    if (o.mode != "batch" && o.mode != "stream") return usage_error("--mode: use batch or stream");
    o.work_dir = a.get("workdir");
    o.control = a.get("control");
    // The token guards the TCP control API only (a Unix socket is guarded by
    // its file mode), and the session's own command never sees it.
    if (const char* token = std::getenv("FRACTA_SUPERVISOR_TOKEN"); token && *token && !o.control.empty())
        o.control_token = token;
    ::unsetenv("FRACTA_SUPERVISOR_TOKEN");
    if (!o.control.empty() && o.control_token.empty())
        return usage_error("--control needs FRACTA_SUPERVISOR_TOKEN: a TCP control API is never open");
    if (a.has("lock-fd")) {
        FRACTA_TRY_ASSIGN(fd, cli::parse_int("--lock-fd", a.get("lock-fd")));
        o.lock_fd = static_cast<int>(fd);
    }
    if (a.has("ready-fd")) {
        FRACTA_TRY_ASSIGN(fd, cli::parse_int("--ready-fd", a.get("ready-fd")));
        o.ready_fd = static_cast<int>(fd);
    }
    if (a.has("files-from")) FRACTA_TRY(restore_files(a.get("files-from"), o.work_dir));
    if (a.has("clear-keys")) o.nudge_keys.clear = split_keys(a.get("clear-keys"));
    if (a.has("submit-keys")) o.nudge_keys.submit = split_keys(a.get("submit-keys"));
    return session::supervise(o);
}

}  // namespace

const cli::Command& local_command() {
    static const cli::Command c = {
        "fracta-spawn-local",
        "OP NAME [ARGS]",
        "Run sessions as supervised local processes (a Gas City session provider: "
        "GC_SESSION=exec:fracta-spawn-local).",
        {},
        {{"start NAME", "start a session from the start JSON on stdin; returns once it is up"},
         {"stop NAME", "terminate the session's process group (TERM, grace, KILL)"},
         {"interrupt NAME", "Ctrl-C (SIGINT) to the session"},
         {"is-running NAME", "true or false"},
         {"process-alive NAME", "true if a process named on stdin (one per line) runs in the session"},
         {"nudge NAME [--no-wait] [--timeout S]",
          "clear the input line, type the text on stdin, submit; wait until the program reacted"},
         {"send-keys NAME KEY…", "send tmux-style keys (Enter, Up, Down, Escape, C-c) or text"},
         {"peek NAME LINES", "the last LINES lines of output (<= 0: all)"},
         {"list-running PREFIX", "names of running sessions starting with PREFIX"},
         {"get-last-activity NAME", "RFC 3339 time of the last output or input"},
         {"set-meta NAME KEY", "store the value on stdin"},
         {"get-meta NAME KEY", "print the value (empty when unset)"},
         {"remove-meta NAME KEY", "forget a value"},
         {"clear-scrollback NAME", "clear the session's output log"},
         {"copy-to NAME SRC REL_DST", "copy a file or directory into the session's workdir"},
         {"attach NAME [--detach-key KEY]",
          "connect this terminal to the session's (C-\\ detaches); exits with the session's status"},
         {"check-image IMAGE", "not applicable (exit 2)"},
         {"wait NAME [TIMEOUT_S]", "block until the session ends; print its result as JSON"},
         {"status NAME", "the session's state as JSON"},
         {"list PREFIX", "JSON array of the status of every session starting with PREFIX"},
         {"logs NAME [--follow]", "the session's whole output"},
         {"forget NAME", "remove an ended session's state and log (exit 1 while it runs)"},
         {"supervise NAME -- CMD…", "run CMD under the supervisor in the foreground"}},
        "state: $FRACTA_STATE_DIR, else .fracta/sessions in the nearest project, else\n"
        "$XDG_RUNTIME_DIR/fracta/sessions.\n"
        "exit status: 0 done, 1 failed (\"already exists\" for a duplicate start), 2 not supported,\n"
        "100 bad usage or input, 111 temporary failure (retry)."};
    return c;
}

bool is_local_operation(const std::string& op) {
    for (const auto& [usage, help] : local_command().operations)
        if (usage.substr(0, usage.find(' ')) == op) return true;
    return false;
}

Result<int> run_local(const std::string& op, const std::vector<std::string>& args, const LocalContext& ctx,
                      LocalIo& io) {
    if (op == "check-image") return fail(ErrorKind::Unsupported, op + ": not supported");
    if (op == "supervise") return supervise(args, ctx);
    if (op == "list-running" || op == "list") {
        std::string prefix = args.empty() ? "" : args[0];
        std::string out;
        Json all = Json::array();
        for (const std::string& name : session::list_names(ctx.root, prefix)) {
            SessionDir dir(ctx.root, name);
            if (op == "list") all.push_back(status_json(dir));
            else if (std::string st = dir.status(); st == "running" || st == "starting") out += name + "\n";
        }
        FRACTA_TRY(io.write(op == "list" ? to_line(all) + "\n" : out));
        return 0;
    }

    FRACTA_TRY(need_args(op, args, 1, "NAME"));
    const std::string& name = args[0];
    FRACTA_TRY(session::validate_name(name));
    SessionDir dir(ctx.root, name);

    if (op == "attach") return attach_op(dir, args);
    if (op == "start") {
        FRACTA_TRY(start_local(name, ctx, io));
        return 0;
    }
    if (op == "stop") {
        FRACTA_TRY(stop(dir));
        return 0;
    }
    if (op == "forget") {  // an ended session's state and log, for the reaper
        std::string st = dir.status();
        if (st == "running" || st == "starting") return failure("session \"" + name + "\" is running: stop it first");
        std::error_code ec;
        std::filesystem::remove_all(dir.path(), ec);
        if (ec) return failure("forget " + name + ": " + ec.message());
        return 0;
    }
    if (op == "is-running") {
        std::string st = dir.status();
        FRACTA_TRY(io.write(bool_line(st == "running" || st == "starting")));
        return 0;
    }
    if (op == "status") {
        FRACTA_TRY(io.write(to_line(status_json(dir)) + "\n"));
        return 0;
    }
    if (op == "interrupt") {
        std::optional<State> s;
        if (dir.status(&s) == "running" && s && s->pgid > 0) ::kill(-s->pgid, SIGINT);
        return 0;
    }
    if (op == "process-alive") {
        FRACTA_TRY_ASSIGN(input, io.read_input(1 << 20));
        std::optional<State> s;
        bool found = false;
        if (dir.status(&s) == "running" && s) {
            auto procs = session::processes_in_session(s->pgid);
            size_t start = 0;
            while (start <= input.size() && !found) {
                size_t nl = input.find('\n', start);
                std::string line = input.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
                while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
                found = session::process_named(procs, line);
                if (nl == std::string::npos) break;
                start = nl + 1;
            }
        }
        FRACTA_TRY(io.write(bool_line(found)));
        return 0;
    }
    if (op == "nudge") {
        FRACTA_TRY(nudge_op(args, ctx, io));
        return 0;
    }
    if (op == "send-keys") {
        std::string body = to_line(Json{{"keys", std::vector<std::string>(args.begin() + 1, args.end())}});
        if (!alive(dir)) return 0;  // absent: nothing to type into, and not an error
        FRACTA_TRY(session::call_control(dir, "POST", "/v1/keys", body));
        return 0;
    }
    if (op == "peek") {
        long lines = 0;
        if (args.size() > 1) {
            const std::string& n = args[1];
            bool negative = !n.empty() && n[0] == '-';
            FRACTA_TRY_ASSIGN(count, cli::parse_int("peek: lines", negative ? n.substr(1) : n));
            lines = static_cast<long>(negative ? -count : count);
        }
        FRACTA_TRY_ASSIGN(out, dir.tail(lines));
        FRACTA_TRY(io.write(out));
        return 0;
    }
    if (op == "get-last-activity") {
        std::string t = dir.status() == "absent" ? "" : dir.last_activity();
        FRACTA_TRY(io.write(t.empty() ? "" : t + "\n"));
        return 0;
    }
    if (op == "set-meta" || op == "get-meta" || op == "remove-meta") {
        FRACTA_TRY(need_args(op, args, 2, "NAME KEY"));
        const std::string& key = args[1];
        FRACTA_TRY(session::validate_meta_key(key));
        if (op == "get-meta") {
            FRACTA_TRY_ASSIGN(v, dir.get_meta(key));
            FRACTA_TRY(io.write(v));
            return 0;
        }
        if (dir.status() == "absent") {
            if (op == "remove-meta") return 0;
            return failure("no session \"" + name + "\"");
        }
        if (op == "remove-meta") {
            FRACTA_TRY(dir.remove_meta(key));
            return 0;
        }
        FRACTA_TRY_ASSIGN(value, io.read_input(1 << 20));
        FRACTA_TRY(dir.set_meta(key, value));
        return 0;
    }
    if (op == "clear-scrollback") {
        if (alive(dir)) FRACTA_TRY(session::call_control(dir, "POST", "/v1/clear"));
        return 0;
    }
    if (op == "copy-to") {
        FRACTA_TRY(need_args(op, args, 2, "NAME SRC [REL_DST]"));
        std::string src = args[1], rel = args.size() > 2 ? args[2] : "";
        std::error_code ec;
        if (!fs::exists(src, ec)) return 0;
        if (!rel.empty()) FRACTA_TRY(session::validate_relative_path(rel));
        std::optional<State> s;
        if (dir.status(&s) == "absent" || !s) return failure("no session \"" + name + "\"");
        FRACTA_TRY(copy_into(src, s->work_dir, rel));
        return 0;
    }
    if (op == "wait") {
        long long timeout_s = 24 * 3600;
        if (args.size() > 1) {
            FRACTA_TRY_ASSIGN(t, cli::parse_int("timeout", args[1]));
            timeout_s = t;
        }
        FRACTA_TRY_ASSIGN(result, wait_for(dir, std::chrono::seconds(timeout_s)));
        FRACTA_TRY(io.write(to_line(result) + "\n"));
        return 0;
    }
    if (op == "logs") {
        if (dir.status() == "absent") return failure("no session \"" + name + "\"");
        FRACTA_TRY_ASSIGN(out, dir.tail(0));
        FRACTA_TRY(io.write(out));
        bool follow = args.size() > 1 && (args[1] == "--follow" || args[1] == "-f");
        if (!follow) return 0;
        FRACTA_TRY(follow_log(dir, out.size(), io));
        return 0;
    }
    return fail(ErrorKind::Unsupported, "unknown operation \"" + op + "\"");
}

}  // namespace fracta::provider
