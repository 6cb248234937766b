// fuzz_config — fracta.yaml: config::parse (YAML, ${VAR} expansion, every
// section's validation), as every tool loads it. The environment is a fixed
// table so runs are repeatable.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "HOME") return std::string("/home/fuzz");
        if (name == "TOKEN") return std::string("s3cret");
        return std::nullopt;
    };
    auto config = fracta::config::parse(text, "/fuzz/fracta.yaml", env);
    if (config.ok()) (void)fracta::config::state_store_url(*config);
    return 0;
}
