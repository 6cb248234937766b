// local_supervise.cc — `fracta-spawn-local supervise NAME … -- COMMAND`: the
// session supervisor in the foreground (what `start` forks, and the
// entrypoint of agent pods, whose workspace files come from a ConfigMap).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "k8s/objects.h"
#include "k8s/objects_names.h"
#include "base/text.h"
#include "provider/local.h"
#include "provider/supervise_git.h"
#include "session/supervisor.h"
#include "session/workspace.h"

namespace fracta::provider {
namespace {

const cli::Command kSupervise = {
    "supervise",
    "NAME [--foreground] [--control ADDR] [--mode batch|stream] [--workdir DIR] -- COMMAND [ARG…]",
    "Run COMMAND as session NAME under the supervisor, in the foreground (the entrypoint of agent pods).",
    {{"foreground", 0, "", "run in the foreground (always true; accepted for clarity)"},
     {"control", 0, "ADDR", "serve the control API on HOST:PORT (token: $FRACTA_SUPERVISOR_TOKEN)"},
     {"mode", 0, "MODE", "batch (pipes) or stream (a pty); default batch"},
     {"workdir", 0, "DIR", "run the command there"},
     {"state-dir", 0, "DIR", "the session state root"},
     {"lock-fd", 0, "N", "(internal) the session lock, already held"},
     {"ready-fd", 0, "N", "write \"ready\" to this descriptor once the session is up"},
     {"git-url", 0, "URL", "clone this remote into the workdir first (token: $FRACTA_GIT_TOKEN; SSH: $FRACTA_GIT_SSH_KEY, $FRACTA_GIT_KNOWN_HOSTS)"},
     {"git-commit", 0, "SHA", "the commit to check out"},
     {"git-branch", 0, "BRANCH", "the new branch to check it out on"},
     {"git-depth", 0, "N", "fetch N commits of history only"},
     {"git-push", 0, "", "push the branch when the session ends with status 0"},
     {"copy-output", 0, "", "also write the session's output to stdout (in a pod: the container's log)"},
     {"files-from", 0, "DIR", "first restore the workspace files kept in DIR (a mounted ConfigMap)"},
     {"clear-keys", 0, "KEYS", "how a nudge empties the input line: key names, comma-separated (default C-u)"},
     {"submit-keys", 0, "KEYS", "how a nudge submits: key names, comma-separated (default Enter)"}},
    {},
    ""};

// Workspace files shipped in a ConfigMap, one key per file (names encoded by
// k8s::encode_file_key), written into the workdir before the command starts.
// The kubelet's own entries (`..data`, `..2026_…`) start with a dot.
Status restore_files(const std::string& from, const std::string& work_dir) {
    std::map<std::string, std::string> entries;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(from, ec)) {
        const std::string key = e.path().filename().string();
        if (key.empty() || key[0] == '.' || !e.is_regular_file()) continue;  // follows the ConfigMap's symlinks
        std::ifstream in(e.path(), std::ios::binary);
        std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) return usage_error("--files-from: cannot read " + e.path().string());
        entries[key] = std::move(content);
    }
    if (ec) return usage_error("--files-from " + from + ": " + ec.message());
    FRACTA_TRY_ASSIGN(files, k8s::decode_file_keys(entries));
    const std::string root = work_dir.empty() ? std::filesystem::current_path().string() : work_dir;
    return session::write_files(root, files);
}

// --git-*: the pod's git workspace; the token leaves the environment here.
Result<PodGit> git_options(const cli::Args& a) {
    PodGit g;
    auto take = [](const char* name, std::string& into) {
        if (const char* v = std::getenv(name); v && *v) into = v;
        ::unsetenv(name);
    };
    take(k8s::kGitTokenEnv, g.remote.token);
    take(k8s::kGitSshKeyEnv, g.remote.ssh_key);
    take(k8s::kGitKnownHostsEnv, g.remote.known_hosts);
    if (!a.has("git-url")) return g;
    g.remote.url = a.get("git-url");
    g.commit = a.get("git-commit");
    g.branch = a.get("git-branch");
    if (g.commit.empty() || g.branch.empty()) return usage_error("--git-url needs --git-commit and --git-branch");
    if (a.has("git-depth")) {
        FRACTA_TRY_ASSIGN(depth, cli::parse_int("--git-depth", a.get("git-depth")));
        g.depth = static_cast<int>(depth);
    }
    g.push = a.has("git-push");
    return g;
}

std::vector<std::string> split_keys(const std::string& list) {
    std::vector<std::string> keys;
    for (std::string& key : split(list, ','))
        if (!key.empty()) keys.push_back(std::move(key));
    return keys;
}

}  // namespace

Result<int> supervise(const std::vector<std::string>& args, const LocalContext& ctx) {
    // NAME comes first, then options, then "--" and the command.
    if (args.empty() || args[0].rfind("-", 0) == 0)
        return usage_error("supervise: usage: supervise NAME [OPTIONS] -- COMMAND [ARG…]");
    std::vector<std::string> words = {"supervise"};
    words.insert(words.end(), args.begin() + 1, args.end());
    FRACTA_TRY_ASSIGN(a, cli::parse(kSupervise, words));
    if (a.positional().empty()) return usage_error("supervise: no command (put it after --)");
    session::SuperviseOptions o;
    o.name = args[0];
    o.argv = a.positional();
    o.root = a.get("state-dir", ctx.root);
    o.mode = a.get("mode", "batch");
    if (o.mode != "batch" && o.mode != "stream") return usage_error("--mode: use batch or stream");
    o.work_dir = a.get("workdir");
    o.control = a.get("control");
    // The token guards the TCP control API only (a Unix socket is guarded by
    // its file mode), and the session's own command never sees it.
    if (const char* token = std::getenv("FRACTA_SUPERVISOR_TOKEN"); token && *token && !o.control.empty())
        o.control_token = token;
    ::unsetenv("FRACTA_SUPERVISOR_TOKEN");
    FRACTA_TRY_ASSIGN(pod_git, git_options(a));
    if (!o.control.empty() && o.control_token.empty())
        return usage_error("--control needs FRACTA_SUPERVISOR_TOKEN: a TCP control API is never open");
    FRACTA_TRY(cli::int_option(a, "lock-fd", o.lock_fd));
    FRACTA_TRY(cli::int_option(a, "ready-fd", o.ready_fd));
    if (a.has("copy-output")) o.copy_output = true;
    const std::string work_dir = o.work_dir.empty() ? std::filesystem::current_path().string() : o.work_dir;
    FRACTA_TRY(git_prepare(pod_git, work_dir));
    if (a.has("files-from")) FRACTA_TRY(restore_files(a.get("files-from"), o.work_dir));
    if (a.has("clear-keys")) o.nudge_keys.clear = split_keys(a.get("clear-keys"));
    if (a.has("submit-keys")) o.nudge_keys.submit = split_keys(a.get("submit-keys"));
    FRACTA_TRY_ASSIGN(code, session::supervise(o));
    FRACTA_TRY(git_finish(pod_git, work_dir, code));
    return code;
}

}  // namespace fracta::provider
