// fracta-events — the event log, and a Gas City events provider.
#include "events/tool.h"

int main(int argc, char** argv) { return fracta::tool_main(fracta::events::tool(), argc, argv); }
