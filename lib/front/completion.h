// completion.h — `fracta completion bash`: a bash completion script made from
// the front door's own verb table, so it can never drift from the binary.
// Verbs and their options complete from the table; task names from the
// control plane (`fracta list`, never auto-starting a daemon to do it).
#pragma once
#include <string>
#include <vector>

namespace fracta::front {

struct VerbShape {
    std::string name;
    std::vector<std::string> options;  // long names, without the dashes
    bool takes_task = false;
};

// `dispatch` are the verbs handed to sibling binaries (init, serve, …).
std::string bash_completion(const std::vector<VerbShape>& verbs, const std::vector<std::string>& dispatch);

}  // namespace fracta::front
