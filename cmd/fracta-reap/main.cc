// fracta-reap — reconcile the store with the session provider and remove the
// garbage of ended agents: one pass (--once), or one every DURATION.
#include "reap/tool.h"

int main(int argc, char** argv) { return fracta::tool_main(fracta::reap::tool(), argc, argv); }
