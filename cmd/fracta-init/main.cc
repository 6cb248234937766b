// fracta-init — scaffold a project for one deployment mode (local,
// docker-compose, k8s) from the templates built into the binary, or print the
// k8s manifests / compose file (spec/init-and-reap.md).
#include "init/tool.h"

int main(int argc, char** argv) { return fracta::tool_main(fracta::init::tool(), argc, argv); }
