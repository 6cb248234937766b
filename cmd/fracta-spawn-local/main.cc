// fracta-spawn-local — sessions as supervised local processes.
#include "provider/local.h"

int main(int argc, char** argv) { return fracta::tool_main(fracta::provider::local_tool(), argc, argv); }
