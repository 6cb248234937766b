// base64.h — standard base64 (RFC 4648, '+' '/' and '=' padding), for the
// `-data` fields of kubeconfigs, Secret values and ExecCredential data.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace fracta {

std::string base64_encode(std::string_view bytes);

// Decodes padded or unpadded input; whitespace (line breaks in PEM-like
// blocks) is skipped. Any other character outside the alphabet, or a
// dangling single character, is a usage error.
Result<std::string> base64_decode(std::string_view text);

}  // namespace fracta
