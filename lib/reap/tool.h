// tool.h — the fracta-reap binary as a Tool (base/tool.h): its option table,
// operations and exit statuses; cmd/fracta-reap/main.cc runs it.
#pragma once

#include "base/tool.h"

namespace fracta::reap {

const Tool& tool();

}  // namespace fracta::reap
