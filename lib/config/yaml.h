// yaml.h — YAML (through libyaml) into JSON values, keeping where each value
// came from so that config errors can say `fracta.yaml:12:5: …`.
//
// Scalars get `${VAR}` and `${VAR:-default}` expanded from the environment
// (`$$` is a literal `$`) before their type is resolved, so `workers:
// ${N:-4}` is the number 4. Plain scalars follow the YAML 1.2 core schema
// (null, booleans, integers, floats); quoted scalars are always strings.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/json.h"
#include "base/result.h"

namespace fracta::yaml {

struct Mark {
    int line = 0;    // 1-based
    int column = 0;  // 1-based
};

struct Document {
    std::string file;                    // as given, for messages
    Json root;                           // an empty file is an empty object
    std::map<std::string, Mark> marks;   // JSON pointer ("/runtime/queue") → where it starts

    // "file:line:col" of a JSON pointer, or of its nearest parent that has one.
    std::string where(const std::string& pointer) const;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// Expand ${VAR}, ${VAR:-default} and $$ in one string.
Result<std::string> expand_env(std::string_view text, const EnvLookup& env);

Result<Document> parse(std::string_view text, const std::string& file, const EnvLookup& env = process_env());
Result<Document> load_file(const std::string& path, const EnvLookup& env = process_env());

}  // namespace fracta::yaml
