#include "session/keys.h"

#include <map>

namespace fracta::session {

std::string key_bytes(const std::string& key) {
    static const std::map<std::string, std::string> named = {
        {"Enter", "\r"},        {"KPEnter", "\r"},      {"Escape", "\x1b"},     {"Tab", "\t"},
        {"BTab", "\x1b[Z"},     {"BSpace", "\x7f"},     {"Space", " "},         {"Up", "\x1b[A"},
        {"Down", "\x1b[B"},     {"Right", "\x1b[C"},    {"Left", "\x1b[D"},     {"Home", "\x1b[H"},
        {"End", "\x1b[F"},      {"PageUp", "\x1b[5~"},  {"PPage", "\x1b[5~"},   {"PageDown", "\x1b[6~"},
        {"NPage", "\x1b[6~"},   {"Insert", "\x1b[2~"},  {"IC", "\x1b[2~"},      {"Delete", "\x1b[3~"},
        {"DC", "\x1b[3~"},      {"F1", "\x1bOP"},       {"F2", "\x1bOQ"},       {"F3", "\x1bOR"},
        {"F4", "\x1bOS"},       {"F5", "\x1b[15~"},     {"F6", "\x1b[17~"},     {"F7", "\x1b[18~"},
        {"F8", "\x1b[19~"},     {"F9", "\x1b[20~"},     {"F10", "\x1b[21~"},    {"F11", "\x1b[23~"},
        {"F12", "\x1b[24~"},
    };
    if (auto it = named.find(key); it != named.end()) return it->second;
    // C-x / ^x: the control character of a letter or one of @[\]^_ ? .
    if (key.size() == 3 && (key.rfind("C-", 0) == 0)) {
        char c = key[2];
        if (c >= 'a' && c <= 'z') return std::string(1, static_cast<char>(c - 'a' + 1));
        if (c >= '@' && c <= '_') return std::string(1, static_cast<char>(c - '@'));
        if (c == '?') return "\x7f";
    }
    if (key.size() == 3 && key.rfind("M-", 0) == 0) return std::string("\x1b") + key[2];
    return key;
}

std::string keys_bytes(const std::vector<std::string>& keys) {
    std::string out;
    for (const auto& k : keys) out += key_bytes(k);
    return out;
}

}  // namespace fracta::session
