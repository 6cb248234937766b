#include "base/tool.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>

#include "base/diag.h"
#include "base/io.h"

namespace fracta {
namespace {

constexpr size_t kHelpWidth = 100;

// The words of `text` in lines of at most kHelpWidth columns.
std::string wrapped(const std::string& text) {
    std::string out, line;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        std::string word = text.substr(start, end - start);
        if (!line.empty() && line.size() + 1 + word.size() > kHelpWidth) {
            out += line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
        start = end + 1;
    }
    return out + line;
}

cli::Command with_exit_statuses(const Tool& tool) {
    cli::Command c = tool.command;
    c.footer += (c.footer.empty() ? "" : "\n") + exit_status_text(tool);
    return c;
}

std::string op_name(const std::string& usage) {
    return usage.substr(0, usage.find(' '));
}

Status check_op(const Tool& tool, const std::string& op) {
    if (op.empty()) return usage_error("no " + tool.op_noun + " (try --help)");
    std::string names;
    for (const auto& [usage, help] : tool.command.operations) {
        if (op_name(usage) == op) return {};
        names += (names.empty() ? "" : ", ") + op_name(usage);
    }
    std::string unknown = "unknown " + tool.op_noun + " \"" + op + "\"";
    if (tool.unknown_op_unsupported) return fail(ErrorKind::Unsupported, unknown);
    const bool few = tool.command.operations.size() <= 6;
    return usage_error(unknown + " (" + (few ? names : "try --help") + ")");
}

Result<int> help_or_version(const Tool& tool, const cli::Args& args) {
    const std::string out =
        args.has("version") ? cli::version_text(tool.command.name) : cli::help_text(with_exit_statuses(tool));
    FRACTA_TRY(io::write_stdout(out));
    return kExitOk;
}

// Parse, answer --help and --version, check --format and the operation, run.
Result<int> invoke(const Tool& tool, const std::vector<std::string>& words) {
    Io io{[](size_t cap) { return io::read_all(STDIN_FILENO, cap); },
          [](std::string_view data) { return io::write_stdout(data); },
          [](std::string_view line) { diag::warning(line); }, [](std::string_view line) { diag::error(line); },
          STDOUT_FILENO};
    std::string op;
    std::vector<std::string> rest;
    if (tool.style == OpStyle::Provider) {
        // Options only before the operation; everything after it is the op's.
        if (words.size() > 1 && words[1].rfind("-", 0) == 0) {
            FRACTA_TRY_ASSIGN(args, cli::parse(tool.command, words));
            return help_or_version(tool, args);
        }
        op = words.size() > 1 ? words[1] : "";
        FRACTA_TRY(check_op(tool, op));
        cli::Args none;
        return tool.run(Call{none, op, {words.begin() + 2, words.end()}, false, io});
    }
    cli::Args args;
    if (tool.style == OpStyle::Anywhere) {
        FRACTA_TRY_ASSIGN(invocation, cli::parse_operation(tool.command, words));
        args = std::move(invocation.args);
        op = std::move(invocation.operation);
    } else {
        FRACTA_TRY_ASSIGN(parsed, cli::parse(tool.command, words));
        args = std::move(parsed);
    }
    if (args.has("help") || args.has("version")) return help_or_version(tool, args);
    const std::string format = args.get("format", tool.format);
    if (!tool.format.empty() && format != "json" && format != "text")
        return usage_error("--format: use " + tool.format + " or " + (tool.format == "json" ? "text" : "json"));
    const auto& positional = args.positional();
    if (tool.style == OpStyle::First) {
        if (!positional.empty()) op = positional[0];
        if (!positional.empty()) rest.assign(positional.begin() + 1, positional.end());
    } else if (!positional.empty()) {
        return usage_error("unexpected argument \"" + positional[0] + "\"");
    }
    if (tool.style != OpStyle::None) FRACTA_TRY(check_op(tool, op));
    return tool.run(Call{args, op, std::move(rest), format == "text", io});
}

}  // namespace

cli::Option config_option() {
    return {"config", 'c', "FILE", "fracta.yaml to use (default: FRACTA_CONFIG, else the project's)"};
}

cli::Option ready_fd_option(const std::string& op) {
    return {"ready-fd", 0, "N", op + ": write \"ready URL\" to descriptor N once serving, then close it"};
}

Result<int> ready_fd(const cli::Args& args) {
    if (!args.has("ready-fd")) return -1;
    FRACTA_TRY_ASSIGN(fd, cli::parse_int("--ready-fd", args.get("ready-fd")));
    return static_cast<int>(fd);
}

void announce_ready(int fd, const std::string& url) {
    if (fd < 0) return;
    std::string line = "ready " + url + "\n";
    (void)!::write(fd, line.data(), line.size());
    ::close(fd);
}

std::string exit_status_text(const Tool& tool) {
    // A status is never the last word of a line: it is glued (\x01) to its meaning's first word.
    std::string text = "exit status: " + std::to_string(kExitOk) + "\x01" + tool.done;
    for (const auto& [kind, meaning] : tool.exits) text += "; " + std::to_string(exit_code(kind)) + "\x01" + meaning;
    text = wrapped(text + ".");
    std::replace(text.begin(), text.end(), '\x01', ' ');
    return text;
}

int tool_main(const Tool& tool, int argc, char** argv) {
    diag::set_program(tool.command.name);
    std::signal(SIGPIPE, SIG_IGN);  // a closed stdout is an EPIPE we handle
    Result<int> done = invoke(tool, std::vector<std::string>(argv, argv + argc));
    if (done.ok()) return *done;
    if (io::stdout_closed()) return kExitOk;  // the reader left: not an error
    return diag::report(done.error());
}

}  // namespace fracta
