// front.h — `fracta`, the front door. Its client verbs (spawn, list, get,
// say, peek, logs, kill, merge, watch, wait, status) are thin clients of the
// control plane's HTTP API (spec: control-plane.md); its dispatch verbs
// (init, serve, controlplane, events, reap) hand the rest of the command
// line to a sibling binary, git style. The thin main parses the global
// options and calls exec_sibling() or run().
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/cli.h"
#include "base/tool.h"

namespace fracta::front {

// How the verbs talk to the world is base/tool.h's Io (read_input, write,
// warn).

struct Options {
    std::string cwd;
    std::string config_file;      // --config, made absolute; empty: FRACTA_CONFIG, else the project's
    std::string format = "json";  // json | text
    bool format_given = false;    // --format was on the command line (forwarded to siblings)
};

// The global option table (its --help lists every verb).
const cli::Command& command();

// Options from the parsed global command line: --format checked, --config
// made absolute against `cwd`.
Result<Options> global_options(const cli::Args& args, const std::string& cwd);

bool is_dispatch_verb(const std::string& verb);

// Run a client verb with its own arguments (options after the verb are
// parsed here; --format and --config are accepted there too).
Status run(const std::string& verb, const std::vector<std::string>& args, const Options& options, Io& io);

// Replace this process with the sibling binary of a dispatch verb, given
// `args`. Returns only on failure: NotFound (127) "<verb>: fracta-x is not
// installed", CannotExec (126).
Error exec_sibling(const std::string& verb, const std::vector<std::string>& args, const Options& options);

}  // namespace fracta::front
