// tool.h — the fracta-cp binary as a Tool (base/tool.h): its option table,
// operations and exit statuses; cmd/fracta-cp/main.cc runs it.
#pragma once

#include "base/tool.h"

namespace fracta::cp {

const Tool& tool();

}  // namespace fracta::cp
