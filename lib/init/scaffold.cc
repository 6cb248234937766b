// scaffold.cc — writing a mode's plan into a project: the one-mode-per-project
// check, skip/force, and the .fracta/ and .gitignore entries of local and
// docker-compose modes.
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/io.h"
#include "config/yaml.h"
#include "git/git.h"
#include "init/init.h"

namespace fracta::init {
namespace {

namespace fs = std::filesystem;

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

Result<std::string> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return failure("read " + path + ": cannot open");
    std::ostringstream body;
    body << in.rdbuf();
    return body.str();
}

// Appends the entries .gitignore lacks; true when it changed. Local and
// docker-compose modes keep state and worktrees in the project (compose
// bind-mounts it into the control plane's container), and compose's
// deployment/.env holds its token.
Result<bool> ignore_entries(const std::string& root, Mode mode) {
    const std::string path = root + "/.gitignore";
    std::string text;
    if (exists(path)) {
        FRACTA_TRY_ASSIGN(old, read_text(path));
        text = std::move(old);
    }
    std::istringstream in(text);
    std::vector<std::string> have;
    for (std::string line; std::getline(in, line);) have.push_back(line);
    std::string add;
    std::vector<std::string> entries = {".fracta/", ".worktrees/"};
    if (mode == Mode::Compose) entries.push_back("deployment/.env");
    for (const auto& entry : entries)
        if (std::find(have.begin(), have.end(), entry) == have.end()) add += entry + "\n";
    if (add.empty()) return false;
    if (!text.empty() && text.back() != '\n') text += "\n";
    FRACTA_TRY(io::write_file_atomic(path, text + add, 0644, false));
    return true;
}

// Local mode's fracta.yaml names the repository's current branch as the
// base of new agents, not the template's `main` (a repository on `master`
// would fail its first spawn). With HEAD detached it is left empty: fracta
// then takes the branch checked out at each spawn.
void use_current_branch(std::vector<Planned>& files, const std::string& root) {
    static const std::string kLine = "  default_base_branch: main\n";
    auto config = std::find_if(files.begin(), files.end(), [](const Planned& f) { return f.target == "fracta.yaml"; });
    if (config == files.end()) return;
    size_t at = config->content.find(kLine);
    if (at == std::string::npos) return;  // a --source template that says otherwise
    auto branch = git::current_branch(root);
    std::string value = branch.ok() ? *branch : "";
    bool plain = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '/' || c == '-';
    });
    config->content.replace(at, kLine.size(), "  default_base_branch: " + (plain ? value : Json(value).dump()) + "\n");
}

}  // namespace

Result<std::optional<Mode>> detect(const std::string& root) {
    std::error_code ec;
    if (fs::is_directory(root + "/deployment/k8s/manifests", ec)) return std::optional<Mode>(Mode::K8s);
    if (exists(root + "/deployment/docker-compose.yml")) return std::optional<Mode>(Mode::Compose);
    const std::string config = root + "/fracta.yaml";
    if (!exists(config)) return std::optional<Mode>();
    // Only the backend matters here: unset variables must not stop detection.
    auto no_env = [](const std::string&) { return std::optional<std::string>(""); };
    FRACTA_TRY_ASSIGN(doc, yaml::load_file(config, no_env));
    const Json& root_json = doc.root;
    if (root_json.is_object() && root_json.contains("runtime") && root_json["runtime"].is_object()) {
        const Json& backend = root_json["runtime"].value("backend", Json());
        if (backend.is_string() && backend.get<std::string>() == "kubernetes") return std::optional<Mode>(Mode::K8s);
    }
    return std::optional<Mode>(Mode::Local);
}

Error conflict_error(Mode existing, Mode wanted) {
    return failure(std::string("this project is already scaffolded as ") + mode_name(existing) +
                   "; cannot re-init as " + mode_name(wanted) + " without losing customizations.");
}

std::vector<std::string> conflict_hints(Mode existing, Mode wanted) {
    return {std::string("  start over as ") + mode_name(wanted) +
                ": rm -rf deployment/ fracta.yaml .fracta/ && fracta-init --scaffold " + mode_name(wanted),
            std::string("  or keep ") + mode_name(existing) + ": fracta-init --scaffold " + mode_name(existing)};
}

Json Report::to_json() const {
    return Json{{"mode", mode_name(mode)}, {"written", written}, {"skipped", skipped}};
}

std::string Report::to_text() const {
    std::string out = std::string("fracta initialized (") + mode_name(mode) + "): " +
                      std::to_string(written.size()) + " written, " + std::to_string(skipped.size()) + " skipped\n";
    for (const auto& p : written) out += "  written " + p + "\n";
    for (const auto& p : skipped) out += "  skipped " + p + "\n";
    return out;
}

Result<Report> scaffold(const Source& source, const Options& options) {
    const std::string& root = options.root;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return usage_error("--dir: " + root + " is not a directory");
    if (options.mode == Mode::Local) {
        auto top = git::toplevel(root);
        if (!top.ok()) return usage_error("local mode needs a git repository: " + root + " is not in one (git init first)");
    }
    FRACTA_TRY_ASSIGN(files, plan(source, options.mode, options.settings));
    if (options.mode == Mode::Local) use_current_branch(files, root);
    FRACTA_TRY_ASSIGN(existing, detect(root));
    if (existing && *existing != options.mode) return conflict_error(*existing, options.mode);

    if (options.force) {
        size_t overwrite = std::count_if(files.begin(), files.end(),
                                         [&](const Planned& f) { return exists(root + "/" + f.target); });
        if (overwrite > 0 && !options.yes) {
            if (!options.confirm)
                return usage_error("--force would overwrite " + std::to_string(overwrite) +
                                   " existing files: confirm with --yes (no terminal to ask on)");
            if (!options.confirm(overwrite)) return failure("--force: not confirmed; nothing written");
        }
    }

    Report report;
    report.mode = options.mode;
    for (const auto& f : files) {
        const std::string path = root + "/" + f.target;
        if (exists(path) && !options.force) {
            report.skipped.push_back(f.target);
            continue;
        }
        FRACTA_TRY(io::make_dirs(fs::path(path).parent_path().string()));
        FRACTA_TRY(io::write_file_atomic(path, f.content, f.mode, false));
        // The temp file's mode went through the umask; scripts must stay 0755.
        if (::chmod(path.c_str(), static_cast<mode_t>(f.mode)) != 0)
            return failure("chmod " + path + ": " + io::errno_text(errno));
        report.written.push_back(f.target);
    }
    if (options.mode == Mode::Local) {
        const std::string logs = root + "/.fracta/logs";
        if (fs::is_directory(logs, ec)) {
            report.skipped.push_back(".fracta/logs/");
        } else {
            FRACTA_TRY(io::make_dirs(logs));
            report.written.push_back(".fracta/logs/");
        }
    }
    if (options.mode == Mode::Local || options.mode == Mode::Compose) {
        FRACTA_TRY_ASSIGN(changed, ignore_entries(root, options.mode));
        (changed ? report.written : report.skipped).push_back(".gitignore");
    }
    return report;
}

}  // namespace fracta::init
