// client_stdio.cc — the child-process transport (see client_stdio.h).
#include "mcp/client_stdio.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "base/io.h"
#include "proc/run.h"

namespace fracta::mcp {
namespace {

constexpr size_t kMaxStderrLine = 4096;                         // longer ones are cut
constexpr auto kExitAfterEof = std::chrono::milliseconds(500);  // stdout closed: time to exit by itself
constexpr int kReapTickMs = 50;                                 // without a pidfd

}  // namespace

StdioTransport::StdioTransport(StdioTransportOptions o) : o_(std::move(o)) {}

StdioTransport::~StdioTransport() {
    close();
}

std::string StdioTransport::describe() const {
    std::string d = o_.command;
    for (const auto& a : o_.args) d += " " + a;
    return d;
}

pid_t StdioTransport::pid() const {
    return process_ ? process_->pid() : -1;
}

bool StdioTransport::alive() const {
    return process_ && !dead_ && !closing_;
}

Status StdioTransport::open(TransportEvents events) {
    if (process_) return usage_error("stdio transport: already open");
    events_ = std::move(events);
    proc::Command c;
    c.argv.push_back(o_.command);
    c.argv.insert(c.argv.end(), o_.args.begin(), o_.args.end());
    c.env = o_.env;
    c.cwd = o_.cwd;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return temporary_error("pipe: " + io::errno_text(errno));
    wake_read_ = proc::Fd(fds[0]);
    wake_write_ = proc::Fd(fds[1]);
    auto started = proc::Process::start(c);
    if (!started.ok()) return std::move(started).take_error().context("start " + describe());
    process_ = std::move(*started);
    reader_ = std::thread([this] { read_loop(); });
    return {};
}

Status StdioTransport::send(const Json& message) {
    if (!process_ || closing_) return failure("the transport is closed");
    if (dead_) return temporary_error("process " + o_.command + " is gone");
    return process_->write(to_line(message) + "\n", o_.write_timeout);
}

void StdioTransport::close() {
    {
        std::lock_guard lock(close_mu_);
        if (closed_) return;
        closed_ = true;
    }
    closing_ = true;
    if (!process_) return;
    process_->stop(o_.stop_grace);
    char byte = 1;
    ssize_t ignored = ::write(wake_write_.get(), &byte, 1);
    (void)ignored;
    if (reader_.joinable()) reader_.join();
}

// --- the reader thread -------------------------------------------------------------

void StdioTransport::take_stdout(std::string_view bytes) {
    while (!bytes.empty()) {
        auto nl = bytes.find('\n');
        std::string_view piece = bytes.substr(0, nl);
        if (skipping_) {
            if (nl == std::string_view::npos) return;
            skipping_ = false;
        } else if (out_buf_.size() + piece.size() > o_.max_message) {
            if (events_.log)
                events_.log("dropped a stdout line longer than " + std::to_string(o_.max_message) + " bytes");
            out_buf_.clear();
            skipping_ = nl == std::string_view::npos;
        } else if (nl == std::string_view::npos) {
            out_buf_.append(piece);
        } else {
            std::string line = std::move(out_buf_);
            out_buf_.clear();
            line.append(piece);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.find_first_not_of(" \t") != std::string::npos) {
                auto parsed = parse_payload(line, o_.max_message);
                if (!parsed.ok()) {
                    if (events_.log) events_.log("stdout line is not JSON (dropped): " + line.substr(0, 200));
                } else if (parsed->is_array()) {
                    for (auto& m : *parsed) events_.message(std::move(m));
                } else {
                    events_.message(std::move(*parsed));
                }
            }
        }
        if (nl == std::string_view::npos) return;
        bytes.remove_prefix(nl + 1);
    }
}

void StdioTransport::stderr_line(std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) return;
    {
        std::lock_guard lock(last_mu_);
        last_stderr_ = line;
    }
    if (events_.log) events_.log(line);
}

void StdioTransport::take_stderr(std::string_view bytes, bool flush) {
    while (!bytes.empty()) {
        auto nl = bytes.find('\n');
        if (nl == std::string_view::npos) {
            size_t room = kMaxStderrLine - std::min(kMaxStderrLine, err_buf_.size());
            err_buf_.append(bytes.substr(0, room));
            break;
        }
        size_t room = kMaxStderrLine - std::min(kMaxStderrLine, err_buf_.size());
        err_buf_.append(bytes.substr(0, std::min(nl, room)));
        stderr_line(std::move(err_buf_));
        err_buf_.clear();
        bytes.remove_prefix(nl + 1);
    }
    if (flush && !err_buf_.empty()) {
        stderr_line(std::move(err_buf_));
        err_buf_.clear();
    }
}

void StdioTransport::read_loop() {
    const int out = process_->stdout_fd(), err = process_->stderr_fd(), exit = process_->exit_fd();
    bool out_open = true, err_open = true, exited = false;
    char buf[1 << 16];
    // Read what is there now; false at EOF or a read error.
    auto drain = [&](int fd, bool is_out) {
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n > 0) {
                if (is_out)
                    take_stdout(std::string_view(buf, static_cast<size_t>(n)));
                else
                    take_stderr(std::string_view(buf, static_cast<size_t>(n)), false);
                if (static_cast<size_t>(n) < sizeof buf) return true;
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            return n < 0 && errno == EAGAIN;
        }
    };
    while (out_open && !exited) {
        pollfd fds[4];
        nfds_t n = 0;
        fds[n++] = pollfd{wake_read_.get(), POLLIN, 0};
        fds[n++] = pollfd{out, POLLIN, 0};
        pollfd* e = err_open ? &(fds[n++] = pollfd{err, POLLIN, 0}) : nullptr;
        pollfd* x = exit >= 0 ? &(fds[n++] = pollfd{exit, POLLIN, 0}) : nullptr;
        if (::poll(fds, n, exit >= 0 ? -1 : kReapTickMs) < 0 && errno != EINTR) break;
        if (fds[0].revents) break;  // close(): the process is already stopped
        if (fds[1].revents) out_open = drain(out, true);
        if (e && e->revents) err_open = drain(err, false);
        if (x ? x->revents != 0 : process_->exited()) exited = true;
    }
    // Whatever it wrote before it went is still delivered.
    if (out_open) drain(out, true);
    if (err_open) drain(err, false);
    take_stderr({}, true);
    if (closing_) return;
    std::string why = "process " + o_.command + " (pid " + std::to_string(process_->pid()) + ") ";
    if (!process_->wait_exit(kExitAfterEof)) {  // stdout closed but still running: it is no server now
        why += "closed its stdout; stopped it: ";
        process_->signal_group(SIGKILL);
        process_->wait_exit(std::chrono::seconds(5));
    }
    dead_ = true;
    why += process_->status_text();
    {
        std::lock_guard lock(last_mu_);
        if (!last_stderr_.empty()) why += "; its last stderr line: " + last_stderr_;
    }
    if (events_.closed) events_.closed(temporary_error(why));
}

}  // namespace fracta::mcp
