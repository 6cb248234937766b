// control_client.h — talking to a local supervisor's control API over its
// Unix socket (only for what needs the supervisor: typing into the session).
#pragma once

#include <chrono>
#include <string>

#include "base/json.h"
#include "session/session_dir.h"

namespace fracta::session {

// One request; a non-2xx answer is an error carrying the API's message.
Result<Json> call_control(const SessionDir& dir, const std::string& method, const std::string& path,
                          const std::string& body = "",
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace fracta::session
