// attach_wire.h — the frames of attach.h's socket protocol, and a blocking
// write that both ends use.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"

namespace fracta::session {

// The protocol GET /v1/attach switches to (control_api.h).
inline constexpr const char* kAttachProtocol = "fracta-attach";

std::string attach_frame(char type, std::string_view payload);

// Take the first whole frame off `buffer`: nullopt while it is incomplete;
// an error for a frame over 1 MiB (a broken peer).
Result<std::optional<std::pair<char, std::string>>> take_attach_frame(std::string& buffer);

// A connection to the session's attach.sock (the supervisor's AttachHub).
Result<int> connect_attach(const std::string& socket_path);

// Moves bytes both ways between an attach client on `client` (which sent
// `early` already) and the hub on `session`, until either side closes;
// closes `session`, not `client`. The control API's GET /v1/attach in a
// pod: the frames stay attach.h's end to end.
void relay_attach(int client, int session, std::string_view early);

// Write everything (EINTR and short writes handled); false on any error.
bool write_fully(int fd, std::string_view data);

}  // namespace fracta::session
