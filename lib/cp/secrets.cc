#include "cp/secrets.h"

#include <cstdlib>

#include "base/io.h"
#include "proc/run.h"

namespace fracta::cp {
namespace {

// Keys come with a trailing newline when written by `echo` or a helper.
std::string chomp(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

Result<std::string> read_one(const std::string& name, const config::SecretSource& src, const std::string& root) {
    const std::string what = "secret " + name;
    if (!src.env.empty()) {
        const char* value = std::getenv(src.env.c_str());
        if (!value || !*value) return failure(what + ": " + src.env + " is not set in fracta-cp's environment");
        return std::string(value);
    }
    if (!src.file.empty()) {
        std::string path = src.file[0] == '/' ? src.file : root + "/" + src.file;
        auto text = io::read_file(path, 64 * 1024);
        if (!text.ok()) return failure(what + ": " + text.error().message);
        return chomp(*text);
    }
    if (!src.command.empty()) {
        proc::Command c = proc::shell(src.command);
        c.cwd = root;
        c.max_output = 64 * 1024;
        FRACTA_TRY_ASSIGN(outcome, proc::run(c));
        if (!outcome.ok()) {  // its stderr may say why; its stdout may hold a half key, so never that
            std::string err = outcome.err.substr(0, outcome.err.find('\n'));
            std::string why = outcome.timed_out ? "timed out" : "exit " + std::to_string(outcome.exit_code);
            return failure(what + ": command failed (" + why + ")" + (err.empty() ? "" : ": " + err));
        }
        return chomp(outcome.out);
    }
    return src.value;
}

}  // namespace

Result<SessionSecrets> read_secrets(const config::SecretEnv& secrets, const std::string& root, bool pod_reads_secrets) {
    SessionSecrets out;
    for (const auto& [name, src] : secrets) {
        if (!src.secret.empty()) {
            if (pod_reads_secrets) {
                out.refs[name] = {src.secret, src.secret_key};
                continue;
            }
            if (src.env.empty() && src.file.empty() && src.command.empty())
                return failure("secret " + name + ": Secret " + src.secret +
                               " is read by agents' pods on the kubernetes backend only; give env, file or command too");
        }
        FRACTA_TRY_ASSIGN(value, read_one(name, src, root));
        if (value.empty()) return failure("secret " + name + ": empty");
        out.values[name] = std::move(value);
    }
    return out;
}

}  // namespace fracta::cp
