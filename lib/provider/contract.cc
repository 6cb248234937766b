// contract.cc — see contract.h: the op table and run_provider().
#include "provider/contract.h"

#include <poll.h>

#include <algorithm>
#include <filesystem>

#include "base/cli.h"
#include "base/text.h"
#include "session/session_dir.h"
#include "session/workspace.h"

namespace fracta::provider {
namespace {

constexpr size_t kMaxPayload = 1 << 20;  // nudge text, meta values, process names
constexpr long long kWaitForever = 24 * 3600;

std::string name_of(const OpCall& c) {
    return c.args.empty() ? "" : c.args[0];
}
std::vector<std::string> after_name(const OpCall& c) {
    return c.args.size() > 1 ? std::vector<std::string>(c.args.begin() + 1, c.args.end()) : std::vector<std::string>{};
}
bool live(const std::string& state) {
    return state == "running" || state == "starting";
}

// --- argument checks (before stdin is read or anything is asked) -----------

Result<long> parse_lines(const std::string& n) {
    bool negative = !n.empty() && n[0] == '-';
    FRACTA_TRY_ASSIGN(count, cli::parse_int("peek: lines", negative ? n.substr(1) : n));
    return static_cast<long>(negative ? -count : count);
}
Status check_peek(const std::vector<std::string>& a) {
    if (a.size() > 1) FRACTA_TRY(parse_lines(a[1]));
    return {};
}
Status check_wait(const std::vector<std::string>& a) {
    if (a.size() > 1) FRACTA_TRY(cli::parse_int("timeout", a[1]));
    return {};
}
Status check_meta(const std::vector<std::string>& a) {
    return session::validate_meta_key(a[1]);
}

// --- the handlers -----------------------------------------------------------

Result<Answer> done(const Status& s) {
    if (!s.ok()) return s.error();
    return Answer{};
}
Result<Answer> text_answer(Result<std::string> r) {
    if (!r.ok()) return r.error();
    Answer a;
    a.text = std::move(*r);
    return a;
}
Result<Answer> json_answer(Result<Json> r) {
    if (!r.ok()) return r.error();
    Answer a;
    a.json = std::move(*r);
    return a;
}
Result<Answer> flag_answer(Result<bool> r) {
    if (!r.ok()) return r.error();
    Answer a;
    a.flag = *r;
    return a;
}

Result<Answer> start(SessionBackend& b, const OpCall& c, Io& io) {
    return done(b.start(name_of(c), c.request, io));
}
Result<Answer> stop(SessionBackend& b, const OpCall& c, Io&) {
    return done(b.stop(name_of(c)));
}
Result<Answer> interrupt(SessionBackend& b, const OpCall& c, Io&) {
    return done(b.interrupt(name_of(c)));
}
Result<Answer> clear(SessionBackend& b, const OpCall& c, Io&) {
    return done(b.clear_scrollback(name_of(c)));
}
Result<Answer> status(SessionBackend& b, const OpCall& c, Io&) {
    return json_answer(b.status(name_of(c)));
}
Result<Answer> last_activity(SessionBackend& b, const OpCall& c, Io&) {
    return text_answer(b.last_activity(name_of(c)));
}
Result<Answer> get_meta(SessionBackend& b, const OpCall& c, Io&) {
    return text_answer(b.get_meta(name_of(c), c.args[1]));
}
Result<Answer> set_meta(SessionBackend& b, const OpCall& c, Io&) {
    return done(b.set_meta(name_of(c), c.args[1], c.text));
}
Result<Answer> remove_meta(SessionBackend& b, const OpCall& c, Io&) {
    return done(b.remove_meta(name_of(c), c.args[1]));
}
Result<Answer> send_keys(SessionBackend& b, const OpCall& c, Io&) {
    return done(b.send_keys(name_of(c), after_name(c)));
}

Result<Answer> is_running(SessionBackend& b, const OpCall& c, Io&) {
    FRACTA_TRY_ASSIGN(state, b.state(name_of(c)));
    return flag_answer(live(state));
}

Result<Answer> list(SessionBackend& b, const OpCall& c, Io&) {
    FRACTA_TRY_ASSIGN(all, b.list(name_of(c)));
    Answer a;
    a.json = Json::array();
    for (Json& s : all) {
        if (c.op == "list")
            a.json.push_back(std::move(s));
        else if (live(s.value("state", "")))
            a.names.push_back(s.value("name", ""));
    }
    return a;
}

// Names one a line; a line's trailing blanks and CR are not part of it.
Result<Answer> process_alive(SessionBackend& b, const OpCall& c, Io&) {
    std::vector<std::string> names;
    for (std::string& line : split(c.text, '\n')) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) names.push_back(std::move(line));
    }
    return flag_answer(b.process_alive(name_of(c), names));
}

Result<Answer> nudge(SessionBackend& b, const OpCall& c, Io& io) {
    std::string text = c.text;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.empty()) return Answer{};  // Gas City skips empty nudges; so do we (the Enter is ours)
    return done(b.nudge(name_of(c), text, after_name(c), io));
}

Result<Answer> peek(SessionBackend& b, const OpCall& c, Io&) {
    long lines = 0;
    if (c.args.size() > 1) {
        FRACTA_TRY_ASSIGN(n, parse_lines(c.args[1]));
        lines = n;
    }
    return text_answer(b.peek(name_of(c), lines));
}

// A source that does not exist is no error (Gas City copies what is there).
Result<Answer> copy_to(SessionBackend& b, const OpCall& c, Io&) {
    const std::string& src = c.args[1];
    const std::string rel = c.args.size() > 2 ? c.args[2] : "";
    std::error_code ec;
    if (!std::filesystem::exists(src, ec)) return Answer{};
    if (!rel.empty()) FRACTA_TRY(session::validate_relative_path(rel));
    return done(b.copy_to(name_of(c), src, rel));
}

Result<Answer> attach(SessionBackend& b, const OpCall& c, Io&) {
    FRACTA_TRY_ASSIGN(exit, b.attach(name_of(c), after_name(c)));
    Answer a;
    a.exit = exit;
    return a;
}

Result<Answer> check_image(SessionBackend&, const OpCall&, Io&) {
    return fail(ErrorKind::Unsupported, "check-image: not applicable");
}

Result<Answer> wait(SessionBackend& b, const OpCall& c, Io&) {
    long long timeout_s = kWaitForever;
    if (c.args.size() > 1) {
        FRACTA_TRY_ASSIGN(t, cli::parse_int("timeout", c.args[1]));
        timeout_s = t;
    }
    return json_answer(b.wait(name_of(c), std::chrono::seconds(timeout_s)));
}

Result<Answer> watch(SessionBackend& b, const OpCall& c, Io& io) {
    return done(b.watch(name_of(c), io));
}

Result<Answer> logs(SessionBackend& b, const OpCall& c, Io& io) {
    bool follow = c.args.size() > 1 && (c.args[1] == "--follow" || c.args[1] == "-f");
    return done(b.logs(name_of(c), follow, io));
}

std::string encode(Output kind, const Answer& a) {
    switch (kind) {
        case Output::None:
            return "";
        case Output::Bool:
            return a.flag ? "true\n" : "false\n";
        case Output::Text:
            return a.text;
        case Output::Line:
            return a.text.empty() ? "" : a.text + "\n";
        case Output::Names: {
            std::string out;
            for (const std::string& n : a.names) out += n + "\n";
            return out;
        }
        case Output::Json:
            return to_line(a.json) + "\n";
    }
    return "";
}

// The payload an op reads, read before anything else is done: it is the
// caller's to give whether or not the session exists.
Status read_input(const Op& row, SessionBackend& backend, Io& io, OpCall& call) {
    if (row.input == Input::None) return {};
    FRACTA_TRY_ASSIGN(input, io.read_input(row.input == Input::Text ? kMaxPayload : kMaxJsonInput));
    if (row.input == Input::Text) {
        call.text = std::move(input);
        return {};
    }
    // Nothing at all is refused, not read as {}: a caller killed between
    // starting us and writing its JSON must not leave a shell session behind.
    if (input.find_first_not_of(" \t\r\n") == std::string::npos)
        return usage_error("no start JSON on standard input ({} starts the user's shell)");
    FRACTA_TRY_ASSIGN(json, parse_json(input));
    FRACTA_TRY_ASSIGN(request, parse_start_request(json, backend.default_mode()));
    call.request = std::move(request);
    return {};
}

}  // namespace

const std::vector<Op>& contract_ops() {
    using I = Input;
    using O = Output;
    static const std::vector<Op> ops = {
        {"start", "NAME", 1, true, I::StartJson, O::None,
         "start a session from the start JSON on stdin; returns once it is up", start},
        {"stop", "NAME", 1, true, I::None, O::None, "terminate the session's process group (TERM, grace, KILL)", stop},
        {"interrupt", "NAME", 1, true, I::None, O::None, "Ctrl-C (SIGINT) to the session", interrupt},
        {"is-running", "NAME", 1, true, I::None, O::Bool, "true or false", is_running},
        {"process-alive", "NAME", 1, true, I::Text, O::Bool,
         "true if a process named on stdin (one per line) runs in the session", process_alive},
        {"nudge", "NAME [--no-wait] [--timeout S]", 1, true, I::Text, O::None,
         "clear the input line, type the text on stdin, submit; wait until the program reacted", nudge},
        {"send-keys", "NAME KEY…", 1, true, I::None, O::None,
         "send tmux-style keys (Enter, Up, Down, Escape, C-c) or text", send_keys},
        {"peek", "NAME LINES", 1, true, I::None, O::Text, "the last LINES lines of output (<= 0: all)", peek,
         check_peek},
        {"list-running", "PREFIX", 0, false, I::None, O::Names, "names of running sessions starting with PREFIX", list},
        {"get-last-activity", "NAME", 1, true, I::None, O::Line, "RFC 3339 time of the last output or input",
         last_activity},
        {"set-meta", "NAME KEY", 2, true, I::Text, O::None, "store the value on stdin", set_meta, check_meta},
        {"get-meta", "NAME KEY", 2, true, I::None, O::Text, "print the value (empty when unset)", get_meta, check_meta},
        {"remove-meta", "NAME KEY", 2, true, I::None, O::None, "forget a value", remove_meta, check_meta},
        {"clear-scrollback", "NAME", 1, true, I::None, O::None, "clear the session's output log", clear},
        {"copy-to", "NAME SRC REL_DST", 2, true, I::None, O::None,
         "copy a file or directory into the session's workdir", copy_to},
        {"attach", "NAME [--detach-key KEY]", 1, true, I::None, O::None,
         "connect this terminal to the session's (C-\\ detaches); exits with the session's status", attach},
        {"check-image", "IMAGE", 0, false, I::None, O::None, "not applicable (exit 2)", check_image},
        {"wait", "NAME [TIMEOUT_S]", 1, true, I::None, O::Json,
         "block until the session ends; print its result as JSON", wait, check_wait},
        {"status", "NAME", 1, true, I::None, O::Json, "the session's state as JSON", status},
        {"list", "PREFIX", 0, false, I::None, O::Json, "JSON array of the status of every session starting with PREFIX",
         list},
        {"logs", "NAME [--follow]", 1, true, I::None, O::None, "the session's whole output", logs},
        {"watch", "PREFIX", 0, false, I::None, O::None,
         "the status of every session starting with PREFIX as JSON lines, {\"synced\":true}, then each change",
         watch},
    };
    return ops;
}

std::vector<Op> ops_table(const std::vector<std::string>& without, const std::vector<OpText>& reworded,
                          const std::vector<Op>& extra) {
    std::vector<Op> table;
    for (const Op& op : contract_ops()) {
        if (std::find(without.begin(), without.end(), op.name) != without.end()) continue;
        table.push_back(op);
        for (const OpText& text : reworded)
            if (text.name == op.name) {
                table.back().args = text.args;
                table.back().help = text.help;
            }
    }
    table.insert(table.end(), extra.begin(), extra.end());
    return table;
}

Tool provider_tool(cli::Command command, const std::string& what, OpStyle style, const std::vector<Op>& ops,
                   const std::string& failed, BackendMaker make) {
    command.summary =
        "Run sessions as " + what + " (a Gas City session provider: GC_SESSION=exec:" + command.name + ").";
    for (const Op& op : ops)
        command.operations.emplace_back(op.args.empty() ? op.name : op.name + " " + op.args, op.help);
    return Tool{
        .command = std::move(command),
        .style = style,
        .unknown_op_unsupported = true,  // Gas City reads exit 2 as "not supported": success, empty
        .exits = {{ErrorKind::Failed, failed},
                  {ErrorKind::Unsupported, "not supported"},
                  {ErrorKind::Usage, "bad usage or input"},
                  {ErrorKind::Temporary, "temporary failure (retry)"}},
        .run = [make = std::move(make)](const fracta::Call& call) -> Result<int> {
            FRACTA_TRY_ASSIGN(backend, make(call.args));
            return run_provider(call.op, call.words, *backend, call.io);
        },
    };
}

Result<std::string> SessionBackend::state(const std::string& name) {
    FRACTA_TRY_ASSIGN(s, status(name));
    return s.value("state", std::string("absent"));
}

Status SessionBackend::watch(const std::string&, Io&) {
    return fail(ErrorKind::Unsupported, "watch: not supported");
}

Result<int> SessionBackend::attach(const std::string&, const std::vector<std::string>&) {
    return fail(ErrorKind::Unsupported, "attach: not supported");
}

Result<Answer> SessionBackend::extra(const OpCall& call, Io&) {
    return fail(ErrorKind::Unsupported, "unknown operation \"" + call.op + "\"");
}

bool reader_gone(const Io& io) {
    if (io.hangup_fd < 0) return false;
    struct pollfd p = {io.hangup_fd, 0, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

Result<Answer> run_extra(SessionBackend& backend, const OpCall& call, Io& io) {
    return backend.extra(call, io);
}

Result<int> run_provider(const std::string& op, const std::vector<std::string>& args, SessionBackend& backend, Io& io) {
    const std::vector<Op>& ops = backend.ops();
    auto row = std::find_if(ops.begin(), ops.end(), [&](const Op& o) { return o.name == op; });
    // Gas City reads exit 2 as "not supported": success with empty output.
    if (row == ops.end()) return fail(ErrorKind::Unsupported, "unknown operation \"" + op + "\"");
    if (args.size() < row->min_args) return usage_error(op + ": usage: " + op + " " + row->args);
    if (row->named) FRACTA_TRY(backend.check_name(args[0]));
    if (row->check) FRACTA_TRY(row->check(args));
    OpCall call{op, args, {}, {}};
    FRACTA_TRY(read_input(*row, backend, io, call));
    FRACTA_TRY_ASSIGN(answer, row->handler(backend, call, io));
    if (std::string out = encode(row->output, answer); !out.empty()) FRACTA_TRY(io.write(out));
    return answer.exit;
}

}  // namespace fracta::provider
