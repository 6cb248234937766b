// mcp_test_tools.h — a ToolSource for the MCP server suites: many tools (for
// pagination) and a few that echo, fail, throw, report progress, or block
// until they are cancelled or released.
#pragma once

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <stdexcept>

#include "mcp/jsonrpc.h"
#include "mcp/server.h"

namespace fracta::mcp::test {

class TestTools : public ToolSource {
public:
    explicit TestTools(int filler = 0) : filler_(filler) {}

    Result<std::vector<Tool>> list_tools(const CallContext&) override {
        std::vector<Tool> out;
        for (const char* name : {"echo", "fail", "throw", "progress", "wait", "context"}) {
            Tool t;
            t.name = name;
            t.description = std::string("the ") + name + " tool";
            out.push_back(t);
        }
        for (int i = 0; i < filler_; i++) {
            char name[32];
            std::snprintf(name, sizeof name, "tool_%03d", i);
            Tool t;
            t.name = name;
            out.push_back(t);
        }
        return out;
    }

    Result<Json> call_tool(const std::string& name, const Json& args, const CallContext& ctx) override {
        if (name == "echo") return text(args.value("message", ""));
        if (name == "fail") return failure("the backend is down");
        if (name == "throw") throw std::runtime_error("kaboom");
        if (name == "context")
            return Json{{"content", Json::array()},
                        {"structuredContent",
                         {{"session", ctx.session_id}, {"version", ctx.protocol_version}, {"meta", ctx.meta}}}};
        if (name == "progress") {
            ctx.progress(1, 3, "first");
            ctx.progress(1, 3, "not increasing: dropped");
            ctx.progress(2.5, std::nullopt, "");
            late_progress = ctx.progress;
            return text("done");
        }
        if (name == "wait") {
            std::unique_lock lock(mu);
            started++;
            cv.notify_all();
            // Poll the flag: cancellation is a flag, not a wake-up.
            while (!ctx.is_cancelled() && !released) cv.wait_for(lock, std::chrono::milliseconds(5));
            if (ctx.is_cancelled()) saw_cancel++;
            return text("released");
        }
        return usage_error("unknown tool: " + name);
    }

    static Json text(const std::string& s) { return Json{{"content", Json::array({{{"type", "text"}, {"text", s}}})}}; }

    // Wait until `n` calls of "wait" have started.
    void await_started(int n) {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return started >= n; });
    }
    void release() {
        std::lock_guard lock(mu);
        released = true;
        cv.notify_all();
    }

    std::mutex mu;
    std::condition_variable cv;
    int started = 0;
    int saw_cancel = 0;
    bool released = false;
    std::function<void(double, std::optional<double>, std::string)> late_progress;

private:
    int filler_;
};

inline Json modern_meta(const std::string& version = "2026-07-28") {
    return Json{{kMetaProtocolVersion, version},
                {kMetaClientCapabilities, Json::object()},
                {kMetaClientInfo, {{"name", "test"}, {"version", "1"}}}};
}

inline Message to_message(const Json& wire) {
    auto m = parse_message(wire);
    if (!m) FAIL(m.error().message);
    return std::move(m).value();
}

}  // namespace fracta::mcp::test
