// tool.h — the skeleton every fracta binary runs, so that a main is one line
// naming its module's tool():
//
//   int main(int argc, char** argv) { return tool_main(cp::tool(), argc, argv); }
//
// tool_main does, once for all: the program name of diagnostics, SIGPIPE
// ignored (a closed stdout is an EPIPE we handle), the option table, --help
// (whose exit-status lines are generated from ErrorKind), --version,
// --format, finding the operation, the Result → exit status map, and the
// reader-left rule: a failure after the reader of stdout went away exits 0.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/cli.h"
#include "base/result.h"

namespace fracta {

// Where the operation stands on the command line.
enum class OpStyle {
    None,      // options only (fracta-init, fracta-reap)
    First,     // options, then OP and its words (fracta, fracta-events)
    Anywhere,  // OP among the options (fracta-cp run --listen :0)
    Provider,  // OP first, everything after it the op's; options only alone
               // (--help, --version): an exec provider (fracta-spawn-*)
};

// The world as an operation sees it: stdin, stdout, stderr.
struct Io {
    std::function<Result<std::string>(size_t max_bytes)> read_input;
    std::function<Status(std::string_view)> write;
    std::function<void(std::string_view)> warn;   // one warning line
    std::function<void(std::string_view)> error;  // one error line, when the run goes on
    int hangup_fd = -1;                           // stdout: polled for the reader going away
};

// One invocation, parsed.
struct Call {
    const cli::Args& args;
    std::string op;                  // "" for OpStyle::None
    std::vector<std::string> words;  // after the op (OpStyle::First, Provider)
    bool text = false;               // --format text
    Io& io;
};

struct Tool {
    cli::Command command;  // its footer: notes; the exit statuses are added after them
    OpStyle style = OpStyle::First;
    std::string op_noun = "operation";  // "verb" for fracta
    std::string format = "";            // --format's default, json or text; "": no --format here
    // An unknown operation exits 2, Gas City's "not supported" (success,
    // empty); otherwise it is a usage error.
    bool unknown_op_unsupported = false;
    // What each exit status means for this tool, for --help: 0's meaning,
    // then the ErrorKinds it exits with.
    std::string done = "done";
    std::map<ErrorKind, std::string> exits;
    // The operation; its value is the exit status (0, or a "no").
    std::function<Result<int>(const Call&)> run;
};

// --config FILE, for the tools that read fracta.yaml.
cli::Option config_option();

// --ready-fd N, for the daemons a caller waits on: `op` is the one that
// serves. ready_fd() is its value (-1 without it); announce_ready() writes
// "ready URL\n" to it once serving, then closes it.
cli::Option ready_fd_option(const std::string& op);
Result<int> ready_fd(const cli::Args& args);
void announce_ready(int fd, const std::string& url);

// The --help lines "exit status: 0 done; 1 …; 100 …" of a tool.
std::string exit_status_text(const Tool& tool);

int tool_main(const Tool& tool, int argc, char** argv);

}  // namespace fracta
