// client.h — the caller's side of the session contract (spec:
// exec-provider.md): drive any session provider — fracta-spawn-local,
// fracta-spawn-k8s or a third-party `exec:/path` script — the way Gas City's
// exec adapter does, plus fracta's extra ops (wait, status, list, logs) with
// a fallback for providers that lack them. What fracta-cp's workers and
// fracta-reap use.
//
// Every op is one run of `<argv_prefix…> <op> <args…>` (no shell; the
// caller's working directory and environment plus `env`), its payload on
// stdin without a trailing newline, trailing newlines stripped from stdout.
// The provider's exit status maps onto the library's error kinds:
//   0         ok
//   2         "not supported": success with empty output (false, "", no
//             names, a no-op) — or std::nullopt from the extra ops, so the
//             caller can fall back; `start` answering 2 is a Failed error
//   100       Usage (permanent), 111 Temporary (retry),
//   126, 127  CannotExec / NotFound (a program the provider ran is missing)
//   other     Failed (1, anything else, death by a signal)
// The error text is the provider's stderr: its first line holding ": error:"
// (fracta's diagnostics), else its first non-blank line, else "<op>: exit N".
// A provider that outlives its time gets proc::run's treatment (TERM to its
// process group, KILL 2 s later; providers that start sessions put them in
// groups of their own) and the op is Temporary "<op> timed out after N s". A
// provider that cannot be run at all is proc::run's error (NotFound 127,
// CannotExec 126, …).
//
// Time limits: options.op_timeout (30 s) per op; `start` its own budget
// (60 s); `wait` its timeout plus op_timeout.
//
// A ProviderClient holds only what it was built with: every method is const
// and safe to call from many threads at once.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "proc/process.h"

namespace fracta::provider {

// The answer to `status`, one element of `list`.
struct SessionStatus {
    std::string name;
    std::string state;  // starting|running|exited|lost|absent; anything else the provider says: unknown
    std::optional<int> exit_code;
    std::string started_at, ended_at, last_activity;  // RFC 3339, or empty
    std::string ref;                                  // pid or pod name (a number is given as text)
};

// How a session ended: the answer to `wait`, and what ended() returns.
struct WaitResult {
    std::string name;
    // exited | killed | lost — from the provider (`wait`), or "exited" when
    // ended() asked is-running (then exit_code is unknown).
    std::string state;
    std::optional<int> exit_code;      // none when lost, or unknown
    std::string started_at, ended_at;  // RFC 3339, or empty (always empty when polled)
    std::string output_tail;           // the session's last output, trailing newlines stripped
};

// One line of `watch`: a session's status, or the end of the first listing.
struct WatchLine {
    bool synced = false;  // {"synced":true}: every session there was has been told
    SessionStatus status;
    // An ended session's line may carry `wait`'s answer ("ended"): how it
    // ended, as `wait NAME 0` would say, so the reader need not ask.
    std::optional<WaitResult> ended;
};
Result<WatchLine> decode_watch_line(const std::string& line);

struct ClientOptions {
    // Every op but `start` (its budget) and `wait` (its timeout + this).
    std::chrono::milliseconds op_timeout{std::chrono::seconds(30)};
};

class ProviderClient {
public:
    // argv_prefix: the provider and any leading arguments, e.g.
    // {"/usr/bin/fracta-spawn-local"} or {"/path/script"}; a name without
    // '/' is looked up in PATH. env: added to the inherited environment.
    explicit ProviderClient(std::vector<std::string> argv_prefix, std::map<std::string, std::string> env = {},
                            ClientOptions options = {});

    // --- Gas City's ops ---------------------------------------------------
    struct Started {
        bool adopted = false;  // the provider said "already exists": the session is someone's, now ours
    };
    // The start JSON goes on stdin (compact, one line). A failure whose
    // stderr contains "already exists" (any case) is success, adopted.
    Result<Started> start(const std::string& name, const Json& start_json,
                          std::chrono::milliseconds budget = std::chrono::seconds(60)) const;
    Status stop(const std::string& name) const;       // idempotent on the provider's side
    Status interrupt(const std::string& name) const;  // Ctrl-C
    Status forget(const std::string& name) const;     // an ended session's state (fracta's extra op)
    // stdout "true" → true; "false", empty, or exit 2 → false; anything else
    // is a Failed error (never silently false: followers must not stop early).
    Result<bool> is_running(const std::string& name) const;
    // Type `text` and Enter. Empty text: nothing is run (as Gas City does).
    Status nudge(const std::string& name, const std::string& text) const;
    // The last `lines` lines of output (≤ 0: all); exit 2 → "".
    Result<std::string> peek(const std::string& name, int lines) const;
    // Names of running sessions starting with `prefix` (Gas City passes "");
    // blank lines dropped, and names without the prefix, should the provider
    // not filter. Exit 2 → none.
    Result<std::vector<std::string>> list_running(const std::string& prefix) const;

    // --- fracta's extra ops: exit 2 → std::nullopt (the caller falls back) ---
    // Block up to `timeout` for the session to end. Still running then (the
    // provider exits 111): a Temporary error. No such session: Failed.
    Result<std::optional<WaitResult>> wait(const std::string& name, std::chrono::seconds timeout) const;
    Result<std::optional<SessionStatus>> status(const std::string& name) const;
    Result<std::optional<std::vector<SessionStatus>>> list(const std::string& prefix) const;
    // The session's whole output (as kept by the provider).
    Result<std::optional<std::string>> logs(const std::string& name) const;

    // How the session ended, once it has; std::nullopt while it runs.
    //  - With `wait`: `wait NAME 0` (still running: its Temporary answer;
    //    any Temporary error is "not known to have ended": ask again later).
    //  - Without (exit 2): is-running; once false, state "exited", exit_code
    //    unknown, output_tail from `peek 0` (best effort: a failed peek leaves
    //    it empty), capped to the last 64 KiB like the local provider's.
    // Errors: wait's or is-running's other errors (e.g. wait's "no session":
    // Failed).
    Result<std::optional<WaitResult>> ended(const std::string& name) const;

    // `watch PREFIX`, left running for the caller to read line by line
    // (decode_watch_line): one process tells of every session's changes. A
    // provider without it exits 2 at once (exit_code() then says so).
    Result<std::unique_ptr<proc::Process>> watch(const std::string& prefix) const;

    const std::vector<std::string>& argv_prefix() const { return argv_prefix_; }

private:
    // An op whose answer is its exit status alone.
    Status run_op(const std::string& op, const std::string& name, const std::string& input = "") const;

    std::vector<std::string> argv_prefix_;
    std::map<std::string, std::string> env_;
    ClientOptions options_;
};

}  // namespace fracta::provider
