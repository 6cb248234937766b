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
    // answer: {delivered, confirmed, ordinal} (session/control_api.h).
    Result<Json> nudge(const std::string& text, std::chrono::milliseconds wait = std::chrono::milliseconds(0));
    Status keys(const std::vector<std::string>& keys);
    Status interrupt();
    Status clear();
    Result<Json> status();  // {state, last_activity, …}
    Result<std::string> get_meta(const std::string& key);
    Status set_meta(const std::string& key, const std::string& value);
    Status remove_meta(const std::string& key);
    Status put_file(const std::string& rel_path, const std::string& content);

private:
    Result<std::string> call(const std::string& method, const std::string& path, const std::string& body = "",
                             std::chrono::milliseconds timeout = std::chrono::seconds(20));

    Transport transport_;
    std::string where_;
};

}  // namespace fracta::provider
