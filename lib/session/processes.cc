#include "session/processes.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

namespace fracta::session {
namespace {

std::string slurp(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
}

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::vector<ProcessInfo> processes_in_session(int sid) {
    std::vector<ProcessInfo> out;
    if (sid <= 0) return out;
    DIR* proc = ::opendir("/proc");
    if (!proc) return out;
    while (struct dirent* e = ::readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end) continue;
        std::string dir = std::string("/proc/") + e->d_name;
        // stat: "pid (comm) state ppid pgrp session …"; comm may hold spaces.
        std::string stat = slurp(dir + "/stat");
        auto close_paren = stat.rfind(')');
        if (close_paren == std::string::npos) continue;
        int ppid = 0, pgrp = 0, session = 0;
        char state = 0;
        if (std::sscanf(stat.c_str() + close_paren + 1, " %c %d %d %d", &state, &ppid, &pgrp, &session) != 4) continue;
        if (session != sid || state == 'Z') continue;
        ProcessInfo p;
        p.pid = static_cast<int>(pid);
        p.comm = slurp(dir + "/comm");
        if (!p.comm.empty() && p.comm.back() == '\n') p.comm.pop_back();
        std::string cmdline = slurp(dir + "/cmdline");
        for (size_t start = 0; start < cmdline.size();) {
            size_t nul = cmdline.find('\0', start);
            if (nul == std::string::npos) nul = cmdline.size();
            p.argv.push_back(cmdline.substr(start, nul - start));
            start = nul + 1;
        }
        out.push_back(std::move(p));
    }
    ::closedir(proc);
    return out;
}

bool process_named(const std::vector<ProcessInfo>& processes, const std::string& name) {
    if (name.empty()) return false;
    for (const ProcessInfo& p : processes) {
        if (p.comm == name || p.comm == name.substr(0, 15)) return true;
        for (const std::string& a : p.argv)
            if (base_name(a) == name) return true;
    }
    return false;
}

}  // namespace fracta::session
