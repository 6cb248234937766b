// fuzz_kubeconfig — k8s::from_kubeconfig, as fracta-spawn-k8s, fracta-events
// (k8s:) and fracta-reap read a kubeconfig: contexts, clusters, users, exec
// plugins. The first line of the input names the context to pick (empty:
// current-context). Files the kubeconfig names are looked up under a
// directory that does not exist, so only the parser is exercised.
#include <cstdint>
#include <optional>
#include <string>

#include "k8s/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    auto nl = input.find('\n');
    std::string context = nl == std::string::npos ? "" : input.substr(0, nl);
    std::string text = nl == std::string::npos ? input : input.substr(nl + 1);
    auto env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "HOME") return std::string("/nonexistent-fuzz-home");
        return std::nullopt;
    };
    (void)fracta::k8s::from_kubeconfig(text, "/nonexistent-fuzz/kubeconfig", context, env);
    return 0;
}
