// scaffold.cc — writing a mode's plan into a project: the one-mode-per-project
// check, skip/force, the secret files (random values, never overwritten), and
// the .fracta/ and .gitignore entries.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/io.h"
#include "base/base64.h"
#include "base/sha256.h"
#include "config/exposure.h"
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

bool is_secret_file(const std::string& target) {
    return target.size() >= 4 && target.compare(target.size() - 4, 4, ".env") == 0;
}

bool secret_key(const std::string& key) {
    for (const char* suffix : {"_TOKEN", "_PASSWORD", "_SECRET"}) {
        const std::string s = suffix;
        if (key.size() > s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0) return true;
    }
    return false;
}

// 32 random bytes, base64url without padding: 43 characters, safe in a URL
// (the Postgres DSN) and in an env file, and short enough that kustomize
// does not fold the Secret's base64 over two lines. Drawn again in the rare
// case config/exposure.h would call it weak (letters spelling "todo").
Result<std::string> random_secret() {
    for (;;) {
        FRACTA_TRY_ASSIGN(hex, random_token_hex(32));
        std::string bytes;
        for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
        std::string text = base64_encode(bytes);
        while (!text.empty() && text.back() == '=') text.pop_back();
        for (char& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
        if (config::weak_token_reason(text).empty()) return text;
    }
}

// Fills the empty values of the KEY= lines of a secret file: *_TOKEN,
// *_PASSWORD and *_SECRET get random_secret();
// FRACTA_UID and FRACTA_GID the running user's ids (compose runs the control
// plane as the project's owner). Values already there are kept. Returns
// the keys given a random value.
Result<std::vector<std::string>> fill_secrets(std::string& text) {
    std::istringstream in(text);
    std::string out;
    std::vector<std::string> generated;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '=' && line[0] != '#') {
            const std::string key = line.substr(0, line.size() - 1);
            if (secret_key(key)) {
                FRACTA_TRY_ASSIGN(value, random_secret());
                line += value;
                generated.push_back(key);
            } else if (key == "FRACTA_UID") {
                line += std::to_string(::getuid());
            } else if (key == "FRACTA_GID") {
                line += std::to_string(::getgid());
            }
        }
        out += line + "\n";
    }
    text = std::move(out);
    return generated;
}

// Writes a secret file, or fills the empty values of the one there (never
// replacing a value, --force or not); mode 0600. Adds the keys given random
// values to report.secrets.
Status write_secret_file(const std::string& root, const Planned& f, Report& report) {
    const std::string path = root + "/" + f.target;
    const bool there = exists(path);
    std::string text = f.content;
    if (there) {
        FRACTA_TRY_ASSIGN(old, read_text(path));
        text = std::move(old);
    }
    const std::string before = text;
    FRACTA_TRY_ASSIGN(generated, fill_secrets(text));
    if (there && text == before) {
        report.skipped.push_back(f.target);
        return {};
    }
    FRACTA_TRY(io::make_dirs(fs::path(path).parent_path().string()));
    FRACTA_TRY(io::write_file_atomic(path, text, 0600, false));
    if (::chmod(path.c_str(), 0600) != 0) return failure("chmod " + path + ": " + io::errno_text(errno));
    report.written.push_back(f.target);
    for (const auto& key : generated) report.secrets.push_back(f.target + " " + key);
    return {};
}

// Appends the entries .gitignore lacks; true when it changed. Local and
// docker-compose modes keep state and worktrees in the project (compose
// bind-mounts it into the control plane's container); every mode's secret
// files stay out of git.
Result<bool> ignore_entries(const std::string& root, Mode mode, const std::vector<std::string>& secret_files) {
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
    std::vector<std::string> entries;
    if (mode != Mode::K8s) entries = {".fracta/", ".worktrees/"};
    entries.insert(entries.end(), secret_files.begin(), secret_files.end());
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
    return Json{{"mode", mode_name(mode)}, {"written", written}, {"skipped", skipped}, {"secrets", secrets}};
}

std::string Report::to_text() const {
    std::string out = std::string("fracta initialized (") + mode_name(mode) + "): " +
                      std::to_string(written.size()) + " written, " + std::to_string(skipped.size()) + " skipped\n";
    for (const auto& p : written) out += "  written " + p + "\n";
    for (const auto& p : skipped) out += "  skipped " + p + "\n";
    for (const auto& s : secrets) out += "  secret  " + s + " (random; the file is git-ignored)\n";
    if (mode == Mode::Local) return out;
    out += std::string("To rotate a secret: empty its value in its file, run fracta init --scaffold ") +
           mode_name(mode) + " again (it fills empty values and keeps the others), then ";
    if (mode == Mode::Compose)
        out += "docker-compose -f deployment/docker-compose.yml up -d (recreates the containers with it).\n";
    else
        out += "kubectl apply -k deployment/k8s/manifests (a new Secret name rolls the pods onto it); "
               "change the fracta role's password in Postgres (ALTER ROLE) before rotating POSTGRES_PASSWORD.\n";
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
        size_t overwrite = std::count_if(files.begin(), files.end(), [&](const Planned& f) {
            return !is_secret_file(f.target) && exists(root + "/" + f.target);
        });
        if (overwrite > 0 && !options.yes) {
            if (!options.confirm)
                return usage_error("--force would overwrite " + std::to_string(overwrite) +
                                   " existing files: confirm with --yes (no terminal to ask on)");
            if (!options.confirm(overwrite)) return failure("--force: not confirmed; nothing written");
        }
    }

    Report report;
    report.mode = options.mode;
    std::vector<std::string> secret_files;
    for (const auto& f : files) {
        if (is_secret_file(f.target)) {
            FRACTA_TRY(write_secret_file(root, f, report));
            secret_files.push_back(f.target);
            continue;
        }
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
    // .fracta/ marks the project for `fracta` on the host (docker-compose's
    // control plane keeps nothing there until an agent runs: its state is
    // in Postgres)
    if (options.mode != Mode::K8s) {
        const std::string logs = root + "/.fracta/logs";
        if (fs::is_directory(logs, ec)) {
            report.skipped.push_back(".fracta/logs/");
        } else {
            FRACTA_TRY(io::make_dirs(logs));
            report.written.push_back(".fracta/logs/");
        }
    }
    FRACTA_TRY_ASSIGN(changed, ignore_entries(root, options.mode, secret_files));
    (changed ? report.written : report.skipped).push_back(".gitignore");
    return report;
}

}  // namespace fracta::init
