// diag.h — diagnostics for the binaries: the one-line error format and the
// program name every message starts with.
//
// The library never prints; mains use these to report a failed Result as
// `fracta-x: error: <what>: <why>` on stderr and to pick the exit status.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace fracta::diag {

// Set once by main (from the binary's name, not argv[0]).
void set_program(std::string_view name);
const std::string& program();

// One stderr line: "<program>: error: <message>". Newlines in the message are
// replaced by spaces so that each diagnostic stays one line.
void error(std::string_view message);
void warning(std::string_view message);

// Print the error and return its exit status: `return diag::report(r.error());`
int report(const Error& error);

}  // namespace fracta::diag
