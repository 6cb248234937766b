#include "http/tls.h"

#include <microhttpd.h>
#ifdef FRACTA_HAVE_GNUTLS
#include <gnutls/gnutls.h>
#endif

#include "base/io.h"

namespace fracta::http {

namespace {

constexpr size_t kMaxPem = 1 << 20;

Result<std::string> read_pem(const std::string& what, const std::string& path) {
    auto text = io::read_file(path, kMaxPem);
    if (!text.ok()) return usage_error(what + ": " + text.error().message);  // the message names the file
    if (text->find("-----BEGIN ") == std::string::npos) return usage_error(what + " " + path + ": no PEM block in it");
    return text;
}

}  // namespace

bool tls_available() {
    return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

Result<TlsCredentials> load_tls_files(const std::string& cert_file, const std::string& key_file,
                                      const std::string& client_ca_file) {
    TlsCredentials c;
    if (cert_file.empty() || key_file.empty()) return usage_error("tls: cert_file and key_file go together");
    FRACTA_TRY_ASSIGN(cert, read_pem("tls.cert_file", cert_file));
    FRACTA_TRY_ASSIGN(key, read_pem("tls.key_file", key_file));
    c.cert_pem = std::move(cert);
    c.key_pem = std::move(key);
    if (!client_ca_file.empty()) {
        FRACTA_TRY_ASSIGN(ca, read_pem("tls.client_ca_file", client_ca_file));
        c.client_ca_pem = std::move(ca);
    }
    return c;
}

Result<std::string> load_ca_file(const std::string& path) {
    return read_pem("CA file", path);
}

std::string detail::client_certificate_problem(MHD_Connection* c) {
#ifdef FRACTA_HAVE_GNUTLS
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!info || !info->tls_session) return "not a TLS connection";
    auto session = static_cast<gnutls_session_t>(info->tls_session);
    // libmicrohttpd only asks for the certificate (GNUTLS_CERT_REQUEST) and
    // leaves the verdict to us: checked against the trust list it was given
    // (MHD_OPTION_HTTPS_MEM_TRUST), validity dates included.
    unsigned status = 0;
    int rc = gnutls_certificate_verify_peers2(session, &status);
    if (rc == GNUTLS_E_NO_CERTIFICATE_FOUND) return "no client certificate";
    if (rc != GNUTLS_E_SUCCESS) return std::string("client certificate: ") + gnutls_strerror(rc);
    if (status != 0) {
        gnutls_datum_t text{};
        std::string why = "client certificate not trusted";
        if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0) {
            why += std::string(": ") + reinterpret_cast<const char*>(text.data);
            gnutls_free(text.data);
        }
        return why;
    }
    return "";
#else
    (void)c;
    return "client certificates are not supported by this build";
#endif
}

}  // namespace fracta::http
