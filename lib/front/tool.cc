// tool.cc — fracta's command line: the global options, then a client verb
// (run) or a dispatch verb (exec_sibling).
#include "front/tool.h"

#include <filesystem>

#include "front/front.h"

namespace fracta::front {
namespace {

Result<int> dispatch(const Call& call) {
    std::error_code ec;
    std::string cwd = std::filesystem::current_path(ec).string();
    if (ec) return failure("working directory: " + ec.message());
    FRACTA_TRY_ASSIGN(options, global_options(call.args, cwd));
    if (is_dispatch_verb(call.op)) return exec_sibling(call.op, call.words, options);
    FRACTA_TRY(run(call.op, call.words, options, call.io));
    return kExitOk;
}

}  // namespace

const Tool& tool() {
    static const Tool t{
        .command = command(),
        .style = OpStyle::First,
        .op_noun = "verb",
        .exits = {{ErrorKind::Failed, "failed or not found"},
                  {ErrorKind::Usage, "bad usage"},
                  {ErrorKind::Temporary, "control plane unreachable or timeout (retry)"},
                  {ErrorKind::NotFound, "sibling binary not installed"}},
        .run = dispatch,
    };
    return t;
}

}  // namespace fracta::front
