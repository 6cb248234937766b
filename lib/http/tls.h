// tls.h — HTTPS for fracta's servers (http/server.h): the certificate, key and
// optional client CA a listener serves with, read from PEM files, and whether
// this build can serve TLS at all.
//
// The dynamic build uses Debian's libmicrohttpd, built with GnuTLS. The
// static build compiles libmicrohttpd itself without TLS: GnuTLS's static
// archive needs p11-kit, which Debian ships only as a shared library. There
// tls_available() is false and a Server asked for TLS refuses to start.
#pragma once

#include <string>

#include "base/result.h"

struct MHD_Connection;

namespace fracta::http {

struct TlsCredentials {
    std::string cert_pem;       // the server's certificate chain (leaf first)
    std::string key_pem;        // its private key
    std::string client_ca_pem;  // set: every request needs a client certificate signed by one of these CAs
    bool enabled() const { return !cert_pem.empty(); }
};

// Whether servers of this build can speak TLS (libmicrohttpd with GnuTLS).
bool tls_available();

// The three files read (client_ca_file may be empty). A missing or
// unreadable file, or one holding no PEM block, is a usage error naming it.
// Whether the certificate and key are valid and match is found when a server
// starts with them (Server::listen_tcp, Server::set_tls).
Result<TlsCredentials> load_tls_files(const std::string& cert_file, const std::string& key_file,
                                      const std::string& client_ca_file);

// A CA bundle for clients (FRACTA_CA_FILE, *.ca_file): the file's PEM text,
// or a usage error naming it.
Result<std::string> load_ca_file(const std::string& path);

namespace detail {
// Why the client of a TLS connection has no certificate its server's client
// CA vouches for ("" = it has one); for servers with a client CA only.
std::string client_certificate_problem(struct ::MHD_Connection* c);
}  // namespace detail

}  // namespace fracta::http
