// tool.h — the fracta-gw binary as a Tool (base/tool.h): its option table,
// operations and exit statuses; cmd/fracta-gw/main.cc runs it.
#pragma once

#include "base/tool.h"

namespace fracta::gw {

const Tool& tool();

}  // namespace fracta::gw
