// keys.h — tmux-style key names (what Gas City sends to send-keys) as the
// bytes a terminal would produce.
#pragma once

#include <string>
#include <vector>

namespace fracta::session {

// "Enter" → "\r", "Up" → ESC [ A, "C-c" → 0x03, "Escape", "Tab", "BSpace",
// "Space", "Home", "End", "PageUp"/"PPage", "PageDown"/"NPage", "Left",
// "Right", "Down", "F1".."F12" …; anything else is literal text.
std::string key_bytes(const std::string& key);
std::string keys_bytes(const std::vector<std::string>& keys);

}  // namespace fracta::session
