// shell.cc — the shell runtime: the contract is a command line run by
// `sh -c` in the workspace (the embedded demo and CI bots use it). No
// workspace files; the gateway URL and token reach it through the
// environment. Batch and stream differ only in stdin: a stream session keeps
// it open for `say`, and with an empty contract is a plain `sh` reading
// commands from it. No resume.
#include "runtime/common.h"

namespace fracta::runtime::detail {
namespace {

constexpr std::string_view kName = "shell";

class Shell final : public Runtime {
public:
    std::string_view name() const override { return kName; }
    bool supports_resume() const override { return false; }

    Files workspace_files(const SessionInfo&, const RuntimeSpec&) const override { return {}; }

    std::string executable(const RuntimeSpec& spec) const override { return program(spec, "sh"); }

    Result<Argv> command(const SessionInfo& session, const RuntimeSpec& spec) const override {
        std::string sh = executable(spec);
        if (session.contract.find_first_not_of(" \t\r\n") == std::string::npos) {
            if (session.mode == Mode::Stream) return Argv{sh};
            return usage_error("runtime shell: task \"" + session.task +
                               "\" has an empty contract (the command line to run)");
        }
        return Argv{sh, "-c", session.contract};
    }

protected:
    RunResult parse_batch(int exit_code, std::string_view output) const override {
        RunResult r;
        r.success = exit_code == 0;
        r.text = tail_text(output);
        if (!r.success) r.error = exit_reason(kName, exit_code);
        return r;
    }
};

}  // namespace

const Runtime& shell() {
    return instance_of<Shell>();
}

}  // namespace fracta::runtime::detail
