// tool.h — the fracta-init binary as a Tool (base/tool.h): its option table,
// operations and exit statuses; cmd/fracta-init/main.cc runs it.
#pragma once

#include "base/tool.h"

namespace fracta::init {

const Tool& tool();

}  // namespace fracta::init
