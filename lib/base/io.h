// io.h — whole-stream reads with a size cap, and stdout writes that notice a
// reader who went away (EPIPE), so streams stop quietly instead of dying on
// SIGPIPE or spinning.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace fracta::io {

// Read `fd` to EOF. More than `max_bytes` is a usage error ("input too large").
Result<std::string> read_all(int fd, size_t max_bytes);

// A whole file, at most `max_bytes`: "missing: PATH" when it does not exist.
Result<std::string> read_file(const std::string& path, size_t max_bytes);

// Write everything to stdout (retrying short writes and EINTR). Callers that
// stream should ignore SIGPIPE; an EPIPE is then reported as an error and
// remembered, so main can exit quietly (see stdout_closed()).
Status write_stdout(std::string_view data);
bool stdout_closed();

// Write to a file atomically: a temp file in the same directory, fsync,
// rename. Readers see the old or the new contents, never half. Without
// `durable` the fsync is skipped: still atomic if the process dies, but a
// power loss may bring back the previous version.
Status write_file_atomic(const std::string& path, std::string_view data, int mode = 0644, bool durable = true);

// mkdir -p with the given mode for created directories.
Status make_dirs(const std::string& path, int mode = 0755);

std::string errno_text(int err);

}  // namespace fracta::io
