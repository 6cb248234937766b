// Client::upgrade against the real server: the 101 and the bytes after it,
// and an answer that does not switch, read the way curl reads any other.
#include <poll.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "http/client.h"
#include "http/server.h"
#include "support.h"

using namespace fracta;
using namespace fracta::http;
using fracta::test::ok;

namespace {

std::unique_ptr<Server> upgrade_server() {
    ServerOptions o;
    o.thread_per_connection = true;
    auto handler = [](const Request& req) {
        if (req.header("upgrade") != "echo") {
            Response r = Response::text(426, "echo only\n");
            r.headers = {{"Upgrade", "echo"}, {"X-Twice", "a"}, {"x-twice", "b"}};
            return r;
        }
        Response r;
        r.status = 101;
        r.headers = {{"Upgrade", "echo"}};
        // Echo upper-cased until the client closes.
        r.upgraded = [](int fd, std::string_view early) {
            std::string got(early);
            for (;;) {
                for (char& c : got) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
                if (!got.empty() && ::write(fd, got.data(), got.size()) < 0) return;
                char buf[256];
                struct pollfd p = {fd, POLLIN, 0};
                ::poll(&p, 1, 5000);  // the server's sockets do not block
                ssize_t n = ::read(fd, buf, sizeof buf);
                if (n <= 0) return;
                got.assign(buf, static_cast<size_t>(n));
            }
        };
        return r;
    };
    return ok(Server::listen_tcp("127.0.0.1:0", handler, o));
}

std::string receive_some(ByteStream& s) {
    for (int i = 0; i < 50; ++i) {
        struct pollfd p = {s.fd(), POLLIN, 0};
        ::poll(&p, 1, 100);
        auto got = ok(s.receive());
        if (got && !got->empty()) return *got;
    }
    return "";
}

}  // namespace

TEST_CASE("an upgrade switches on 101 and the connection then carries raw bytes", "[http]") {
    auto server = upgrade_server();
    Client client("http://" + server->address());
    Upgrade up = ok(client.upgrade("/v1/echo", "echo", {}));
    CHECK(up.response.status == 101);
    CHECK(up.response.header("upgrade") == "echo");
    REQUIRE(up.stream);
    ok(up.stream->send("hello"));
    CHECK(receive_some(*up.stream) == "HELLO");
}

TEST_CASE("an answer that does not switch comes back whole, its head read like any other", "[http]") {
    auto server = upgrade_server();
    Client client("http://" + server->address());
    Upgrade up = ok(client.upgrade("/v1/echo", "other", {}));
    CHECK(up.stream == nullptr);
    CHECK(up.response.status == 426);
    CHECK(up.response.body == "echo only\n");
    CHECK(up.response.header("x-twice") == "a, b");
    CHECK(up.response.header("content-type") == "text/plain; charset=utf-8");
}
