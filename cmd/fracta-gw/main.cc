// fracta-gw — the MCP gateway: every agent's own tool endpoint (serve), and
// the host's stdio MCP server (stdio).
#include "gw/tool.h"

int main(int argc, char** argv) { return fracta::tool_main(fracta::gw::tool(), argc, argv); }
