#include "base/diag.h"

#include <unistd.h>

#include <string>

namespace fracta::diag {
namespace {

std::string& program_name() {
    static std::string name = "fracta";
    return name;
}

void emit(std::string_view level, std::string_view message) {
    std::string line = program_name();
    line += ": ";
    line += level;
    line += ": ";
    for (char c : message) line += (c == '\n' || c == '\r') ? ' ' : c;
    line += '\n';
    // One write(2) so concurrent processes never interleave within a line.
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}

}  // namespace

void set_program(std::string_view name) { program_name() = std::string(name); }
const std::string& program() { return program_name(); }
void error(std::string_view message) { emit("error", message); }
void warning(std::string_view message) { emit("warning", message); }

int report(const Error& e) {
    error(e.message);
    return exit_code(e.kind);
}

}  // namespace fracta::diag
