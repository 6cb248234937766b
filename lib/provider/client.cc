// client.cc — see client.h.
#include "provider/client.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <string_view>
#include <thread>
#include <utility>

#include "proc/run.h"

namespace fracta::provider {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr size_t kBigOutput = size_t{64} << 20;  // peek and logs: a whole session log
constexpr size_t kOutputTail = 64 * 1024;        // ended()'s output_tail when it had to peek

// "30", "0.3", "1.25": a duration in seconds for messages.
std::string seconds_text(milliseconds d) {
    long long ms = d.count();
    if (ms % 1000 == 0) return std::to_string(ms / 1000);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ms) / 1000.0);
    std::string s = buf;
    while (s.back() == '0') s.pop_back();
    return s;
}

std::string strip_newlines(std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The line of stderr that says what went wrong: the first holding ": error:"
// (fracta's diagnostics, which may follow warnings), else the first
// non-blank one; "" when there is none.
std::string error_line(const std::string& err) {
    std::string first;
    size_t pos = 0;
    while (pos < err.size()) {
        size_t end = err.find('\n', pos);
        if (end == std::string::npos) end = err.size();
        std::string_view line = trim(std::string_view(err).substr(pos, end - pos));
        if (!line.empty()) {
            if (line.find(": error:") != std::string_view::npos) return std::string(line);
            if (first.empty()) first = line;
        }
        pos = end + 1;
    }
    return first;
}

ErrorKind kind_of_exit(int code) {
    switch (code) {
        case 100:
            return ErrorKind::Usage;
        case 111:
            return ErrorKind::Temporary;
        case 126:
            return ErrorKind::CannotExec;
        case 127:
            return ErrorKind::NotFound;
        default:
            return ErrorKind::Failed;
    }
}

// Run `<prefix…> <op> <args…>`. Errors: the provider could not be run, or it
// ran out of time. Any exit status is an Outcome.
Result<proc::Outcome> invoke(const std::vector<std::string>& prefix, const std::map<std::string, std::string>& env,
                             const std::string& op, const std::vector<std::string>& args, std::string input,
                             milliseconds timeout, size_t max_output = size_t{4} << 20) {
    proc::Command c;
    c.argv = prefix;
    c.argv.push_back(op);
    c.argv.insert(c.argv.end(), args.begin(), args.end());
    c.env = env;
    c.input = std::move(input);
    c.timeout = std::max(timeout, milliseconds(1));
    c.max_output = max_output;
    FRACTA_TRY_ASSIGN(outcome, proc::run(c));
    if (outcome.timed_out) return temporary_error(op + " timed out after " + seconds_text(c.timeout) + " s");
    return outcome;
}

// The provider's answer: stdout without trailing newlines, std::nullopt for
// exit 2 ("not supported"), or the error its status stands for.
Result<std::optional<std::string>> answer(const std::string& op, const proc::Outcome& o) {
    if (o.signal == 0 && o.exit_code == 0) return std::optional<std::string>(strip_newlines(o.out));
    if (o.signal == 0 && o.exit_code == exit_code(ErrorKind::Unsupported)) return std::optional<std::string>();
    std::string text = error_line(o.err);
    if (o.signal != 0) {
        if (text.empty()) text = op + ": killed by signal " + std::to_string(o.signal);
        return failure(text);
    }
    if (text.empty()) text = op + ": exit " + std::to_string(o.exit_code);
    return fail(kind_of_exit(o.exit_code), text);
}

// For outputs that must fit in memory whole (peek, logs).
Result<std::optional<std::string>> whole_answer(const std::string& op, const proc::Outcome& o) {
    FRACTA_TRY_ASSIGN(text, answer(op, o));
    if (text && o.truncated) return failure(op + ": output over " + std::to_string(kBigOutput >> 20) + " MiB");
    return text;
}

// --- decoding the extra ops' JSON ------------------------------------------

Error bad_output(const std::string& op, const std::string& why) {
    return failure(op + ": unexpected output from the provider: " + why);
}

// A string field; a number is given as its text (a pid as `ref`); missing or
// null: "".
Result<std::string> text_field(const Json& o, const std::string& key) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return std::string();
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer()) return it->dump();
    return failure("\"" + key + "\" is not a string");
}

Result<std::optional<int>> code_field(const Json& o, const std::string& key) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return std::optional<int>();
    if (it->is_number_integer()) {
        long long v = it->get<long long>();
        if (v >= INT_MIN && v <= INT_MAX) return std::optional<int>(static_cast<int>(v));
    }
    return failure("\"" + key + "\" is not an integer");
}

// What `wait` and `status` answers have in common.
struct Common {
    std::string name, state;
    std::optional<int> exit_code;
    std::string started_at, ended_at;
};

Result<Common> decode_common(const Json& j, const std::string& name) {
    if (!j.is_object()) return failure("not a JSON object");
    Common c;
    FRACTA_TRY_ASSIGN(n, text_field(j, "name"));
    c.name = n.empty() ? name : n;
    FRACTA_TRY_ASSIGN(state, text_field(j, "state"));
    c.state = state;
    FRACTA_TRY_ASSIGN(code, code_field(j, "exit_code"));
    c.exit_code = code;
    FRACTA_TRY_ASSIGN(started, text_field(j, "started_at"));
    FRACTA_TRY_ASSIGN(ended, text_field(j, "ended_at"));
    c.started_at = started;
    c.ended_at = ended;
    return c;
}

Result<WaitResult> decode_wait(const Json& j, const std::string& name) {
    FRACTA_TRY_ASSIGN(c, decode_common(j, name));
    if (c.state != "exited" && c.state != "killed" && c.state != "lost")
        return failure("state \"" + c.state + "\" is not exited, killed or lost");
    FRACTA_TRY_ASSIGN(tail, text_field(j, "output_tail"));
    return WaitResult{c.name, c.state, c.exit_code, c.started_at, c.ended_at, strip_newlines(tail)};
}

Result<SessionStatus> decode_status(const Json& j, const std::string& name) {
    FRACTA_TRY_ASSIGN(c, decode_common(j, name));
    static const char* const kStates[] = {"starting", "running", "exited", "lost", "absent"};
    bool known = std::find(std::begin(kStates), std::end(kStates), c.state) != std::end(kStates);
    FRACTA_TRY_ASSIGN(activity, text_field(j, "last_activity"));
    FRACTA_TRY_ASSIGN(ref, text_field(j, "ref"));
    return SessionStatus{c.name, known ? c.state : "unknown", c.exit_code, c.started_at, c.ended_at, activity, ref};
}

// Parse the stdout of an extra op; anything wrong is the provider's fault
// (Failed), not the caller's.
Result<Json> parse_output(const std::string& op, const std::string& text) {
    auto j = parse_json(text);
    if (!j.ok()) return bad_output(op, j.error().message);
    return std::move(j).value();
}

// The answer of an op that prints one session's JSON (wait, status),
// decoded; nothing when the provider does not support the op.
template <class T>
Result<std::optional<T>> decoded_answer(const std::string& op, const proc::Outcome& o, const std::string& name,
                                        Result<T> (*decode)(const Json&, const std::string&)) {
    FRACTA_TRY_ASSIGN(out, answer(op, o));
    if (!out) return std::optional<T>();
    FRACTA_TRY_ASSIGN(j, parse_output(op, *out));
    auto decoded = decode(j, name);
    if (!decoded.ok()) return bad_output(op, decoded.error().message);
    return std::optional<T>(std::move(decoded).value());
}

// The last `max` bytes of `s`, not starting inside a UTF-8 sequence.
std::string last_bytes(std::string s, size_t max) {
    if (s.size() <= max) return s;
    size_t from = s.size() - max;
    while (from < s.size() && (static_cast<unsigned char>(s[from]) & 0xC0) == 0x80) ++from;
    return s.substr(from);
}

}  // namespace

ProviderClient::ProviderClient(std::vector<std::string> argv_prefix, std::map<std::string, std::string> env,
                               ClientOptions options)
    : argv_prefix_(std::move(argv_prefix)), env_(std::move(env)), options_(options) {}

Result<ProviderClient::Started> ProviderClient::start(const std::string& name, const Json& start_json,
                                                      std::chrono::milliseconds budget) const {
    FRACTA_TRY_ASSIGN(o, invoke(argv_prefix_, env_, "start", {name}, to_line(start_json), budget));
    if (o.signal == 0 && o.exit_code == exit_code(ErrorKind::Unsupported))
        return failure("start: not supported by the provider (exit 2)");
    if (o.signal == 0 && kind_of_exit(o.exit_code) == ErrorKind::Failed && o.exit_code != 0 &&
        lower(o.err).find("already exists") != std::string::npos)
        return Started{true};
    FRACTA_TRY(answer("start", o));
    return Started{false};
}

Status ProviderClient::stop(const std::string& name) const { return run_op("stop", name); }

// A provider without it (exit 2) keeps nothing to forget.
Status ProviderClient::forget(const std::string& name) const { return run_op("forget", name); }

Status ProviderClient::interrupt(const std::string& name) const { return run_op("interrupt", name); }

Status ProviderClient::run_op(const std::string& op, const std::string& name, const std::string& input) const {
    FRACTA_TRY_ASSIGN(o, invoke(argv_prefix_, env_, op, {name}, input, options_.op_timeout));
    FRACTA_TRY(answer(op, o));
    return {};
}

Result<bool> ProviderClient::is_running(const std::string& name) const {
    FRACTA_TRY_ASSIGN(o, invoke(argv_prefix_, env_, "is-running", {name}, "", options_.op_timeout));
    FRACTA_TRY_ASSIGN(out, answer("is-running", o));
    if (!out) return false;
    std::string_view word = trim(*out);
    if (word == "true") return true;
    if (word == "false" || word.empty()) return false;
    return bad_output("is-running", std::string("\"").append(word.substr(0, 80)) + "\" is not true or false");
}

Status ProviderClient::nudge(const std::string& name, const std::string& text) const {
    if (text.empty()) return {};
    return run_op("nudge", name, text);
}

Result<std::string> ProviderClient::peek(const std::string& name, int lines) const {
    FRACTA_TRY_ASSIGN(
        o, invoke(argv_prefix_, env_, "peek", {name, std::to_string(lines)}, "", options_.op_timeout, kBigOutput));
    FRACTA_TRY_ASSIGN(out, whole_answer("peek", o));
    return out ? std::move(*out) : std::string();
}

Result<std::vector<std::string>> ProviderClient::list_running(const std::string& prefix) const {
    FRACTA_TRY_ASSIGN(o, invoke(argv_prefix_, env_, "list-running", {prefix}, "", options_.op_timeout));
    FRACTA_TRY_ASSIGN(out, answer("list-running", o));
    std::vector<std::string> names;
    if (!out) return names;
    size_t pos = 0;
    while (pos < out->size()) {
        size_t end = out->find('\n', pos);
        if (end == std::string::npos) end = out->size();
        std::string_view line = trim(std::string_view(*out).substr(pos, end - pos));
        if (!line.empty() && line.substr(0, prefix.size()) == prefix) names.emplace_back(line);
        pos = end + 1;
    }
    return names;
}

Result<std::optional<WaitResult>> ProviderClient::wait(const std::string& name, std::chrono::seconds timeout) const {
    timeout = std::max(timeout, std::chrono::seconds(0));
    FRACTA_TRY_ASSIGN(o, invoke(argv_prefix_, env_, "wait", {name, std::to_string(timeout.count())}, "",
                                timeout + options_.op_timeout));
    return decoded_answer("wait", o, name, decode_wait);
}

Result<std::optional<SessionStatus>> ProviderClient::status(const std::string& name) const {
    FRACTA_TRY_ASSIGN(o, invoke(argv_prefix_, env_, "status", {name}, "", options_.op_timeout));
    return decoded_answer("status", o, name, decode_status);
}

Result<std::optional<std::vector<SessionStatus>>> ProviderClient::list(const std::string& prefix) const {
    using Answer = std::optional<std::vector<SessionStatus>>;
    FRACTA_TRY_ASSIGN(o, invoke(argv_prefix_, env_, "list", {prefix}, "", options_.op_timeout));
    FRACTA_TRY_ASSIGN(out, answer("list", o));
    if (!out) return Answer();
    std::vector<SessionStatus> all;
    if (trim(*out).empty()) return Answer(std::move(all));  // nothing printed: no sessions
    FRACTA_TRY_ASSIGN(j, parse_output("list", *out));
    if (!j.is_array()) return bad_output("list", "not a JSON array");
    for (size_t i = 0; i < j.size(); ++i) {
        auto s = decode_status(j[i], "");
        if (!s.ok()) return bad_output("list", "element " + std::to_string(i) + ": " + s.error().message);
        all.push_back(std::move(s).value());
    }
    return Answer(std::move(all));
}

Result<std::optional<std::string>> ProviderClient::logs(const std::string& name) const {
    FRACTA_TRY_ASSIGN(o, invoke(argv_prefix_, env_, "logs", {name}, "", options_.op_timeout, kBigOutput));
    return whole_answer("logs", o);
}

Result<std::optional<WaitResult>> ProviderClient::ended(const std::string& name) const {
    using Answer = std::optional<WaitResult>;
    auto r = wait(name, std::chrono::seconds(0));
    if (r.ok() && r->has_value()) return std::move(*r);
    if (!r.ok()) {
        // Still running (exit 111), or the provider could not tell now: the
        // caller asks again later, as it would have waited on.
        if (r.error().kind == ErrorKind::Temporary) return Answer();
        return std::move(r).take_error();
    }
    // Gas City's way: no `wait`, so is-running, then what it printed.
    auto running = is_running(name);
    if (!running.ok() && running.error().kind == ErrorKind::Temporary) return Answer();
    if (!running.ok()) return std::move(running).take_error();
    if (*running) return Answer();
    WaitResult done;
    done.name = name;
    done.state = "exited";
    auto out = peek(name, 0);
    if (out.ok()) done.output_tail = last_bytes(std::move(*out), kOutputTail);
    return Answer(std::move(done));
}

Result<std::unique_ptr<proc::Process>> ProviderClient::watch(const std::string& prefix) const {
    proc::Command c;
    c.argv = argv_prefix_;
    c.argv.push_back("watch");
    c.argv.push_back(prefix);
    c.env = env_;
    return proc::Process::start(c);
}

Result<WatchLine> decode_watch_line(const std::string& line) {
    auto j = parse_json(line);
    if (!j.ok()) return bad_output("watch", j.error().message);
    WatchLine w;
    if (j->is_object() && j->value("synced", false)) {
        w.synced = true;
        return w;
    }
    auto s = decode_status(*j, "");
    if (!s.ok()) return bad_output("watch", s.error().message);
    if (s->name.empty()) return bad_output("watch", "a status without \"name\"");
    w.status = std::move(s).value();
    if (auto it = j->find("ended"); it != j->end() && !it->is_null()) {
        auto ended = decode_wait(*it, w.status.name);
        if (!ended.ok()) return bad_output("watch", "\"ended\": " + ended.error().message);
        w.ended = std::move(ended).value();
    }
    return w;
}

}  // namespace fracta::provider
