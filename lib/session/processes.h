// processes.h — what runs inside a session, read from /proc: every process
// whose session id is the session's (the supervisor makes the command a
// session leader), so grandchildren count and nothing outside does.
#pragma once

#include <string>
#include <vector>

namespace fracta::session {

struct ProcessInfo {
    int pid = 0;
    std::string comm;               // /proc/<pid>/comm
    std::vector<std::string> argv;  // /proc/<pid>/cmdline
};

std::vector<ProcessInfo> processes_in_session(int sid);

// True if a process of the session is called `name`: its comm, or the base
// name of any of its arguments (so `node /usr/bin/claude` counts as claude).
bool process_named(const std::vector<ProcessInfo>& processes, const std::string& name);

}  // namespace fracta::session
