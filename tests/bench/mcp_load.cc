// mcp_load — load for an MCP server over streamable HTTP (legacy sessions):
// the gateway benchmark's client.
//
//   mcp_load calls    --url URL [--token T] [--tool echo] [--clients 1] [--calls 1000]
//                     [--warmup 50] [--raw FILE]
//   mcp_load sessions --url URL [--token T] [--clients 8] --sessions N --ids FILE
//   mcp_load ping     --url URL [--token T] [--clients 8] --ids FILE
//
// URL is the MCP endpoint (http://127.0.0.1:PORT/agents/TASK/mcp). Every
// client is a thread with its own keep-alive TCP connection and its own MCP
// session: initialize (2025-11-25), notifications/initialized (must answer
// 202), then MCP-Protocol-Version and Mcp-Session-Id on every request, as
// the spec asks. Answers may be application/json or an SSE stream (the
// reply is the event whose id matches).
//
//   calls     each client checks that tools/list (all pages) offers --tool,
//             makes --warmup untimed calls, waits at a barrier, then makes
//             --calls timed tools/call requests, one after the other, each
//             with its own argument {"text": "<nonce>/<client>/<i>"}; every
//             answer must be a result whose content[0].text is exactly that
//             argument. Latency per call: CLOCK_MONOTONIC around the
//             exchange (request written → reply read). Prints
//             {"clients","calls","seconds","per_second","p50_us","p90_us",
//              "p99_us","max_us","mean_us"}; seconds run from the barrier
//             to the last client's last reply. --raw FILE: every latency
//             in µs, one a line (to pool rounds). Each client ends its
//             session with DELETE afterwards, untimed.
//   sessions  opens --sessions sessions (initialize + initialized), spread
//             over --clients connections, and leaves them open (no
//             DELETE); writes their ids to --ids. Prints {"sessions","seconds"}.
//   ping      sends `ping` in each session of --ids; prints
//             {"sessions","alive"} (alive: answered 200 with a result).
//
// The HTTP/1.1 client is hand-written (a socket, Content-Length or chunked
// bodies) so that the load generator's own cost per call stays a few
// microseconds on a 2-CPU machine it shares with the server it measures.
// Any unexpected answer or transport error: the reason on stderr, exit 1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/json.h"
#include "load.h"

namespace {

using fracta::Json;

using bench::bad_usage;
using bench::die;
using bench::now_ns;
using bench::whole_number;

const char* const kUsage =
    "usage: mcp_load calls|sessions|ping --url URL [--token T] [--tool NAME] [--clients N] [--calls N] "
    "[--warmup N] [--raw FILE] [--sessions N] [--ids FILE]";

struct Options {
    std::string mode, url, token, tool = "echo", raw, ids;
    int clients = 0, calls = 1000, warmup = 50, sessions = 0;
    // from the URL
    std::string host, path;
    int port = 0;
};

Options parse(int argc, char** argv) {
    if (argc < 2) bad_usage();
    Options o;
    o.mode = argv[1];
    bench::read_options(argc, argv, 2, [&o](const std::string& a, const char* v) {
        if (a == "--url") o.url = v;
        else if (a == "--token") o.token = v;
        else if (a == "--tool") o.tool = v;
        else if (a == "--clients") o.clients = whole_number(v, 1);
        else if (a == "--calls") o.calls = whole_number(v, 1);
        else if (a == "--warmup") o.warmup = whole_number(v, 0);
        else if (a == "--raw") o.raw = v;
        else if (a == "--sessions") o.sessions = whole_number(v, 1);
        else if (a == "--ids") o.ids = v;
        else return false;
        return true;
    });
    if (o.mode != "calls" && o.mode != "sessions" && o.mode != "ping") bad_usage();
    if (o.clients == 0) o.clients = o.mode == "calls" ? 1 : 8;
    if ((o.mode == "sessions" && (o.sessions == 0 || o.ids.empty())) || (o.mode == "ping" && o.ids.empty()))
        bad_usage();
    // http://HOST:PORT/PATH, HOST an IPv4 address
    const std::string scheme = "http://";
    if (o.url.rfind(scheme, 0) != 0) die("--url must start with http://");
    std::string rest = o.url.substr(scheme.size());
    size_t slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    o.path = slash == std::string::npos ? "/" : rest.substr(slash);
    size_t colon = hostport.rfind(':');
    if (colon == std::string::npos) die("--url needs a port");
    o.host = hostport.substr(0, colon);
    o.port = whole_number(hostport.substr(colon + 1).c_str(), 1);
    if (o.host == "localhost") o.host = "127.0.0.1";
    return o;
}

struct Reply {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
};

// One keep-alive HTTP/1.1 connection.
class Conn {
public:
    explicit Conn(const Options& o) : o_(o) {}
    ~Conn() { close(); }

    // POST the body to the endpoint; false with `why` on a transport failure.
    bool post(const std::string& body, const std::string& session, const std::string& version, Reply& r,
              std::string& why) {
        return exchange("POST", body, session, version, r, why);
    }
    bool exchange(const char* method, const std::string& body, const std::string& session,
                  const std::string& version, Reply& r, std::string& why) {
        if (fd_ < 0 && !connect(why)) return false;
        std::string req;
        req.reserve(400 + body.size());
        req += std::string(method) + " " + o_.path + " HTTP/1.1\r\nHost: " + o_.host + ":" + std::to_string(o_.port) +
               "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n";
        if (!o_.token.empty()) req += "Authorization: Bearer " + o_.token + "\r\n";
        if (!session.empty()) req += "Mcp-Session-Id: " + session + "\r\n";
        if (!version.empty()) req += "MCP-Protocol-Version: " + version + "\r\n";
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        req += body;
        for (size_t off = 0; off < req.size();) {
            ssize_t n = ::send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return fail(why, "send: " + std::string(std::strerror(errno)));
            off += static_cast<size_t>(n);
        }
        return read_reply(r, why);
    }

private:
    bool fail(std::string& why, std::string what) {
        why = std::move(what);
        close();
        return false;
    }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        in_.clear();
    }
    bool connect(std::string& why) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return fail(why, "socket: " + std::string(std::strerror(errno)));
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(o_.port));
        if (::inet_pton(AF_INET, o_.host.c_str(), &a.sin_addr) != 1) return fail(why, "not an IPv4 address: " + o_.host);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            return fail(why, "connect: " + std::string(std::strerror(errno)));
        return true;
    }
    // More bytes into in_; false at EOF or on an error.
    bool fill(std::string& why) {
        char buf[16384];
        for (;;) {
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return fail(why, "recv: " + std::string(std::strerror(errno)));
            if (n == 0) return fail(why, "the server closed the connection");
            in_.append(buf, static_cast<size_t>(n));
            return true;
        }
    }
    bool read_reply(Reply& r, std::string& why) {
        r = Reply{};
        size_t end;
        while ((end = in_.find("\r\n\r\n")) == std::string::npos)
            if (!fill(why)) return false;
        const std::string head = in_.substr(0, end);
        in_.erase(0, end + 4);
        size_t eol = head.find("\r\n");
        const std::string status_line = head.substr(0, eol);
        if (status_line.size() < 12 || status_line.rfind("HTTP/1.", 0) != 0)
            return fail(why, "bad status line: " + status_line);
        r.status = std::atoi(status_line.c_str() + 9);
        while (eol != std::string::npos) {
            size_t start = eol + 2, next = head.find("\r\n", start);
            std::string line = head.substr(start, next == std::string::npos ? std::string::npos : next - start);
            eol = next;
            size_t colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = line.substr(0, colon), value = line.substr(colon + 1);
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            value.erase(0, value.find_first_not_of(' '));
            r.headers[name] = value;
        }
        const bool close_after = r.headers.count("connection") && r.headers["connection"] == "close";
        if (r.headers.count("transfer-encoding") && r.headers["transfer-encoding"].find("chunked") != std::string::npos) {
            for (;;) {
                while ((end = in_.find("\r\n")) == std::string::npos)
                    if (!fill(why)) return false;
                size_t size = std::strtoul(in_.c_str(), nullptr, 16);
                in_.erase(0, end + 2);
                while (in_.size() < size + 2)
                    if (!fill(why)) return false;
                r.body.append(in_, 0, size);
                in_.erase(0, size + 2);  // no trailers from our servers
                if (size == 0) break;
            }
        } else if (r.headers.count("content-length")) {
            size_t size = std::strtoul(r.headers["content-length"].c_str(), nullptr, 10);
            while (in_.size() < size)
                if (!fill(why)) return false;
            r.body = in_.substr(0, size);
            in_.erase(0, size);
        } else if (r.status != 204 && r.status != 304 && r.status >= 200) {
            return fail(why, "a reply with neither Content-Length nor chunked body (status " +
                                 std::to_string(r.status) + ")");
        }
        if (close_after) close();
        return true;
    }

    const Options& o_;
    int fd_ = -1;
    std::string in_;
};

// The JSON-RPC reply with `id` in a reply body: the body itself
// (application/json) or one of its SSE events.
Json rpc_reply(const Reply& r, const Json& id, const std::string& what) {
    const std::string type = r.headers.count("content-type") ? r.headers.at("content-type") : "";
    if (r.status != 200) die(what + ": HTTP " + std::to_string(r.status) + ": " + r.body);
    if (type.rfind("application/json", 0) == 0) {
        auto j = fracta::parse_json(r.body);
        if (!j.ok() || !j->is_object() || (*j)["id"] != id) die(what + ": not the reply to " + id.dump() + ": " + r.body);
        return *j;
    }
    if (type.rfind("text/event-stream", 0) == 0) {
        std::string data;
        size_t pos = 0;
        while (pos <= r.body.size()) {
            size_t nl = r.body.find('\n', pos);
            std::string line = r.body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            pos = nl == std::string::npos ? r.body.size() + 1 : nl + 1;
            if (line.rfind("data:", 0) == 0) {
                data += (data.empty() ? "" : "\n") + line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5);
            } else if (line.empty() && !data.empty()) {
                auto j = fracta::parse_json(data);
                data.clear();
                if (j.ok() && j->is_object() && j->contains("id") && (*j)["id"] == id) return *j;
            }
        }
        if (!data.empty())
            if (auto j = fracta::parse_json(data); j.ok() && j->is_object() && (*j)["id"] == id) return *j;
        die(what + ": no reply to " + id.dump() + " in the event stream: " + r.body);
    }
    die(what + ": unexpected Content-Type \"" + type + "\": " + r.body);
}

constexpr const char* kVersion = "2025-11-25";

// One MCP session, on a connection it may share (one at a time).
struct Client {
    const Options& o;
    Conn& conn;
    std::string session;
    long long next_id = 1;

    Client(const Options& opts, Conn& c) : o(opts), conn(c) {}

    Json request(const std::string& method, Json params, const std::string& what) {
        Json id = next_id++;
        Json msg = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
        Reply r;
        std::string why;
        if (!conn.post(fracta::to_line(msg), session, session.empty() ? "" : kVersion, r, why))
            die(what + ": " + why);
        Json reply = rpc_reply(r, id, what);
        if (reply.contains("error")) die(what + ": JSON-RPC error: " + reply["error"].dump());
        if (!reply.contains("result") || !reply["result"].is_object()) die(what + ": no result: " + reply.dump());
        if (method == "initialize") {
            if (!r.headers.count("mcp-session-id")) die(what + ": initialize gave no Mcp-Session-Id");
            session = r.headers["mcp-session-id"];
        }
        return std::move(reply["result"]);
    }

    void open() {
        Json init = request("initialize",
                            {{"protocolVersion", kVersion},
                             {"capabilities", Json::object()},
                             {"clientInfo", {{"name", "mcp_load"}, {"version", "1.0.0"}}}},
                            "initialize");
        if (init.value("protocolVersion", "") != kVersion) die("initialize: protocol " + init.dump());
        Reply r;
        std::string why;
        if (!conn.post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})", session, kVersion, r, why))
            die("notifications/initialized: " + why);
        if (r.status != 202) die("notifications/initialized: HTTP " + std::to_string(r.status) + ": " + r.body);
    }

    // DELETE: the session ends (the server may also refuse with 405).
    void close() {
        Reply r;
        std::string why;
        if (!conn.exchange("DELETE", "", session, kVersion, r, why)) die("DELETE: " + why);
        if (r.status != 200 && r.status != 202 && r.status != 204 && r.status != 405)
            die("DELETE: HTTP " + std::to_string(r.status) + ": " + r.body);
    }

    void check_tool() {
        Json cursor;
        for (int page = 0; page < 100; ++page) {
            Json params = Json::object();
            if (!cursor.is_null()) params["cursor"] = cursor;
            Json res = request("tools/list", params, "tools/list");
            for (const auto& t : res.value("tools", Json::array()))
                if (t.value("name", "") == o.tool) return;
            if (!res.contains("nextCursor") || res["nextCursor"].is_null()) break;
            cursor = res["nextCursor"];
        }
        die("tools/list: no tool \"" + o.tool + "\"");
    }

    // One tools/call; its latency in ns.
    int64_t call(const std::string& text) {
        Json id = next_id++;
        std::string body = R"({"jsonrpc":"2.0","id":)" + id.dump() + R"(,"method":"tools/call","params":{"name":)" +
                           Json(o.tool).dump() + R"(,"arguments":{"text":)" + Json(text).dump() + "}}}";
        Reply r;
        std::string why;
        const int64_t t0 = now_ns();
        if (!conn.post(body, session, kVersion, r, why)) die("tools/call: " + why);
        const int64_t t1 = now_ns();
        Json reply = rpc_reply(r, id, "tools/call");
        const Json* content = nullptr;
        if (reply.contains("result") && reply["result"].contains("content") && reply["result"]["content"].is_array() &&
            !reply["result"]["content"].empty())
            content = &reply["result"]["content"][0];
        if (!content || content->value("text", "") != text || reply["result"].value("isError", false))
            die("tools/call: the reply does not echo \"" + text + "\": " + reply.dump());
        return t1 - t0;
    }
};

// A client of the calls mode: its own connection and session, opened and
// checked before the warm-up; DELETE when its thread is done.
struct Caller {
    Conn conn;
    Client client;
    std::string prefix;  // "<nonce>/<client>/"

    Caller(const Options& o, std::string p) : conn(o), client(o, conn), prefix(std::move(p)) {
        client.open();
        client.check_tool();
    }
    ~Caller() { client.close(); }
};

int run_calls(const Options& o) {
    std::mt19937_64 rng{std::random_device{}()};
    const std::string nonce = std::to_string(rng() % 1000000000);
    const bench::Timed timed = bench::timed_loop(o.clients, o.warmup, o.calls, [&](int c) {
        auto caller = std::make_shared<Caller>(o, nonce + "/" + std::to_string(c) + "/");
        return [caller](int i, bool warm) {
            return caller->client.call(caller->prefix + (warm ? "w" : "") + std::to_string(i));
        };
    });
    const auto& all = timed.sorted;
    double sum = 0;
    for (int64_t v : all) sum += static_cast<double>(v);
    if (!o.raw.empty()) bench::write_raw(o.raw, all, 1e3, "%.3f\n");
    Json out = {{"clients", o.clients},
                {"calls", all.size()},
                {"seconds", timed.seconds},
                {"per_second", static_cast<double>(all.size()) / timed.seconds},
                {"p50_us", bench::percentile(all, 50, 1e3)},
                {"p90_us", bench::percentile(all, 90, 1e3)},
                {"p99_us", bench::percentile(all, 99, 1e3)},
                {"max_us", static_cast<double>(all.back()) / 1e3},
                {"mean_us", sum / static_cast<double>(all.size()) / 1e3}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
}

int run_sessions(const Options& o) {
    std::vector<std::string> ids(o.sessions);
    std::atomic<int> next{0};
    const int64_t t0 = now_ns();
    std::vector<std::thread> threads;
    for (int c = 0; c < o.clients; ++c) {
        threads.emplace_back([&] {
            Conn conn(o);
            for (int i; (i = next.fetch_add(1)) < o.sessions;) {
                // A Client per session, all on this thread's connection.
                Client client(o, conn);
                client.open();
                ids[i] = client.session;
            }
        });
    }
    for (auto& t : threads) t.join();
    const double seconds = static_cast<double>(now_ns() - t0) / 1e9;
    std::ofstream f(o.ids);
    for (const auto& id : ids) f << id << "\n";
    if (!f.flush()) die("cannot write " + o.ids);
    std::printf("%s\n", Json{{"sessions", ids.size()}, {"seconds", seconds}}.dump().c_str());
    return 0;
}

int run_ping(const Options& o) {
    std::vector<std::string> ids;
    {
        std::ifstream f(o.ids);
        for (std::string line; std::getline(f, line);)
            if (!line.empty()) ids.push_back(line);
    }
    if (ids.empty()) die("no session ids in " + o.ids);
    std::atomic<size_t> next{0};
    std::atomic<int> alive{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < o.clients; ++c) {
        threads.emplace_back([&] {
            Conn conn(o);
            for (size_t i; (i = next.fetch_add(1)) < ids.size();) {
                Reply r;
                std::string why;
                std::string body = R"({"jsonrpc":"2.0","id":)" + std::to_string(i + 1) + R"(,"method":"ping"})";
                if (!conn.post(body, ids[i], kVersion, r, why)) die("ping: " + why);
                if (r.status == 404) continue;  // gone
                Json reply = rpc_reply(r, Json(static_cast<long long>(i + 1)), "ping");
                if (reply.contains("result")) ++alive;
            }
        });
    }
    for (auto& t : threads) t.join();
    std::printf("%s\n", Json{{"sessions", ids.size()}, {"alive", alive.load()}}.dump().c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    bench::program = "mcp_load";
    bench::usage = kUsage;
    const Options o = parse(argc, argv);
    if (o.mode == "calls") return run_calls(o);
    if (o.mode == "sessions") return run_sessions(o);
    return run_ping(o);
}
