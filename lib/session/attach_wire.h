// attach_wire.h — the frames of attach.h's socket protocol, and a blocking
// write that both ends use.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"

namespace fracta::session {

std::string attach_frame(char type, std::string_view payload);

// Take the first whole frame off `buffer`: nullopt while it is incomplete;
// an error for a frame over 1 MiB (a broken peer).
Result<std::optional<std::pair<char, std::string>>> take_attach_frame(std::string& buffer);

// Write everything (EINTR and short writes handled); false on any error.
bool write_fully(int fd, std::string_view data);

}  // namespace fracta::session
