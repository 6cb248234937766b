// fracta-cp — the control plane: the API, the durable queue and its workers.
#include "cp/tool.h"

int main(int argc, char** argv) { return fracta::tool_main(fracta::cp::tool(), argc, argv); }
