#include "cp/gateway_child.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

extern char** environ;

namespace fracta::cp {

GatewayChild::GatewayChild(std::vector<std::string> argv, std::vector<std::string> env,
                           std::function<void(const std::string&, const std::string&)> log)
    : argv_(std::move(argv)), env_(std::move(env)), log_(std::move(log)) {}

void GatewayChild::start() { thread_ = std::thread([this] { supervise(); }); }

pid_t GatewayChild::spawn() {
    // Everything the child needs is built before fork: after it, only
    // async-signal-safe calls.
    // Ours first: getenv() takes the first match.
    std::vector<char*> envp;
    for (auto it = env_.begin(); it != env_.end(); ++it) envp.push_back(const_cast<char*>(it->c_str()));
    for (char** e = environ; *e; ++e) envp.push_back(*e);
    envp.push_back(nullptr);
    std::vector<char*> argv;
    for (auto& a : argv_) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    sigset_t none;
    sigemptyset(&none);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0);
        ::pthread_sigmask(SIG_SETMASK, &none, nullptr);  // the daemon blocks TERM/INT/HUP for sigwait
        ::execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    return pid;
}

void GatewayChild::supervise() {
    auto backoff = std::chrono::seconds(1);
    while (!stopping_) {
        const auto started = std::chrono::steady_clock::now();
        const pid_t pid = spawn();
        if (pid < 0) {
            log_("warn", "gateway: fork failed");
        } else {
            pid_ = pid;
            log_("info", "gateway started (pid " + std::to_string(pid) + ")");
            int status = 0;
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            pid_ = 0;
            if (stopping_) return;
            log_("warn", "gateway exited (" +
                             (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                                  : "status " + std::to_string(WEXITSTATUS(status))) +
                             "); restarting in " + std::to_string(backoff.count()) + " s");
        }
        if (std::chrono::steady_clock::now() - started > std::chrono::minutes(1)) backoff = std::chrono::seconds(1);
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, backoff, [&] { return stopping_.load(); });
        backoff = std::min(backoff * 2, std::chrono::seconds(30));
    }
}

void GatewayChild::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_.exchange(true)) {
            if (thread_.joinable()) thread_.join();
            return;
        }
    }
    cv_.notify_all();
    if (const pid_t pid = pid_; pid > 0) {
        ::kill(-pid, SIGTERM);
        for (int i = 0; i < 100 && pid_ > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (const pid_t still = pid_; still > 0) ::kill(-still, SIGKILL);
    }
    if (thread_.joinable()) thread_.join();
}

}  // namespace fracta::cp
