// control.h — the session supervisor's control API (session/control_api.cc
// serves it), typed, for both ways to reach it: the session's Unix socket
// (fracta-spawn-local) and the API server's pod proxy (fracta-spawn-k8s).
// The /v1/* paths and the mapping of the supervisor's answers to error
// kinds live here only.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "http/client.h"
#include "session/processes.h"

namespace fracta::provider {

class SupervisorControl {
public:
    // One request to the supervisor: its answer whatever the status.
    using Transport =
        std::function<Result<http::ClientResponse>(const std::string& method, const std::string& path,
                                                   const std::string& body, std::chrono::milliseconds timeout)>;

    // `where` prefixes error messages with what was called ("supervisor of
    // pod P: POST /v1/keys: "); empty: the supervisor's message alone.
    SupervisorControl(Transport transport, std::string where);
    static SupervisorControl unix_socket(const std::string& socket_path);

    // Type `text` and submit it; wait > 0: until the program reacted. The
    // supervisor serializes nudges, so the call may wait for those ahead. Its
    // answer: {delivered, confirmed, ordinal} (session/control_api.h); for a
    // session whose command has ended, {delivered: false, ended: true}.
    Result<Json> nudge(const std::string& text, std::chrono::milliseconds wait = std::chrono::milliseconds(0));
    Status keys(const std::vector<std::string>& keys);
    Status interrupt();
    Status clear();
    // Whether an error of the calls below says the session's command has
    // ended (the supervisor is ending, or its pod has): not running.
    static bool ended(const Error& e);

    Result<Json> status();  // {state, last_activity, …}
    Result<std::vector<session::ProcessInfo>> processes();  // what runs in the session
    Result<std::string> get_meta(const std::string& key);
    Status set_meta(const std::string& key, const std::string& value);
    Status remove_meta(const std::string& key);
    Status put_file(const std::string& rel_path, const std::string& content);

private:
    Result<std::string> call(const std::string& method, const std::string& path, const std::string& body = "",
                             std::chrono::milliseconds timeout = std::chrono::seconds(20));
    // A 2xx answer's body, else the supervisor's error as an Error.
    Result<std::string> answer(const std::string& method, const std::string& path, http::ClientResponse& r) const;

    Transport transport_;
    std::string where_;
};

// How long `nudge NAME [--no-wait] [--timeout SECONDS]` waits for the
// program's reaction: 0 with --no-wait, else the timeout (default 10 s).
Result<std::chrono::milliseconds> nudge_wait(const std::vector<std::string>& options);

}  // namespace fracta::provider
