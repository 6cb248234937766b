// git_internal.h — the one way lib/git runs git (git.cc), shared by its
// files: `git -C <repo> [-c k=v…] <args…>` with the environment git.h
// describes, plus `env` (for credentials, which never go on a command line).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "proc/run.h"

namespace fracta::git::detail {

// repo empty: no -C, run from /.
Result<proc::Outcome> git(const std::string& repo, const std::vector<std::string>& args,
                          const std::vector<std::string>& config = {},
                          const std::map<std::string, std::string>& env = {});

// A failed run as an error: "git <cmd>: <git's first error line>".
Error git_error(const std::string& repo, const std::vector<std::string>& args, const proc::Outcome& o);

// Run git and insist on success; its stdout.
Result<std::string> git_ok(const std::string& repo, const std::vector<std::string>& args,
                           const std::vector<std::string>& config = {},
                           const std::map<std::string, std::string>& env = {});

std::string chomp(std::string s);

}  // namespace fracta::git::detail
