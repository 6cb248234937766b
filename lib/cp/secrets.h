// secrets.h — the session's secret variables (API keys) read from where
// fracta.yaml says they live: the file itself (`${VAR}`, expanded at load),
// fracta-cp's environment, a file, or a command's output (a key helper).
//
// Read at every start, so a rotated key reaches the next session without a
// reload. The values go into the start JSON's `secret_env` and nowhere else
// (a Kubernetes Secret's key goes as a reference, `secret_refs`, unread):
// errors name the variable and where it was to come from, never a value.
#pragma once

#include <map>
#include <string>

#include "base/result.h"
#include "config/config.h"

namespace fracta::cp {

// A variable the pod reads from a Kubernetes Secret itself.
struct SecretRef {
    std::string secret, key;
};

struct SessionSecrets {
    std::map<std::string, std::string> values;  // read here: the start JSON's secret_env
    std::map<std::string, SecretRef> refs;      // read by the pod: its secret_refs
};

// `root` is the project root: relative files and commands start there.
// `pod_reads_secrets` (the kubernetes backend): a source naming a Secret
// becomes a reference; elsewhere its env, file or command is read, and
// without one the start fails naming the variable.
Result<SessionSecrets> read_secrets(const config::SecretEnv& secrets, const std::string& root,
                                    bool pod_reads_secrets = false);

}  // namespace fracta::cp
