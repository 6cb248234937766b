// stdio_server.cc — line framing, concurrent calls and serialised writes for
// MCP over stdio (see stdio_server.h).
#include "mcp/stdio_server.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fracta::mcp {

StdioServer::StdioServer(Server& server, StdioOptions options)
    : server_(server), opts_(options), session_("stdio"), threads_(options.max_threads) {}

void StdioServer::write(const Json& message) {
    std::string line = to_line(message);
    line += '\n';
    std::lock_guard lock(write_mu_);
    if (!write_error_.empty()) return;
    size_t off = 0;
    while (off < line.size()) {
        ssize_t n = ::write(opts_.out_fd, line.data() + off, line.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            write_error_ = std::string("write: ") + (n < 0 ? std::strerror(errno) : "nothing written");
            return;
        }
        off += static_cast<size_t>(n);
    }
}

void StdioServer::notify_tools_changed() {
    if (server_.config().tools_list_changed && session_.initialized()) write(Server::tools_list_changed());
}

void StdioServer::handle_line(const std::string& line) {
    Incoming in = decode_payload(line, session_.protocol_version(), opts_.max_line);
    auto emit = [this](const Json& n) { write(n); };
    if (in.batch) {
        // Batches (2025-03-26 only) are answered together, so run inline.
        Json replies = Json::array();
        for (auto& e : in.errors) replies.push_back(std::move(e));
        for (const auto& m : in.messages)
            if (auto reply = server_.handle(session_, m, emit)) replies.push_back(std::move(*reply));
        if (!replies.empty()) write(replies.size() == 1 && in.messages.empty() ? replies[0] : replies);
        return;
    }
    for (const auto& e : in.errors) write(e);
    for (auto& m : in.messages) {
        if (m.is_request() && m.method == "tools/call") {
            threads_.run([this, m = std::move(m), emit] {
                if (auto reply = server_.handle(session_, m, emit)) write(*reply);
            });
        } else if (auto reply = server_.handle(session_, m, emit)) {
            write(*reply);
        }
    }
}

Status StdioServer::run() {
    std::string pending;
    bool skipping = false;  // inside a line that outgrew max_line
    char buf[64 * 1024];
    Status status;
    for (;;) {
        ssize_t n = ::read(opts_.in_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            status = failure(std::string("read: ") + std::strerror(errno));
            break;
        }
        if (n == 0) break;
        size_t start = 0;
        for (size_t i = 0; i < static_cast<size_t>(n); i++) {
            if (buf[i] != '\n') continue;
            if (!skipping) {
                pending.append(buf + start, i - start);
                if (!pending.empty() && pending.back() == '\r') pending.pop_back();
                if (pending.find_first_not_of(" \t") != std::string::npos) handle_line(pending);
            }
            pending.clear();
            skipping = false;
            start = i + 1;
        }
        if (!skipping) pending.append(buf + start, static_cast<size_t>(n) - start);
        if (!skipping && pending.size() > opts_.max_line) {
            write(make_error(Id(), kParseError,
                             "Parse error: line longer than " + std::to_string(opts_.max_line) + " bytes"));
            pending.clear();
            skipping = true;
        }
    }
    if (!skipping && pending.find_first_not_of(" \t\r") != std::string::npos) handle_line(pending);
    threads_.wait_idle();
    if (!status.ok()) return status;
    std::lock_guard lock(write_mu_);
    if (!write_error_.empty()) return failure(write_error_);
    return {};
}

}  // namespace fracta::mcp
