// runtime.cc — the runtime registry and what every runtime shares: model
// resolution, the gateway URL, the environment, the instructions document,
// prompts, output scanning and tails.
#include <array>
#include <iterator>

#include "base/agent.h"
#include "runtime/common.h"
#include "runtime/reserved_env.h"

namespace fracta::runtime {

namespace {

std::array<const Runtime*, 4> all() {
    return {&detail::claude(), &detail::codex(), &detail::opencode(), &detail::shell()};
}

// Remove CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \) and other two-byte
// escapes (ESC ( B and the like), and carriage returns: what a pty transcript is full of.
std::string strip_terminal_escapes(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '\r') continue;
        if (c != '\x1b') {
            out += c;
            continue;
        }
        if (i + 1 >= in.size()) break;
        char kind = in[++i];
        if (kind == '[') {
            while (i + 1 < in.size() && !(in[i + 1] >= 0x40 && in[i + 1] <= 0x7e)) ++i;
            ++i;  // the final byte
        } else if (kind == ']') {
            while (i + 1 < in.size()) {
                ++i;
                if (in[i] == '\a') break;
                if (in[i] == '\x1b' && i + 1 < in.size() && in[i + 1] == '\\') {
                    ++i;
                    break;
                }
            }
        } else if (kind == '(' || kind == ')') {
            ++i;  // character set designation: one more byte
        }
    }
    return out;
}

}  // namespace

Result<Mode> parse_mode(std::string_view name) {
    if (name == "batch") return Mode::Batch;
    if (name == "stream") return Mode::Stream;
    return usage_error("unknown mode \"" + std::string(name) + "\" (known: batch, stream)");
}

std::string_view mode_name(Mode mode) { return mode == Mode::Batch ? "batch" : "stream"; }

Result<const Runtime*> find_runtime(std::string_view name) {
    for (const Runtime* r : all())
        if (r->name() == name) return r;
    std::string known;
    for (const auto& n : runtime_names()) known += (known.empty() ? "" : ", ") + n;
    return usage_error("unknown runtime \"" + std::string(name) + "\" (known: " + known + ")");
}

std::vector<std::string> runtime_names() {
    std::vector<std::string> names;
    for (const Runtime* r : all()) names.emplace_back(r->name());
    return names;
}

std::string resolve_model(const SessionInfo& session, const RuntimeSpec& spec) {
    if (!session.model.empty()) return session.model;
    if (!session.tier.empty()) {
        auto it = spec.model_tiers.find(session.tier);
        if (it != spec.model_tiers.end() && !it->second.empty()) return it->second;
    }
    return spec.model;
}

std::string mcp_url(std::string_view gateway_url, std::string_view task) {
    while (!gateway_url.empty() && gateway_url.back() == '/') gateway_url.remove_suffix(1);
    if (gateway_url.empty()) return "";
    return std::string(gateway_url) + "/agents/" + std::string(task) + "/mcp";
}

std::string tail_text(std::string_view text, size_t max) {
    if (text.size() <= max) return std::string(text);
    static constexpr std::string_view kMarker = "...(truncated)...\n";
    if (max <= kMarker.size()) return std::string(kMarker.substr(0, max));
    size_t start = text.size() - (max - kMarker.size());
    while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
    return std::string(kMarker) + std::string(text.substr(start));
}

bool is_reserved_env(std::string_view name) {
    return name == "FRACTA_TASK" || name == "FRACTA_GATEWAY_URL" || name == "FRACTA_GATEWAY_TOKEN";
}

std::string Runtime::executable(const RuntimeSpec& spec) const { return detail::program(spec, name()); }

Env Runtime::environment(const SessionInfo& session, const RuntimeSpec& spec) const {
    Env env;
    // The variables each CLI reads its endpoint from (see RuntimeSpec::base_url).
    static const std::map<std::string_view, std::vector<const char*>> kBaseUrlVariables = {
        {"claude", {"ANTHROPIC_BASE_URL"}},
        {"codex", {"OPENAI_BASE_URL"}},
        {"opencode", {"ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"}}};
    if (auto vars = kBaseUrlVariables.find(name()); vars != kBaseUrlVariables.end() && !spec.base_url.empty())
        for (const char* var : vars->second) env[var] = spec.base_url;
    for (const auto& [key, value] : spec.env)
        if (!is_reserved_env(key)) env[key] = value;
    env["FRACTA_TASK"] = session.task;
    if (auto url = mcp_url(session.gateway_url, session.task); !url.empty()) env["FRACTA_GATEWAY_URL"] = url;
    return env;
}

RunResult Runtime::parse(int exit_code, std::string_view output, Mode mode) const {
    if (mode == Mode::Stream) return detail::plain_result(name(), exit_code, output);
    return parse_batch(exit_code, output);
}

namespace detail {

std::string instructions(const SessionInfo& session) {
    std::string doc;
    if (session.contract.empty())
        doc += "# Task: " + session.task + "\n";
    else
        doc += session.contract + (session.contract.back() == '\n' ? "" : "\n");
    doc += "\n---\n\n## Working as fracta agent \"" + session.task + "\"\n\n";
    if (session.mode == Mode::Batch)
        doc += "- Nobody is watching this session to answer questions: decide, act, and finish on your own.\n";
    else
        doc += "- This session stays open: messages may arrive as new input while you work. Do not wait for them.\n";
    if (session.base_branch.empty())
        doc += "- Your workspace is on its own branch.";
    else
        doc += "- Your workspace is on its own branch, made from `" + session.base_branch + "`.";
    doc += " Commit your work there (`git add`, `git commit`) before you stop; do not push, merge or rebase.\n";
    doc += "- End with a short summary of what you did and what is left: it becomes your reported result.\n";
    if (!session.gateway_url.empty()) {
        doc += "\n### fracta tools (MCP server `fracta`)\n\n";
        for (const AgentTool& tool : agent_tools()) doc += "- `" + std::string(tool.name) + "`: " + tool.description + "\n";
        doc += "\nOther tools on that server are named `<backend>__<tool>`.\n";
    }
    return doc;
}

std::string prompt(const SessionInfo& session, std::string_view doc, bool name_task) {
    if (!session.prompt.empty()) return session.prompt;
    if (!session.resume_token.empty())
        return session.gateway_url.empty()
                   ? "Continue your task."
                   : "You have new messages: read them with the fracta_inbox tool, then continue your task.";
    if (session.contract.empty()) return session.task;
    std::string p = "Read " + std::string(doc) + " and carry out the task it describes, on your own, until it is done.";
    if (name_task) p += " You are fracta agent \"" + session.task + "\".";
    return p;
}

std::string positional(std::string text) {
    if (!text.empty() && text.front() == '-') text.insert(text.begin(), ' ');
    return text;
}

std::string program(const RuntimeSpec& spec, std::string_view fallback) {
    return spec.program.empty() ? std::string(fallback) : spec.program;
}

const std::vector<std::string>& default_allowed_tools() {
    static const std::vector<std::string> tools = {"Read", "Edit", "Write", "Bash"};
    return tools;
}

Argv with_launcher(std::string_view runtime, std::string_view setup, Argv argv) {
    std::string script = "s=${FRACTA_SESSION_DIR:-$HOME/.fracta/agents/$FRACTA_TASK}/" + std::string(runtime) +
                         "\nmkdir -p \"$s\" || exit 1\n" + std::string(setup) + "exec \"$@\"\n";
    Argv out = {"/bin/sh", "-c", std::move(script), "fracta-" + std::string(runtime)};
    out.insert(out.end(), std::make_move_iterator(argv.begin()), std::make_move_iterator(argv.end()));
    return out;
}

std::vector<Json> json_lines(std::string_view output) {
    std::vector<Json> objects;
    while (!output.empty()) {
        size_t nl = output.find('\n');
        std::string_view line = output.substr(0, nl);
        output = nl == std::string_view::npos ? std::string_view() : output.substr(nl + 1);
        size_t first = line.find_first_not_of(" \t\r");
        if (first == std::string_view::npos || line[first] != '{') continue;
        Json value = Json::parse(line.begin() + first, line.end(), nullptr, false);
        if (!value.is_discarded() && value.is_object()) objects.push_back(std::move(value));
    }
    return objects;
}

std::string one_line(std::string_view text, size_t max) {
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return "";
    text = text.substr(first);
    text = text.substr(0, text.find_first_of("\r\n"));
    if (text.size() <= max) return std::string(text);
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return std::string(text.substr(0, cut)) + "...";
}

std::string exit_reason(std::string_view runtime, int exit_code) {
    return std::string(runtime) + " exited with status " + std::to_string(exit_code);
}

RunResult plain_result(std::string_view runtime, int exit_code, std::string_view output) {
    RunResult r;
    r.success = exit_code == 0;
    r.text = tail_text(strip_terminal_escapes(output));
    if (!r.success) r.error = exit_reason(runtime, exit_code);
    return r;
}

RunResult settle(RunResult r, std::string_view runtime, int exit_code, std::string_view output, std::string error) {
    if (error.empty() && exit_code != 0) error = exit_reason(runtime, exit_code);
    r.success = error.empty();
    r.error = std::move(error);
    if (!r.success && r.text.empty()) r.text = tail_text(output);
    return r;
}

std::string json_file(const Json& value) { return to_line(value) + "\n"; }

std::string str(const Json& object, const char* key) {
    if (!object.is_object()) return "";
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::optional<int64_t> integer(const Json& object, const char* key) {
    if (!object.is_object()) return std::nullopt;
    auto it = object.find(key);
    if (it == object.end()) return std::nullopt;
    if (it->is_number_unsigned()) return static_cast<int64_t>(it->get<uint64_t>());
    if (it->is_number_integer() && it->get<int64_t>() >= 0) return it->get<int64_t>();
    return std::nullopt;
}

std::optional<double> number(const Json& object, const char* key) {
    if (!object.is_object()) return std::nullopt;
    auto it = object.find(key);
    if (it == object.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
}

std::optional<int64_t> add(std::optional<int64_t> a, std::optional<int64_t> b) {
    if (!a && !b) return std::nullopt;
    return a.value_or(0) + b.value_or(0);
}

std::optional<double> add(std::optional<double> a, std::optional<double> b) {
    if (!a && !b) return std::nullopt;
    return a.value_or(0) + b.value_or(0);
}

}  // namespace detail
}  // namespace fracta::runtime
