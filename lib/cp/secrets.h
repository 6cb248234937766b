// secrets.h — the session's secret variables (API keys) read from where
// fracta.yaml says they live: the file itself (`${VAR}`, expanded at load),
// fracta-cp's environment, a file, or a command's output (a key helper).
//
// Read at every start, so a rotated key reaches the next session without a
// reload. The values go into the start JSON's `secret_env` and nowhere else:
// errors name the variable and where it was to come from, never a value.
#pragma once

#include <map>
#include <string>

#include "base/result.h"
#include "config/config.h"

namespace fracta::cp {

// `root` is the project root: relative files and commands start there.
Result<std::map<std::string, std::string>> read_secrets(const config::SecretEnv& secrets, const std::string& root);

}  // namespace fracta::cp
