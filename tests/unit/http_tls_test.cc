// http::Server over TLS (certificates made here with openssl): a client
// trusting the CA is served, one trusting another CA is refused; set_tls
// gives new connections the new certificate while an open connection keeps
// its own, and a certificate whose key does not match is refused with the old
// one still served; a client CA makes every request show a certificate it
// signed.
#include <catch2/catch.hpp>

#include "http/client.h"
#include "http/server.h"
#include "http/tls.h"
#include "support.h"

using namespace fracta;
using namespace fracta::http;
using fracta::test::ok;
using fracta::test::slurp;

namespace {

// Two CAs (a, b), a server certificate for 127.0.0.1 from each, and a client
// certificate from a; made once per run (key generation is slow).
const std::string& pki() {
    static const std::string dir = [] {
        std::string d = test::temp_dir();
        test::sh(
            d,
            "set -e\n"
            "for ca in a b; do\n"
            "  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $ca.key -out $ca.pem "
            "-days 2 -subj /CN=ca-$ca 2>/dev/null\n"
            "  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server-$ca.key "
            "-out server-$ca.csr -subj /CN=server-$ca 2>/dev/null\n"
            "  printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext\n"
            "  openssl x509 -req -in server-$ca.csr -CA $ca.pem -CAkey $ca.key -CAcreateserial -out server-$ca.pem "
            "-days 2 -extfile san.ext 2>/dev/null\n"
            "done\n"
            "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout client.key -out client.csr "
            "-subj /CN=client 2>/dev/null\n"
            "openssl x509 -req -in client.csr -CA a.pem -CAkey a.key -CAcreateserial -out client.pem -days 2 "
            "2>/dev/null\n");
        return d;
    }();
    return dir;
}

std::string file(const std::string& name) {
    return slurp(pki() + "/" + name);
}

TlsCredentials server_of(const std::string& ca) {
    return {file("server-" + ca + ".pem"), file("server-" + ca + ".key"), ""};
}

Response hello(const Request&) {
    return Response::json(200, {{"hello", true}});
}

Client client_trusting(const Server& s, const std::string& ca) {
    ClientOptions o;
    o.ca_pem = file(ca + ".pem");
    return Client("https://" + s.address(), o);
}

}  // namespace

TEST_CASE("a TLS server is verified against the client's CA, and refused by a client trusting another", "[http][tls]") {
    REQUIRE(tls_available());
    ServerOptions o;
    o.tls = server_of("a");
    auto s = ok(Server::listen_tcp("127.0.0.1:0", hello, o));
    auto good = client_trusting(*s, "a").get("/");
    REQUIRE(good.ok());
    CHECK(good->status == 200);
    auto bad = client_trusting(*s, "b").get("/");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().kind == ErrorKind::Failed);
    CHECK(bad.error().message.find("certificate") != std::string::npos);
    // plain HTTP on a TLS port gets no answer
    auto plain = Client("http://" + s->address()).get("/");
    CHECK((!plain.ok() || plain->status != 200));
}

TEST_CASE("set_tls: new connections get the new certificate, open ones keep theirs; a bad one keeps the old",
          "[http][tls]") {
    ServerOptions o;
    o.tls = server_of("a");
    auto s = ok(Server::listen_tcp("127.0.0.1:0", hello, o));
    Client kept = client_trusting(*s, "a");
    REQUIRE(kept.get("/").ok());  // a keep-alive connection under a's certificate

    // a certificate with another's key: refused, a's still served
    auto mismatched = s->set_tls({file("server-b.pem"), file("server-a.key"), ""});
    REQUIRE_FALSE(mismatched.ok());
    CHECK(client_trusting(*s, "a").get("/").ok());
    CHECK_FALSE(client_trusting(*s, "b").get("/").ok());

    REQUIRE(s->set_tls(server_of("b")).ok());
    CHECK(client_trusting(*s, "b").get("/").ok());
    CHECK_FALSE(client_trusting(*s, "a").get("/").ok());
    auto again = kept.get("/");  // the open connection is still a's
    REQUIRE(again.ok());
    CHECK(again->status == 200);
    CHECK(s->connections_accepted() >= 4);
}

TEST_CASE("with a client CA, a request needs a certificate that CA signed", "[http][tls]") {
    ServerOptions o;
    o.tls = server_of("a");
    o.tls.client_ca_pem = file("a.pem");
    auto s = ok(Server::listen_tcp("127.0.0.1:0", hello, o));
    auto none = client_trusting(*s, "a").get("/");
    REQUIRE(none.ok());
    CHECK(none->status == 403);
    CHECK(none->body.find("no client certificate") != std::string::npos);
    ClientOptions co;
    co.ca_pem = file("a.pem");
    co.client_cert_pem = file("client.pem");
    co.client_key_pem = file("client.key");
    auto with = Client("https://" + s->address(), co).get("/");
    REQUIRE(with.ok());
    CHECK(with->status == 200);
    co.client_cert_pem = file("server-b.pem");  // b's: not trusted for clients here
    co.client_key_pem = file("server-b.key");
    auto foreign = Client("https://" + s->address(), co).get("/");
    REQUIRE(foreign.ok());
    CHECK(foreign->status == 403);
}

TEST_CASE("load_tls_files names the file at fault", "[http][tls]") {
    auto missing = load_tls_files(pki() + "/nope.pem", pki() + "/server-a.key", "");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().kind == ErrorKind::Usage);
    CHECK(missing.error().message.find("tls.cert_file: ") == 0);
    CHECK(missing.error().message.find(pki() + "/nope.pem") != std::string::npos);
    auto not_pem = load_tls_files(pki() + "/san.ext", pki() + "/server-a.key", "");
    REQUIRE_FALSE(not_pem.ok());
    CHECK(not_pem.error().message.find("no PEM block") != std::string::npos);
    CHECK(ok(load_tls_files(pki() + "/server-a.pem", pki() + "/server-a.key", pki() + "/a.pem")).client_ca_pem ==
          file("a.pem"));
}
