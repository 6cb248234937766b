// mcp_echo — the MCP backend of the gateway benchmark: one tool, `echo`,
// whose result is its `text` argument as text content.
//
//   mcp_echo                                  stdio: one JSON-RPC message a line
//   mcp_echo --http ADDR [--ready-fd N]       streamable HTTP at ADDR/mcp
//                                             ("127.0.0.1:0": a free port)
//
// It speaks the legacy (session) era only: initialize (any of the four
// legacy revisions, the latest otherwise), notifications/initialized, ping,
// tools/list, tools/call; unknown methods -32601, bad params -32602, tool
// requests before initialize -32600. Over HTTP, initialize opens a session
// (Mcp-Session-Id), later POSTs must carry it (400 without, 404 unknown),
// notifications answer 202, DELETE ends the session, GET is 405 (this server
// never speaks first); answers are application/json. With --ready-fd it
// writes "ready http://HOST:PORT\n" there once it listens.
//
// Both transports share one dispatch (answer()), kept minimal and
// single-pass on purpose: the benchmark measures what the gateway adds
// around a backend that costs next to nothing. The HTTP side runs on
// fracta's own http::Server, thread per connection like fracta-gw, so the
// "direct" and "through the gateway" figures share the same HTTP stack.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>

#include "base/json.h"
#include "http/server.h"

namespace {

using fracta::Json;

constexpr const char* kVersions[] = {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"};
constexpr const char* kLatest = "2025-11-25";

struct Session {
    std::string version;  // "" until initialize was answered
    bool ready = false;   // notifications/initialized seen
};

Json error_reply(const Json& id, int code, const std::string& message) {
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

Json result_reply(const Json& id, Json result) {
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

Json echo_tool() {
    return Json{{"name", "echo"},
                {"description", "Returns its text argument."},
                {"inputSchema",
                 {{"type", "object"}, {"properties", {{"text", {{"type", "string"}}}}}, {"required", {"text"}}}}};
}

// One decoded message of the peer of `s`: the reply, if it is a request.
std::optional<Json> answer(const Json& m, Session& s) {
    if (!m.is_object() || m.value("jsonrpc", "") != "2.0")
        return error_reply(m.is_object() && m.contains("id") ? m["id"] : Json(), -32600, "not a JSON-RPC 2.0 message");
    auto method_it = m.find("method");
    if (method_it == m.end()) return std::nullopt;  // a response to us: we never ask
    if (!method_it->is_string()) return error_reply(m.value("id", Json()), -32600, "method is not a string");
    const std::string& method = method_it->get_ref<const std::string&>();
    auto id_it = m.find("id");
    if (id_it == m.end()) {  // a notification
        if (method == "notifications/initialized" && !s.version.empty()) s.ready = true;
        return std::nullopt;
    }
    const Json& id = *id_it;
    if (!id.is_string() && !id.is_number_integer()) return error_reply(Json(), -32600, "bad id");
    static const Json kEmpty = Json::object();
    auto params_it = m.find("params");
    const Json& params = params_it == m.end() ? kEmpty : *params_it;
    if (!params.is_object()) return error_reply(id, -32602, "params must be an object");

    if (method == "initialize") {
        std::string asked = params.value("protocolVersion", "");
        std::string version = kLatest;
        for (const char* v : kVersions)
            if (asked == v) version = v;
        s.version = version;
        return result_reply(id, {{"protocolVersion", version},
                                 {"capabilities", {{"tools", Json::object()}}},
                                 {"serverInfo", {{"name", "mcp-echo"}, {"version", "1.0.0"}}}});
    }
    if (method == "ping") return result_reply(id, Json::object());
    if (method == "tools/list" || method == "tools/call") {
        if (s.version.empty()) return error_reply(id, -32600, "not initialized");
        if (method == "tools/list") return result_reply(id, {{"tools", Json::array({echo_tool()})}});
        if (params.value("name", "") != "echo") return error_reply(id, -32602, "unknown tool");
        auto args = params.find("arguments");
        if (args == params.end() || !args->is_object() || !args->contains("text") || !(*args)["text"].is_string())
            return error_reply(id, -32602, "echo needs a string argument \"text\"");
        return result_reply(id, {{"content", Json::array({{{"type", "text"}, {"text", (*args)["text"]}}})},
                                 {"isError", false}});
    }
    return error_reply(id, -32601, "method not found: " + method);
}

std::optional<Json> answer_text(std::string_view text, Session& s) {
    auto parsed = fracta::parse_json(text);
    if (!parsed.ok()) return error_reply(Json(), -32700, "parse error");
    if (parsed->is_array()) return error_reply(Json(), -32600, "batches are not supported");
    return answer(*parsed, s);
}

bool write_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

// stdio: read lines, answer each before reading on (the gateway keeps one
// session and multiplexes its agents' calls onto it by id).
int serve_stdio() {
    Session s;
    std::string buf;
    char chunk[65536];
    for (;;) {
        ssize_t n = ::read(0, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            std::fprintf(stderr, "mcp_echo: error: reading stdin: %s\n", std::strerror(errno));
            return 1;
        }
        if (n == 0) return 0;
        buf.append(chunk, static_cast<size_t>(n));
        size_t start = 0, nl;
        std::string out;
        while ((nl = buf.find('\n', start)) != std::string::npos) {
            std::string_view line(buf.data() + start, nl - start);
            start = nl + 1;
            if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
            if (auto reply = answer_text(line, s)) out += fracta::to_line(*reply) + "\n";
        }
        buf.erase(0, start);
        if (!out.empty() && !write_all(1, out)) return 0;  // the reader is gone
    }
}

std::string new_session_id() {
    static std::mutex mu;
    static std::mt19937_64 rng{std::random_device{}()};
    std::lock_guard lock(mu);
    char id[33];
    std::snprintf(id, sizeof id, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng()));
    return id;
}

using fracta::http::Request;
using fracta::http::Response;

struct HttpEcho {
    std::mutex mu;
    std::unordered_map<std::string, Session> sessions;

    Response handle(const Request& r) {
        const std::string sid = r.header("mcp-session-id");
        if (r.method == "DELETE") {
            std::lock_guard lock(mu);
            if (sid.empty()) return Response::error(400, "no Mcp-Session-Id");
            return sessions.erase(sid) ? Response::text(200, "") : Response::error(404, "unknown session");
        }
        if (r.method != "POST") {
            Response res = Response::error(405, "this server never speaks first: no GET stream");
            res.headers.emplace_back("Allow", "POST, DELETE");
            return res;
        }
        if (r.header("content-type").rfind("application/json", 0) != 0)
            return Response::error(415, "Content-Type must be application/json");
        const std::string accept = r.header("accept");
        if (accept.find("application/json") == std::string::npos || accept.find("text/event-stream") == std::string::npos)
            return Response::error(406, "Accept must list application/json and text/event-stream");
        auto parsed = fracta::parse_json(r.body);
        if (!parsed.ok()) return Response::json(400, error_reply(Json(), -32700, "parse error"));
        const Json& m = *parsed;
        if (sid.empty()) {
            if (!m.is_object() || m.value("method", "") != "initialize" || !m.contains("id"))
                return Response::error(400, "no Mcp-Session-Id (only initialize opens a session)");
            Session s;
            auto reply = answer(m, s);
            Response res = Response::json(200, *reply);
            if (!s.version.empty()) {
                std::string id = new_session_id();
                {
                    std::lock_guard lock(mu);
                    sessions.emplace(id, std::move(s));
                }
                res.headers.emplace_back("Mcp-Session-Id", id);
            }
            return res;
        }
        std::optional<Json> reply;
        {
            // Answering is a few microseconds: one lock keeps the table and
            // the session's state together.
            std::lock_guard lock(mu);
            auto it = sessions.find(sid);
            if (it == sessions.end()) return Response::error(404, "unknown session");
            if (m.is_array()) return Response::json(400, error_reply(Json(), -32600, "batches are not supported"));
            reply = answer(m, it->second);
        }
        if (!reply) return Response::text(202, "");
        return Response::json(200, *reply);
    }
};

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: mcp_echo [--http ADDR [--ready-fd N]]\n");
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    std::string http_addr;
    int ready_fd = -1;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (i + 1 >= argc) usage();
        if (a == "--http") http_addr = argv[++i];
        else if (a == "--ready-fd") ready_fd = std::atoi(argv[++i]);
        else usage();
    }
    ::signal(SIGPIPE, SIG_IGN);
    if (http_addr.empty()) {
        if (ready_fd >= 0) usage();
        return serve_stdio();
    }

    // The signals that stop the server are waited for, not handled.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    HttpEcho echo;
    fracta::http::ServerOptions so;
    so.thread_per_connection = true;  // as fracta-gw runs
    so.max_body = 4 << 20;
    so.idle_timeout = std::chrono::seconds(120);
    auto server = fracta::http::Server::listen_tcp(
        http_addr,
        [&echo](const Request& r) {
            if (r.path != "/mcp") return Response::error(404, "not found");
            return echo.handle(r);
        },
        so);
    if (!server.ok()) {
        std::fprintf(stderr, "mcp_echo: error: listening on %s: %s\n", http_addr.c_str(),
                     server.error().message.c_str());
        return 1;
    }
    if (ready_fd >= 0) {
        write_all(ready_fd, "ready http://" + (*server)->address() + "\n");
        ::close(ready_fd);
    }
    int sig = 0;
    sigwait(&stop, &sig);
    (*server)->stop();
    return 0;
}
