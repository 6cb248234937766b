// fracta-spawn-k8s — sessions as Kubernetes Jobs and Pods.
#include "provider/k8s.h"

int main(int argc, char** argv) { return fracta::tool_main(fracta::provider::k8s_tool(), argc, argv); }
