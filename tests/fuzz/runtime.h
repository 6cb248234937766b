// runtime.h — the body of the runtime output targets (fuzz_claude,
// fuzz_codex, fuzz_opencode): Runtime::parse of one CLI's output, as a
// control-plane worker reads a finished run. The first byte gives the exit
// status and the mode (batch output or a stream transcript). Checks the
// result's documented bounds: text at most kMaxOutputTail bytes, an error of
// one line, success with no error.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "runtime/runtime.h"

inline int fuzz_runtime(std::string_view name, const uint8_t* data, size_t size) {
    using namespace fracta::runtime;
    if (size == 0) return 0;
    auto rt = find_runtime(name);
    if (!rt.ok()) std::abort();
    int exit_code = data[0] & 0x7f;
    Mode mode = data[0] & 0x80 ? Mode::Stream : Mode::Batch;
    std::string_view output(reinterpret_cast<const char*>(data) + 1, size - 1);
    RunResult r = (*rt)->parse(exit_code, output, mode);
    if (r.text.size() > kMaxOutputTail) std::abort();
    if (r.error.find('\n') != std::string::npos) std::abort();
    if (r.success && !r.error.empty()) std::abort();
    return 0;
}
