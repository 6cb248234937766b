// stdio_server.h — MCP over a pair of file descriptors, server side: what
// `fracta-gw stdio` speaks to the AI CLI that started it.
//
// One JSON-RPC message (or 2025-03-26 batch) per line in, one per line out;
// nothing else is ever written to the output (the library never logs). The
// whole process is one legacy session, while modern requests (with _meta
// protocolVersion) are answered on their own. Tool calls run on their own
// threads so that a notifications/cancelled read meanwhile reaches them and
// progress goes out as it happens; writes are serialised, one whole line at
// a time. run() returns at end of input, once the calls still running have
// answered.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>

#include "base/json.h"
#include "base/result.h"
#include "mcp/server.h"

namespace fracta::mcp {

struct StdioOptions {
    int in_fd = 0;
    int out_fd = 1;
    size_t max_line = size_t{4} << 20;  // longer lines are answered with a parse error and skipped
    size_t max_threads = 64;            // tool calls running at once; more run inline
};

class StdioServer {
public:
    StdioServer(Server& server, StdioOptions options = {});

    // Serve until end of input. A read error is a failure; so is a write
    // error (EPIPE included: the reader is gone), reported once input ends.
    // Callers that write to a pipe should ignore SIGPIPE.
    Status run();

    // Send notifications/tools/list_changed, when the session is initialized
    // and the server declares the capability. Any thread.
    void notify_tools_changed();

    const Session& session() const { return session_; }

private:
    void handle_line(const std::string& line);
    void write(const Json& message);

    Server& server_;
    StdioOptions opts_;
    Session session_;
    CallThreads threads_;
    std::mutex write_mu_;
    std::string write_error_;  // the first write failure (under write_mu_)
};

}  // namespace fracta::mcp
