// exposure.h — secure by default: whether a daemon may listen where it was
// told to with the token it holds. fracta-cp's API runs any command as its
// agents (the shell runtime), so a listener other hosts can reach must carry
// a strong bearer token, or be opened on purpose (`--insecure-listen`,
// `*.insecure_listen: true`). fracta-gw is judged by the control-plane token
// it calls with: without a strong one, the control plane it fronts is open.
#pragma once

#include <string>

#include "base/result.h"

namespace fracta::config {

// True when `listen` ("127.0.0.1:9090", "[::1]:0", "localhost:80") binds a
// loopback address only; ":9090", "0.0.0.0:…", "[::]:…", any other host or
// name is reachable from elsewhere.
bool loopback_listen(const std::string& listen);

// Why `token` is not good enough to guard a listener other hosts reach ("" =
// it is): empty; a known placeholder (contains change-me, changeme,
// replace-me, placeholder, example, secret, password, dummy, your-token,
// xxxx, …, in any case); shorter than 32 characters; fewer than 8 distinct
// characters; or any whitespace or control character in it.
std::string weak_token_reason(const std::string& token);

// The start-up check of one listener. Loopback, or a strong token: OK. Else,
// with `insecure` set: OK, and `warning` says what is open (the daemon logs it
// on every start). Else a usage error (exit 100):
// "<what> listens on <listen> (not loopback) <reason>; give a strong token
// (openssl rand -hex 32) or --insecure-listen".
Status check_listen_exposure(const std::string& what, const std::string& listen, const std::string& token,
                             bool insecure, std::string& warning);

}  // namespace fracta::config
