// session_dir.h — one session's state directory: the files the supervisor
// keeps and everyone else reads, so that most provider operations need no
// conversation with the supervisor at all.
//
//   <root>/<name>/lock          held (OFD write lock) by the supervisor for its
//                               whole life: held = alive, free = gone
//   <root>/<name>/state.json    pid, pgid, times, exit status (atomic writes)
//   <root>/<name>/output.log    the session's output, size-capped
//   <root>/<name>/input         its mtime is the time of the last input
//   <root>/<name>/meta/<key>    per-session metadata
//   <root>/<name>/control.sock  the supervisor's HTTP control API
//
// A supervisor that died without writing an exit status leaves the lock free
// and state.json saying "running": that session is `lost`, never running.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace fracta::session {

// Raw names: letters, digits, '_' and '-' (Gas City maps '/' and '.' to '--'
// and '__'), at most 200 characters. Anything else is a usage error.
Status validate_name(const std::string& name);

// Where session directories live: $FRACTA_STATE_DIR, else the nearest
// ancestor of `cwd` (itself included) that is a fracta project (holds
// .fracta/: .fracta/sessions) or a Gas City city (holds city.toml:
// .gc/fracta/sessions), else $XDG_RUNTIME_DIR/fracta/sessions, else
// /tmp/fracta-<uid>/sessions.
std::string state_root(const std::string& cwd);

struct State {
    std::string name;
    std::string mode = "batch";   // batch | stream
    std::string phase = "starting";  // starting | running | exited
    int supervisor_pid = 0;
    int pgid = 0;                 // the session's process group (= its leader's pid)
    std::string work_dir;
    std::string control;          // where the control API listens (socket path or HOST:PORT)
    std::string started_at, ended_at;
    std::optional<int> exit_code;
    int signal = 0;               // the signal that ended it, if any
    bool stopped = false;         // ended because someone asked (stop)

    Json to_json() const;
    static Result<State> from_json(const Json& j);
};

enum class Liveness { Absent, Alive, Dead };

class SessionDir {
public:
    SessionDir(std::string root, std::string name);

    const std::string& name() const { return name_; }
    const std::string& path() const { return path_; }
    std::string file(const char* leaf) const { return path_ + "/" + leaf; }

    bool exists() const;
    // Probes the lock without taking it.
    Liveness liveness() const;

    Result<State> read_state() const;
    Status write_state(const State& s) const;

    // "running" | "starting" | "exited" | "lost" | "absent", and the state if any.
    std::string status(std::optional<State>* state_out = nullptr) const;

    // Last N lines of output (N <= 0: all), carriage returns dropped.
    Result<std::string> tail(long lines) const;
    // The later of the last output and the last input, or empty.
    std::string last_activity() const;
    Status touch_input() const;

    Result<std::string> get_meta(const std::string& key) const;  // "" when unset
    Status set_meta(const std::string& key, const std::string& value) const;
    Status remove_meta(const std::string& key) const;

private:
    std::string root_, name_, path_;
};

// Meta keys become file names: letters, digits, '_', '-', '.', not starting with '.'.
Status validate_meta_key(const std::string& key);

// Every session directory under `root` whose name starts with `prefix`, sorted.
std::vector<std::string> list_names(const std::string& root, const std::string& prefix);

// Take the session's lock (OFD write lock) on an open file: the holder owns
// the name. Waits up to `patience` for a prober-free moment.
Result<int> take_lock(const std::string& lock_path, std::chrono::milliseconds patience);
// Block until nobody holds the lock, or the timeout passes (then false).
Result<bool> wait_unlocked(const std::string& lock_path, std::chrono::milliseconds timeout);

}  // namespace fracta::session
