// workspace.h — writing files into a session's working directory without
// ever leaving it: no absolute paths, no "..", and no writing through a
// symlink (inside the tree or out of it). All paths are checked before the
// first byte is written, so a bad set writes nothing.
#pragma once

#include <map>
#include <string>

#include "base/result.h"

namespace fracta::session {

// A relative path that stays below its root: usage error otherwise.
Status validate_relative_path(const std::string& path);

// Every check write_files makes, without writing: for callers that must
// refuse before they do anything else.
Status check_files(const std::string& root, const std::map<std::string, std::string>& files);

// Write every file (relative path → contents), creating directories (0755).
Status write_files(const std::string& root, const std::map<std::string, std::string>& files);

}  // namespace fracta::session
