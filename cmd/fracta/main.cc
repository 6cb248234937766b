// fracta — the front door: client verbs over the control plane's HTTP API,
// and dispatch of other verbs to the sibling binaries (git style).
#include "front/tool.h"

int main(int argc, char** argv) { return fracta::tool_main(fracta::front::tool(), argc, argv); }
