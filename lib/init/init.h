// init.h — fracta-init: scaffold a project for one deployment mode (local,
// docker-compose, k8s) from templates (spec/init-and-reap.md).
//
// Templates are the embedded copy of scaffolds/, manifests/ and compose/, or
// a directory of the same shape (--source). A plan maps them to the files a
// mode writes, with the namespace and image substituted; scaffold() writes
// the plan, keeping existing files unless forced. One mode per project: the
// mode already there is detected first, and another one is refused.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace fracta::init {

enum class Mode { Local, Compose, K8s };

// "local" | "docker-compose" | "k8s"; anything else is a usage error
// `unknown scaffold "x"; valid: local, docker-compose, k8s`.
Result<Mode> parse_mode(const std::string& name);
const char* mode_name(Mode mode);

// One template file, its path relative to the source root
// ("manifests/rbac.yaml", "scaffolds/k8s/fracta.yaml").
struct Template {
    std::string path;
    std::string content;
    int mode = 0644;
};
using Source = std::vector<Template>;

Source embedded_source();
// DIR/scaffolds, DIR/manifests, DIR/compose (regular files, any depth).
Result<Source> load_source(const std::string& dir);

// Substitutions; empty means "as shipped".
struct Settings {
    std::string ns;     // k8s only: the kustomization's namespace and the names derived from it
    std::string image;  // fracta's image: the kustomization's images entry / the compose x-fracta-image
};

// A file to write, relative to the project root.
struct Planned {
    std::string target;
    std::string content;
    int mode = 0644;
};

// The files `mode` writes (besides .fracta/logs/ and .gitignore for local),
// fracta.yaml first. Usage errors for settings that do not apply to the mode
// or do not match the templates.
Result<std::vector<Planned>> plan(const Source& source, Mode mode, const Settings& settings);

// What `--print k8s|docker-compose` writes: the compose file, or every YAML
// file of the k8s manifests tree in path order, each after a
// `# Source: deployment/k8s/manifests/<path>` line, separated by `---` (the
// kustomize sources as scaffolded, not kustomize's rendered output).
Result<std::string> render(const Source& source, Mode mode, const Settings& settings);

// The mode a project at `root` is scaffolded as, if any (spec order:
// deployment/k8s/manifests/, deployment/docker-compose.yml, fracta.yaml's
// runtime.backend, any fracta.yaml).
Result<std::optional<Mode>> detect(const std::string& root);

// The refusal to switch modes, and the two ways out (lines for stderr).
Error conflict_error(Mode existing, Mode wanted);
std::vector<std::string> conflict_hints(Mode existing, Mode wanted);

struct Options {
    std::string root;  // the project directory
    Mode mode = Mode::Local;
    Settings settings;
    bool force = false;  // overwrite existing files
    bool yes = false;    // ... without asking
    // Asked with the number of files --force would overwrite when !yes;
    // unset: nobody to ask (no terminal), so --force is refused.
    std::function<bool(size_t)> confirm;
};

struct Report {
    Mode mode = Mode::Local;
    std::vector<std::string> written, skipped;  // relative paths; directories end in "/"
    std::vector<std::string> secrets;  // "<path> <KEY>": values this run generated (never the values)
    Json to_json() const;    // {"mode","written","skipped","secrets"}
    std::string to_text() const;
};

// Write the plan into options.root. Secret files (any *.env: the compose
// deployment/.env, the k8s secrets/*.env) are written 0600 with their empty
// *_TOKEN, *_PASSWORD and *_SECRET values filled with random ones, listed in
// .gitignore, and never overwritten: a rerun (even --force) only fills values
// left empty. Refuses (Failed) a root scaffolded as
// another mode, and local mode outside a git work tree (Usage).
Result<Report> scaffold(const Source& source, const Options& options);

}  // namespace fracta::init
