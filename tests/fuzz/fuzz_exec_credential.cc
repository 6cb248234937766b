// fuzz_exec_credential — what a kubeconfig exec plugin prints (an
// ExecCredential), read by k8s::parse_exec_credential as Credentials does
// after running the plugin. Checks: a credential accepted has a token or a
// certificate and key together.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "k8s/credentials.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view out(reinterpret_cast<const char*>(data), size);
    for (const char* version : {"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"}) {
        auto cred = fracta::k8s::parse_exec_credential(out, version, "exec credential plugin fuzz");
        if (!cred.ok()) continue;
        const auto& a = cred->auth;
        if (a.token.empty() && a.cert_pem.empty()) std::abort();
        if (a.cert_pem.empty() != a.key_pem.empty()) std::abort();
    }
    return 0;
}
