// local.cc — see local.h: the reads, stop, wait and the ops that go to the
// supervisor; start is in local_start.cc, nudge in local_nudge.cc, the
// supervisor's own entry in local_supervise.cc.
#include "provider/local.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "provider/control.h"
#include "session/attach.h"
#include "session/keys.h"
#include "session/processes.h"
#include "session/session_dir.h"
#include "session/workspace.h"

namespace fracta::provider {
namespace {

namespace fs = std::filesystem;
using session::SessionDir;
using session::State;

constexpr size_t kOutputTail = 64 * 1024;

}  // namespace

Json session_status(const SessionDir& dir) {
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

Json end_answer(const SessionDir& dir) {
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

namespace {

bool alive(const SessionDir& dir) {
    return dir.liveness() == session::Liveness::Alive;
}

// Stop: ask the supervisor (it TERMs the group, then KILLs), wait for it to
// go; a supervisor that is already gone leaves its group to us.
Status stop_session(const SessionDir& dir) {
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
    return end_answer(dir);
}

// logs --follow: print what is appended to the log until the session ends.
// Woken by inotify on the state directory (output written, log rotated,
// state written, lock released); the timeout is only a safety net.
Status follow_log(const SessionDir& dir, size_t printed, Io& io) {
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

Result<int> attach_op(const SessionDir& dir, const std::vector<std::string>& options) {
    FRACTA_TRY_ASSIGN(o, session::attach_options(options));
    return session::attach_terminal(dir, o);
}

SupervisorControl control(const SessionDir& dir) {
    return SupervisorControl::unix_socket(dir.file("control.sock"));
}

Error no_session(const std::string& name) {
    return failure("no session \"" + name + "\"");
}

// The sessions under one state root.
class LocalBackend final : public SessionBackend {
public:
    explicit LocalBackend(LocalContext ctx) : ctx_(std::move(ctx)) {}

    // Without "mode" (every Gas City start) a session is a terminal: input
    // typed into it (nudges, keys, attach) must reach it.
    std::string default_mode() const override { return "stream"; }

    const std::vector<Op>& ops() const override {
        static const std::vector<Op> table =
            ops_table({}, {},
                      {{"forget", "NAME", 1, true, Input::None, Output::None,
                        "remove an ended session's state and log (exit 1 while it runs)", run_extra},
                       {"supervise", "NAME -- CMD…", 0, false, Input::None, Output::None,
                        "run CMD under the supervisor in the foreground", run_extra}});
        return table;
    }

    Status check_name(const std::string& name) const override { return session::validate_name(name); }

    Status start(const std::string& name, const StartRequest& request, Io& io) override {
        return start_local(name, request, ctx_, io);
    }

    Status stop(const std::string& name) override { return stop_session(dir(name)); }

    Status interrupt(const std::string& name) override {
        std::optional<State> s;
        if (dir(name).status(&s) == "running" && s && s->pgid > 0) ::kill(-s->pgid, SIGINT);
        return {};
    }

    Result<Json> status(const std::string& name) override { return session_status(dir(name)); }

    Result<std::string> state(const std::string& name) override { return dir(name).status(); }

    Result<std::vector<Json>> list(const std::string& prefix) override {
        std::vector<Json> all;
        for (const std::string& name : session::list_names(ctx_.root, prefix)) all.push_back(session_status(dir(name)));
        return all;
    }

    Result<Json> wait(const std::string& name, std::chrono::seconds timeout) override {
        return wait_for(dir(name), timeout);
    }

    Status watch(const std::string& prefix, Io& io) override { return watch_sessions(ctx_.root, prefix, io); }

    Result<bool> process_alive(const std::string& name, const std::vector<std::string>& processes) override {
        std::optional<State> s;
        if (dir(name).status(&s) != "running" || !s) return false;
        auto procs = session::processes_in_session(s->pgid);
        for (const std::string& p : processes)
            if (session::process_named(procs, p)) return true;
        return false;
    }

    Status nudge(const std::string& name, const std::string& text, const std::vector<std::string>& options,
                 Io& io) override {
        return nudge_op(name, text, options, ctx_, io);
    }

    Status send_keys(const std::string& name, const std::vector<std::string>& keys) override {
        SessionDir d = dir(name);
        if (!alive(d)) return {};  // absent: nothing to type into, and not an error
        return control(d).keys(keys);
    }

    Result<std::string> peek(const std::string& name, long lines) override { return dir(name).tail(lines); }

    Status logs(const std::string& name, bool follow, Io& io) override {
        SessionDir d = dir(name);
        if (d.status() == "absent") return no_session(name);
        FRACTA_TRY_ASSIGN(out, d.tail(0));
        FRACTA_TRY(io.write(out));
        if (!follow) return {};
        return follow_log(d, out.size(), io);
    }

    Result<std::string> last_activity(const std::string& name) override {
        SessionDir d = dir(name);
        return d.status() == "absent" ? std::string() : d.last_activity();
    }

    Result<std::string> get_meta(const std::string& name, const std::string& key) override {
        return dir(name).get_meta(key);
    }

    Status set_meta(const std::string& name, const std::string& key, const std::string& value) override {
        SessionDir d = dir(name);
        if (d.status() == "absent") return no_session(name);
        return d.set_meta(key, value);
    }

    Status remove_meta(const std::string& name, const std::string& key) override {
        SessionDir d = dir(name);
        if (d.status() == "absent") return {};
        return d.remove_meta(key);
    }

    Status clear_scrollback(const std::string& name) override {
        SessionDir d = dir(name);
        if (!alive(d)) return {};
        return control(d).clear();
    }

    Status copy_to(const std::string& name, const std::string& src, const std::string& rel_dst) override {
        std::optional<State> s;
        if (dir(name).status(&s) == "absent" || !s) return no_session(name);
        return copy_into(src, s->work_dir, rel_dst);
    }

    Result<int> attach(const std::string& name, const std::vector<std::string>& options) override {
        return attach_op(dir(name), options);
    }

    Result<Answer> extra(const OpCall& call, Io&) override {
        Answer a;
        if (call.op == "supervise") {
            FRACTA_TRY_ASSIGN(exit, supervise(call.args, ctx_));
            a.exit = exit;
            return a;
        }
        // forget: an ended session's state and log, for the reaper
        const std::string& name = call.args[0];
        SessionDir d = dir(name);
        std::string st = d.status();
        if (st == "running" || st == "starting") return failure("session \"" + name + "\" is running: stop it first");
        std::error_code ec;
        fs::remove_all(d.path(), ec);
        if (ec) return failure("forget " + name + ": " + ec.message());
        return a;
    }

private:
    SessionDir dir(const std::string& name) const { return SessionDir(ctx_.root, name); }
    LocalContext ctx_;
};

}  // namespace

LocalContext local_context() {
    std::error_code ec;
    LocalContext ctx;
    ctx.cwd = fs::current_path(ec).string();
    ctx.root = session::state_root(ctx.cwd);
    ctx.self_exe = fs::read_symlink("/proc/self/exe", ec).string();
    return ctx;
}

std::unique_ptr<SessionBackend> local_backend(LocalContext ctx) {
    return std::make_unique<LocalBackend>(std::move(ctx));
}

const Tool& local_tool() {
    static const Tool t = provider_tool(
        {.name = "fracta-spawn-local",
         .synopsis = "OP NAME [ARGS]",
         .footer = "state: $FRACTA_STATE_DIR, else .fracta/sessions in the nearest project, else\n"
                   "$XDG_RUNTIME_DIR/fracta/sessions."},
        "supervised local processes", OpStyle::Provider, local_backend({})->ops(),
        "failed (\"already exists\" for a duplicate start)",
        [](const cli::Args&) -> Result<std::unique_ptr<SessionBackend>> { return local_backend(local_context()); });
    return t;
}

}  // namespace fracta::provider
