// fuzz_claude — claude's output, read by Runtime::parse (see runtime.h).
#include "runtime.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return fuzz_runtime("claude", data, size);
}
