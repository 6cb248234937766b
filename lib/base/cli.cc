#include "base/cli.h"

#include <getopt.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

namespace fracta::cli {
namespace {

std::vector<Option> with_standard_options(const Command& command) {
    std::vector<Option> all = command.options;
    all.push_back({"help", 'h', "", "show this help and exit"});
    all.push_back({"version", 'V', "", "show the version and exit"});
    return all;
}

}  // namespace

std::string Args::get(const std::string& long_name, const std::string& fallback) const {
    auto it = values_.find(long_name);
    return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

Result<Args> parse(const Command& command, const std::vector<std::string>& words) {
    const std::vector<Option> options = with_standard_options(command);

    std::string optstring = "+:";  // stop at first operand; report missing values
    std::vector<struct option> table;
    for (size_t i = 0; i < options.size(); ++i) {
        const Option& o = options[i];
        int has_arg = o.value.empty() ? no_argument : required_argument;
        // Long-only options get codes above the char range, indexed by position.
        int code = o.short_name ? o.short_name : 256 + static_cast<int>(i);
        table.push_back({o.long_name.c_str(), has_arg, nullptr, code});
        if (o.short_name) {
            optstring += o.short_name;
            if (has_arg == required_argument) optstring += ':';
        }
    }
    table.push_back({nullptr, 0, nullptr, 0});

    // getopt wants mutable argv; keep our own copies.
    std::vector<std::unique_ptr<char[]>> storage;
    std::vector<char*> argv;
    for (const std::string& w : words) {
        storage.emplace_back(new char[w.size() + 1]);
        std::copy(w.c_str(), w.c_str() + w.size() + 1, storage.back().get());
        argv.push_back(storage.back().get());
    }
    argv.push_back(nullptr);
    int argc = static_cast<int>(words.size());

    Args args;
    optind = 0;  // full reset (glibc): each parse starts fresh
    opterr = 0;
    for (;;) {
        int longindex = -1;
        int c = getopt_long(argc, argv.data(), optstring.c_str(), table.data(), &longindex);
        if (c == -1) break;
        if (c == '?' || c == ':') {
            // getopt reports short options through optopt; long ones only
            // by position, so name whichever the user actually typed.
            std::string word = optind > 0 && optind <= argc ? words[static_cast<size_t>(optind - 1)] : "";
            if (word.rfind("--", 0) == 0) word = word.substr(0, word.find('='));
            else if (optopt > 0 && optopt < 256) word = std::string("-") + static_cast<char>(optopt);
            if (c == ':') return usage_error("option " + word + " needs a value");
            return usage_error("unknown option " + word);
        }
        const Option* match = nullptr;
        if (c >= 256) match = &options[static_cast<size_t>(c - 256)];
        for (const Option& o : options)
            if (!match && o.short_name == c) match = &o;
        if (!match) return usage_error("unknown option");
        args.values_[match->long_name].push_back(optarg ? optarg : "");
    }
    for (int i = optind; i < argc; ++i) args.positional_.push_back(words[static_cast<size_t>(i)]);
    return args;
}

Result<Invocation> parse_operation(const Command& command, std::vector<std::string> words) {
    FRACTA_TRY_ASSIGN(first, parse(command, words));
    Invocation inv;
    if (!first.positional().empty()) {
        const size_t at = words.size() - first.positional().size();
        inv.operation = words[at];
        words.erase(words.begin() + static_cast<long>(at));
    }
    FRACTA_TRY_ASSIGN(args, parse(command, words));
    inv.args = std::move(args);
    return inv;
}

std::string help_text(const Command& command) {
    std::string out = "usage: " + command.name + " " + command.synopsis + "\n";
    if (!command.summary.empty()) out += "\n" + command.summary + "\n";

    auto column = [&](const std::string& left, const std::string& right) {
        std::string line = "  " + left;
        if (line.size() < 26) line.resize(26, ' ');
        else line += "\n" + std::string(26, ' ');
        out += line + right + "\n";
    };
    if (!command.operations.empty()) {
        out += "\noperations:\n";
        for (const auto& [op, help] : command.operations) column(op, help);
    }
    out += "\noptions:\n";
    for (const Option& o : with_standard_options(command)) {
        std::string left = o.short_name ? std::string("-") + o.short_name + ", " : "    ";
        left += "--" + o.long_name;
        if (!o.value.empty()) left += " " + o.value;
        column(left, o.help);
    }
    if (!command.footer.empty()) out += "\n" + command.footer + "\n";
    return out;
}

std::string version_text(const std::string& program) {
    return program + " " + FRACTA_VERSION + "\n";
}

Result<long long> parse_int(const std::string& what, const std::string& text) {
    if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
        return usage_error(what + ": not a non-negative integer: \"" + text + "\"");
    errno = 0;
    long long v = std::strtoll(text.c_str(), nullptr, 10);
    if (errno == ERANGE) return usage_error(what + ": out of range: " + text);
    return v;
}

}  // namespace fracta::cli
