// run.h — run a program to completion and collect what it wrote.
//
// No shell unless asked for (shell()). The child runs in its own process
// group, so a timeout reaches everything it started; its stdin, stdout and
// stderr are pipes serviced together with poll(), so big outputs never
// deadlock. Safe to call from many threads at once: no global state, no
// popen/system, SIGPIPE is contained to the calling thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace fracta::proc {

struct Command {
    // argv[0] is looked up in the child's PATH (after `env`/`unset_env`;
    // /bin:/usr/bin when it has none) unless it contains a '/'.
    std::vector<std::string> argv;
    std::string cwd;                           // empty: inherit
    std::map<std::string, std::string> env;    // added to / overriding the inherited environment
    std::vector<std::string> unset_env;        // removed from it (env still sets a name listed here)
    std::string input;                         // written to stdin, which is then closed ("" → immediate EOF)
    std::chrono::milliseconds timeout{30000};  // then SIGTERM to the process group, 2 s, SIGKILL
    size_t max_output = size_t{4} << 20;       // per stream: the first max_output bytes are kept
};

struct Outcome {
    int exit_code = -1;      // the exit status; 128 + signal when killed by one (as sh reports it)
    int signal = 0;          // the signal that ended the child, or 0
    bool timed_out = false;  // the timeout hit and the process group was killed
    std::string out, err;
    bool truncated = false;  // some output was dropped past max_output
    bool ok() const { return exit_code == 0 && !timed_out; }
};

// Run `c` until the child has exited and its stdout and stderr are closed
// (or the timeout has killed its process group). A non-zero exit is an
// Outcome, not an Error. Errors mean the program could not be started:
//   NotFound (127)   argv[0] not found
//   CannotExec (126) found but not executable (permissions, format)
//   Usage (100)      empty argv, an env name holding '='
//   Failed (1)       cwd cannot be entered, other setup failures
//   Temporary (111)  out of processes or descriptors (fork, pipe)
// Processes the child leaves behind are waited for while they hold its
// stdout or stderr open, up to the timeout (then the group is killed and
// timed_out is set, whatever the child's own status); ones that closed them
// are left alone.
Result<Outcome> run(const Command& c);

// Where `c.argv[0]` would be found, as run() looks it up (the child's PATH,
// its cwd), without starting anything: NotFound or CannotExec as run() says.
Result<std::string> find_program(const Command& c);

// {"/bin/sh", "-c", command_line}.
Command shell(const std::string& command_line);

// One shell command line that runs `argv` exactly: each word single-quoted
// where needed. For contracts that take a command line (the start JSON).
std::string shell_quote(const std::vector<std::string>& argv);

}  // namespace fracta::proc
