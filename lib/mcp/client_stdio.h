// client_stdio.h — the stdio transport: the MCP server is a child process we
// start (`command args`, with `env` added to ours), one JSON message per
// line on its stdin and stdout. Its stderr is read line by line and handed
// to the log event, never mistaken for protocol. When the child exits (or
// closes its stdout) the transport says so once, with how it ended and the
// last thing it wrote on stderr, and alive() turns false; the owner decides
// whether to start another. close() follows the MCP shutdown order: close
// stdin, wait, SIGTERM, wait, SIGKILL.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mcp/transport.h"
#include "proc/process.h"

namespace fracta::mcp {

struct StdioTransportOptions {
    std::string command;  // looked up in PATH unless it holds a '/'
    std::vector<std::string> args;
    std::map<std::string, std::string> env;          // added to (or overriding) ours
    std::string cwd;                                 // empty: ours
    std::chrono::milliseconds write_timeout{10000};  // a child that takes no input this long is stuck
    std::chrono::milliseconds stop_grace{2000};      // each step of close()
    size_t max_message = size_t{64} << 20;           // a longer stdout line is dropped (and logged)
};

class StdioTransport : public Transport {
public:
    explicit StdioTransport(StdioTransportOptions o);
    ~StdioTransport() override;

    Status open(TransportEvents events) override;
    Status send(const Json& message) override;
    bool alive() const override;
    void close() override;
    std::string describe() const override;

    pid_t pid() const;  // the child's (and its group's); -1 before open()

private:
    void read_loop();
    void take_stdout(std::string_view bytes);
    void take_stderr(std::string_view bytes, bool flush);
    void stderr_line(std::string line);

    const StdioTransportOptions o_;
    TransportEvents events_;
    std::unique_ptr<proc::Process> process_;
    proc::Fd wake_read_, wake_write_;  // close() wakes the reader through this
    std::thread reader_;
    std::atomic<bool> closing_{false}, dead_{false};
    std::mutex close_mu_;
    bool closed_ = false;
    // Reader-thread state.
    std::string out_buf_, err_buf_;
    bool skipping_ = false;  // inside an overlong stdout line
    std::mutex last_mu_;
    std::string last_stderr_;
};

}  // namespace fracta::mcp
