// cli.h — one option table per command, parsed with getopt_long, and the
// --help text generated from the same table so the two never disagree.
//
// Parsing stops at the first non-option word ("+" optstring), so a binary can
// parse its global options, read the operation name, and parse that
// operation's own options with a second table. `--help` and `--version` are
// part of every table.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace fracta::cli {

struct Option {
    std::string long_name;  // "store"
    char short_name = 0;    // 's', or 0 for none
    std::string value;      // placeholder ("URL") if it takes a value; empty for a flag
    std::string help;       // one line
};

struct Command {
    std::string name;                 // program or operation name
    std::string synopsis;             // "[--store URL] OP [ARGS]"
    std::string summary = "";         // one line: what it does
    std::vector<Option> options = {};
    std::vector<std::pair<std::string, std::string>> operations = {};  // "watch AFTER_SEQ", help
    std::string footer = "";          // free text after the tables (environment, notes)
};

class Args {
public:
    bool has(const std::string& long_name) const { return values_.count(long_name) != 0; }
    // The last value given for an option, or `fallback`.
    std::string get(const std::string& long_name, const std::string& fallback = "") const;
    // Every value given for a repeatable option, in command-line order.
    std::vector<std::string> all(const std::string& long_name) const {
        auto it = values_.find(long_name);
        return it == values_.end() ? std::vector<std::string>{} : it->second;
    }
    const std::vector<std::string>& positional() const { return positional_; }

private:
    friend Result<Args> parse(const Command&, const std::vector<std::string>&);
    std::map<std::string, std::vector<std::string>> values_;
    std::vector<std::string> positional_;
};

// Parse argv-style words; words[0] is the program or operation name.
// Unknown options and missing values are usage errors naming the option.
Result<Args> parse(const Command& command, const std::vector<std::string>& words);

// For binaries whose options may come before or after the operation
// (`fracta-cp run --listen :0`): the first non-option word is the operation
// ("" when there is none), taken out; every other word is parsed as usual.
struct Invocation {
    Args args;
    std::string operation;
};
Result<Invocation> parse_operation(const Command& command, std::vector<std::string> words);

std::string help_text(const Command& command);
std::string version_text(const std::string& program);

// Strict decimal parsers for option values (no sign, no junk, no overflow).
Result<long long> parse_int(const std::string& what, const std::string& text);

// An integer option's value (parse_int) into `out` when the option was
// given; `out` keeps its default otherwise.
template <class T>
Status int_option(const Args& a, const std::string& long_name, T& out) {
    if (!a.has(long_name)) return {};
    FRACTA_TRY_ASSIGN(n, parse_int("--" + long_name, a.get(long_name)));
    out = static_cast<T>(n);
    return {};
}

}  // namespace fracta::cli
