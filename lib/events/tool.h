// tool.h — the fracta-events binary as a Tool (base/tool.h): its option table,
// operations and exit statuses; cmd/fracta-events/main.cc runs it.
#pragma once

#include "base/tool.h"

namespace fracta::events {

const Tool& tool();

}  // namespace fracta::events
