// local_daemon.cc — `fracta-cp start|stop|status`: one control plane per
// local project, found through the pid and URL files under .fracta/.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/io.h"
#include "config/project.h"
#include "cp/daemon.h"
#include "http/client.h"
#include "http/tls.h"

namespace fracta::cp {

using config::DaemonFiles;
using config::daemon_files;
using config::load_for;

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::string read_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// Alive and not a zombie (a daemon that exited but whose parent has not
// reaped it yet is gone for every purpose here).
bool alive(pid_t pid) {
    if (pid <= 0 || ::kill(pid, 0) != 0) return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const size_t paren = line.rfind(')');
    return !(paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z');
}

// The recorded daemon's pid, if that process is alive and is a fracta-cp.
pid_t live_pid(const DaemonFiles& files) {
    const std::string text = read_line(files.pid);
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return 0;
    const pid_t pid = static_cast<pid_t>(std::stol(text));
    if (!alive(pid)) return 0;
    std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
    std::string argv0;
    std::getline(cmdline, argv0, '\0');
    return argv0.find("fracta-cp") != std::string::npos ? pid : 0;
}

Result<std::string> project_root(const std::string& config_file) {
    FRACTA_TRY_ASSIGN(config, load_for(config_file, std::filesystem::current_path().string()));
    return config.root;
}

// The CA bundle at `file` ("" when none is named or it does not read: the
// probe then trusts the system's CAs, and fails on a private one).
std::string ca_pem_of(const std::string& file) {
    if (file.empty()) return "";
    auto pem = http::load_ca_file(file);
    return pem.ok() ? *pem : "";
}

bool answers(const std::string& url, const std::string& path, const std::string& token, const std::string& ca_pem) {
    http::ClientOptions o;
    o.ca_pem = ca_pem;
    o.timeout = milliseconds(2000);
    o.connect_timeout = milliseconds(1000);
    o.bearer_token = token;
    auto r = http::Client(url, o).get(path);
    return r.ok() && r->status == 200;
}

void forget(const DaemonFiles& files) {
    ::unlink(files.pid.c_str());
    ::unlink(files.url.c_str());
}

}  // namespace

Result<Json> start_daemon(const StartOptions& o) {
    FRACTA_TRY_ASSIGN(root, project_root(o.config_file));
    const DaemonFiles files = daemon_files(root);
    if (pid_t pid = live_pid(files)) return failure("already running (pid " + std::to_string(pid) + ")");
    FRACTA_TRY(io::make_dirs(root + "/.fracta", 0755));

    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) return temporary_error("pipe: " + io::errno_text(errno));
    const int log_fd = ::open(files.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) return failure("open " + files.log + ": " + io::errno_text(errno));
    std::vector<std::string> args = {o.program};
    if (!o.config_file.empty()) args.insert(args.end(), {"--config", o.config_file});
    args.insert(args.end(), {"run", "--ready-fd", "3"});
    if (!o.listen.empty()) args.insert(args.end(), {"--listen", o.listen});
    if (o.insecure_listen) args.push_back("--insecure-listen");
    if (o.gateway) args.push_back("--gateway");

    const pid_t child = ::fork();
    if (child < 0) return temporary_error("fork: " + io::errno_text(errno));
    if (child == 0) {
        // The daemon: its own session, no terminal, stdout and stderr to the log.
        ::setsid();
        const int null_fd = ::open("/dev/null", O_RDONLY);
        ::dup2(null_fd, 0);
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
        ::dup2(ready[1], 3);  // dup2 clears close-on-exec on the copy
        if (::chdir(root.c_str()) != 0) _exit(1);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(o.program.c_str(), argv.data());
        _exit(127);
    }
    ::close(ready[1]);
    ::close(log_fd);

    // Wait for "ready <url>", or for the daemon to die (EOF) or take too long.
    std::string got;
    const auto deadline = Clock::now() + o.timeout;
    while (got.find('\n') == std::string::npos) {
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
        struct pollfd p = {ready[0], POLLIN, 0};
        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
        char buf[256];
        const ssize_t n = ::read(ready[0], buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
    }
    ::close(ready[0]);
    if (got.rfind("ready ", 0) != 0 || got.find('\n') == std::string::npos) {
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
        return temporary_error("the control plane did not become ready; see " + files.log);
    }
    const std::string url = got.substr(6, got.find('\n') - 6);
    FRACTA_TRY(io::write_file_atomic(files.pid, std::to_string(child) + "\n", 0644, false));
    FRACTA_TRY(io::write_file_atomic(files.url, url + "\n", 0644, false));
    return Json{{"running", true}, {"pid", child}, {"url", url}, {"log", files.log}};
}

Result<Json> stop_daemon(const std::string& config_file, milliseconds timeout) {
    FRACTA_TRY_ASSIGN(root, project_root(config_file));
    const DaemonFiles files = daemon_files(root);
    const pid_t pid = live_pid(files);
    if (!pid) {
        forget(files);
        return Json{{"running", false}};
    }
    ::kill(pid, SIGTERM);
    const auto deadline = Clock::now() + timeout;
    bool killed = false;
    while (alive(pid)) {
        // Our own child (start ran in this process) must be reaped to vanish.
        if (::waitpid(pid, nullptr, WNOHANG) == pid) break;
        if (Clock::now() >= deadline && !killed) {
            ::kill(pid, SIGKILL);
            killed = true;
        }
        std::this_thread::sleep_for(milliseconds(20));
    }
    forget(files);
    return Json{{"running", false}, {"stopped", pid}, {"killed", killed}};
}

Result<Json> daemon_status(const std::string& config_file) {
    FRACTA_TRY_ASSIGN(config, load_for(config_file, std::filesystem::current_path().string()));
    const DaemonFiles files = daemon_files(config.root);
    const pid_t pid = live_pid(files);
    config::Endpoint e = config::resolve_endpoint(config, config.root);
    Json out = {{"running", pid != 0}, {"pid", pid ? Json(pid) : Json()}, {"url", e.url}};
    const std::string ca = ca_pem_of(e.ca_file);
    out["healthy"] = answers(e.url, "/healthz", e.token, ca);
    out["ready"] = out["healthy"].get<bool>() && answers(e.url, "/readyz", e.token, ca);
    out["gateway"] = Json();
    const char* ca_env = std::getenv("FRACTA_CA_FILE");
    const std::string gw_ca = ca_pem_of(ca_env && *ca_env ? ca_env : config::project_path(config, config.gateway.ca_file));
    if (pid && !config.gateway.url.empty())
        out["gateway"] = {{"url", config.gateway.url}, {"healthy", answers(config.gateway.url, "/healthz", "", gw_ca)}};
    return out;
}

}  // namespace fracta::cp
