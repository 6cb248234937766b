// sha256.h — SHA-256 (FIPS 180-4), constant-time comparison and random tokens.
//
// What it is for: the gateway's bearer tokens are never stored in clear; the
// store keeps only their SHA-256 hash (hex), and a presented token is hashed
// and compared with constant_time_equal so the comparison's duration does not
// tell an attacker how much of a guess was right. random_token_hex mints new
// tokens from the kernel's random source.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace fracta {

// The SHA-256 digest of `data`, as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

// True when a and b hold the same bytes. The time taken depends only on the
// lengths, never on the position of the first difference; strings of
// different lengths return false at once (lengths are not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

// `bytes` random bytes from getrandom(2) (the /dev/urandom pool), as
// 2 * bytes lower-case hex digits. Fails (Temporary) only if the kernel
// refuses to give randomness.
Result<std::string> random_token_hex(size_t bytes);

}  // namespace fracta
