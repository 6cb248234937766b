// config.h — the fracta.yaml model (spec/config.md): where the file is, what
// it says, and the defaults for what it leaves out.
//
// One loader for every binary. Errors carry file:line:col and the key path
// and are usage errors (exit 100); unknown keys are warnings, so files written
// for newer binaries still load. Sections are modelled as the binaries need
// them; the rest of the document stays available in `document`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/yaml.h"

namespace fracta::config {

struct State {
    std::string driver = "sqlite";               // sqlite | postgres
    std::string sqlite_path = ".fracta/state.db";  // relative to the project root
    std::string postgres_dsn;
};

struct Logging {
    std::string level = "info";   // debug | info | warn | error
    std::string format = "text";  // text | json
};

struct Config {
    std::string file;  // the file loaded; empty when running on defaults
    std::string root;  // the directory holding it (the project root)
    std::string backend = "local";  // local | kubernetes | exec:/path
    State state;
    Logging logging;
    yaml::Document document;
    std::vector<std::string> warnings;  // "fracta.yaml:3:1: unknown key \"x\""
};

// FRACTA_CONFIG if set, else the nearest fracta.yaml from `start_dir` upward.
std::optional<std::string> find_file(const std::string& start_dir);

Result<Config> load(const std::string& path, const yaml::EnvLookup& env = yaml::process_env());
Result<Config> parse(std::string_view text, const std::string& file, const yaml::EnvLookup& env = yaml::process_env());

// The store named by runtime.state: "sqlite:/abs/path.db" or the Postgres DSN.
std::string state_store_url(const Config& config);

}  // namespace fracta::config
