// reserved_env.h — the environment variables fracta sets for every agent
// itself (its task, its gateway URL and token): a configured runtime's env
// cannot override them, and a spawn request naming one is refused.
#pragma once

#include <string_view>

namespace fracta::runtime {

bool is_reserved_env(std::string_view name);

}  // namespace fracta::runtime
