// tool.h — the fracta binary as a Tool (base/tool.h): its option table,
// operations and exit statuses; cmd/fracta/main.cc runs it.
#pragma once

#include "base/tool.h"

namespace fracta::front {

const Tool& tool();

}  // namespace fracta::front
