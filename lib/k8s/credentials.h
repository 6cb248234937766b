// credentials.h — the bearer token and client certificate a request carries,
// kept fresh: a token file is re-read when it changes (projected service
// account tokens rotate), an exec plugin (ExecCredential) is run when its
// credential is missing or past its expirationTimestamp and cached until
// then. After a 401 the caller calls invalidate() and tries once more with
// what current() gives next.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/time.h"
#include "k8s/config.h"

namespace fracta::k8s {

struct Auth {
    std::string token;                 // "" : no Authorization header
    std::string cert_pem, key_pem;     // "" : no client certificate
};

// What an exec plugin printed, read: the credential and when it expires.
struct ExecCredential {
    Auth auth;  // cert_pem/key_pem empty when the plugin gave a token only
    std::optional<Timestamp> expires;
};

// Read an exec plugin's stdout (an ExecCredential of `api_version`); errors
// are failures beginning with `what` (the plugin, for messages).
Result<ExecCredential> parse_exec_credential(std::string_view out, const std::string& api_version,
                                             const std::string& what);

class Credentials {
public:
    using Clock = std::function<Timestamp()>;
    explicit Credentials(const Config& c, Clock clock = now);

    // What to send now. Errors: the token file is unreadable, the exec plugin
    // is missing, failed or printed something that is not an ExecCredential.
    Result<Auth> current();

    // Forget a credential the server refused (401). True when asking again
    // may give a different one (a token file or an exec plugin).
    bool invalidate();

    // Exec plugin runs so far (diagnostics).
    int exec_runs() const { return exec_runs_; }

private:
    Status run_exec();
    Status reread_token_file();

    Config config_;
    Clock clock_;
    Auth auth_;
    bool have_ = false;
    std::optional<Timestamp> expires_;  // exec credentials only
    struct FileStamp {
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = -1;
        timespec mtime{};
    } stamp_;
    int exec_runs_ = 0;
};

}  // namespace fracta::k8s
