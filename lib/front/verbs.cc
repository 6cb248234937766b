// verbs.cc — the option tables of `fracta` and its verbs, and the one-shot
// client verbs (one request, one answer).
#include "front/verbs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "base/agent.h"
#include "base/io.h"
#include "config/siblings.h"
#include "front/completion.h"
#include "front/format.h"
#include "front/siblings.h"

namespace fracta::front {
namespace {

using Operands = std::vector<std::string>;

struct Verb {
    cli::Command command;
    bool takes_task = true;
    size_t operands_before_rest = 0;  // after this many operands the rest are words, not options (say); 0: never
    Status (*run)(Context&, const cli::Args&, const Operands&);
};

// Every client verb also takes the global --format and --config after its
// name: `fracta list --format text` reads naturally.
std::vector<cli::Option> with_common(std::vector<cli::Option> options) {
    options.push_back({"format", 0, "FORMAT", "json (default) or text"});
    options.push_back({"config", 0, "FILE", "use this fracta.yaml"});
    return options;
}

Status no_more(const Operands& operands, size_t allowed) {
    if (operands.size() > allowed) return usage_error("unexpected argument \"" + operands[allowed] + "\"");
    return {};
}

Status one_of(const std::string& option, const std::string& value, std::initializer_list<const char*> allowed) {
    std::string list;
    for (const char* a : allowed) {
        if (value == a) return {};
        list += list.empty() ? a : std::string(" or ") + a;
    }
    return usage_error("--" + option + ": use " + list + " (got \"" + value + "\")");
}

Result<std::string> read_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return usage_error("cannot read " + path + ": " + io::errno_text(errno));
    auto text = io::read_all(fd, kMaxJsonInput);
    ::close(fd);
    if (!text.ok()) return text.error().context(path);
    return text;
}

// KEY=VALUE pairs of a repeatable option, as a JSON object.
Result<Json> pairs(const cli::Args& a, const std::string& option) {
    Json object = Json::object();
    for (const std::string& pair : a.all(option)) {
        auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0)
            return usage_error("--" + option + ": use KEY=VALUE (got \"" + pair + "\")");
        object[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    return object;
}

Result<long long> signed_int(const std::string& option, const std::string& text) {
    bool negative = !text.empty() && text[0] == '-';
    FRACTA_TRY_ASSIGN(n, cli::parse_int("--" + option, negative ? text.substr(1) : text));
    return negative ? -n : n;
}

Result<Duration> timeout_option(const cli::Args& a) {
    if (!a.has("timeout")) return Duration(std::chrono::minutes(10));
    auto d = parse_duration(a.get("timeout"));
    if (!d.ok()) return d.error().context("--timeout");
    return *d;
}

Result<std::string> lines_option(const cli::Args& a) {
    if (!a.has("lines")) return std::string();
    FRACTA_TRY_ASSIGN(n, cli::parse_int("--lines", a.get("lines")));
    return std::to_string(n);
}

Result<cpapi::Client> open_api(Context& ctx) {
    return cpapi::Client::open({ctx.options.cwd, ctx.options.config_file, ctx.io.warn});
}

// ----------------------------------------------------------------- verbs --

Status spawn(Context& ctx, const cli::Args& a, const Operands& operands) {
    FRACTA_TRY(no_more(operands, 1));
    Json request = {{"task", operands[0]}};
    if (a.has("contract") && a.has("contract-file")) return usage_error("give --contract or --contract-file, not both");
    if (a.has("contract")) request["contract"] = a.get("contract");
    if (a.has("contract-file")) {
        std::string file = a.get("contract-file");
        FRACTA_TRY_ASSIGN(contract, file == "-" ? ctx.io.read_input(kMaxJsonInput) : read_file(file));
        request["contract"] = contract;
    }
    if (a.has("base-branch")) request["base_branch"] = a.get("base-branch");
    if (a.has("model")) request["model"] = a.get("model");
    if (a.has("tier")) {
        FRACTA_TRY(one_of("tier", a.get("tier"), {"heavy", "medium", "light"}));
        request["tier"] = a.get("tier");
    }
    if (a.has("runtime")) request["runtime"] = a.get("runtime");
    if (a.has("check")) request["check"] = a.get("check");
    if (a.has("max-time")) request["timeout"] = a.get("max-time");
    if (a.has("mode")) {
        FRACTA_TRY(one_of("mode", a.get("mode"), {"batch", "stream"}));
        request["mode"] = a.get("mode");
    }
    if (a.has("dispatch")) {
        FRACTA_TRY(one_of("dispatch", a.get("dispatch"), {"direct", "queued"}));
        request["dispatch"] = a.get("dispatch");
    }
    if (a.has("priority")) {
        FRACTA_TRY_ASSIGN(priority, signed_int("priority", a.get("priority")));
        request["priority"] = priority;
    }
    FRACTA_TRY_ASSIGN(labels, pairs(a, "label"));
    if (!labels.empty()) request["labels"] = labels;
    if (a.has("parent")) {
        if (Status ok = check_task_name(a.get("parent")); !ok.ok())
            return std::move(ok).take_error().context("--parent");
        request["parent"] = a.get("parent");
    }
    if (a.has("objective")) request["objective_id"] = a.get("objective");
    FRACTA_TRY_ASSIGN(env, pairs(a, "env"));
    if (!env.empty()) request["env"] = env;
    if (a.has("timeout") && !a.has("wait")) return usage_error("--timeout needs --wait");
    FRACTA_TRY_ASSIGN(timeout, timeout_option(a));

    FRACTA_TRY_ASSIGN(api, open_api(ctx));
    FRACTA_TRY_ASSIGN(answer, api.spawn(request));
    FRACTA_TRY(print(ctx, answer));
    if (!a.has("wait")) return {};
    return wait_for(ctx, api, operands[0], timeout);
}

Status list(Context& ctx, const cli::Args& a, const Operands& operands) {
    FRACTA_TRY(no_more(operands, 0));
    // Refused here, before open_api() may start a control plane for it.
    if (a.has("status") && !is_status(a.get("status")))
        return usage_error("unknown status \"" + a.get("status") +
                           "\" (Pending, Queued, Running, Idle, Completed, Failed, Stopped)");
    FRACTA_TRY_ASSIGN(api, open_api(ctx));
    FRACTA_TRY_ASSIGN(answer, api.list(a.has("status") ? a.get("status") : ""));
    if (!ctx.text()) return print(ctx, answer);
    return ctx.io.write(agent_table(answer.value("agents", Json::array()), now()));
}

Status get(Context& ctx, const cli::Args&, const Operands& operands) {
    FRACTA_TRY(no_more(operands, 1));
    FRACTA_TRY_ASSIGN(api, open_api(ctx));
    FRACTA_TRY_ASSIGN(answer, api.get(operands[0]));
    if (ctx.text() && answer.contains("agent")) return print(ctx, answer["agent"]);
    return print(ctx, answer);
}

Status say(Context& ctx, const cli::Args&, const Operands& operands) {
    if (operands.size() < 2) return usage_error("no message (give the words, or - to read it from stdin)");
    std::string message;
    if (operands.size() == 2 && operands[1] == "-") {
        FRACTA_TRY_ASSIGN(input, ctx.io.read_input(kMaxJsonInput));
        message = std::move(input);
        while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
    } else {
        for (size_t i = 1; i < operands.size(); ++i) message += (i > 1 ? " " : "") + operands[i];
    }
    if (message.empty()) return usage_error("empty message");
    FRACTA_TRY_ASSIGN(api, open_api(ctx));
    FRACTA_TRY_ASSIGN(answer, api.say(operands[0], message));
    if (ctx.text()) return ctx.io.write(answer.value("status", std::string("dispatched")) + "\n");
    return print(ctx, answer);
}

// peek and logs: the agent's output; text prints it raw.
Status output_of(Context& ctx, const cli::Args& a, const Operands& operands, const char* route) {
    FRACTA_TRY(no_more(operands, 1));
    FRACTA_TRY_ASSIGN(lines, lines_option(a));
    FRACTA_TRY_ASSIGN(api, open_api(ctx));
    FRACTA_TRY_ASSIGN(answer, api.output(operands[0], route, lines));
    if (!ctx.text()) return print(ctx, answer);
    std::string output = answer.contains("output") ? text_of(answer["output"]) : "";
    if (!output.empty() && output.back() != '\n') output += '\n';
    return ctx.io.write(output);
}

Status peek(Context& ctx, const cli::Args& a, const Operands& operands) {
    return output_of(ctx, a, operands, "peek");
}

Status logs(Context& ctx, const cli::Args& a, const Operands& operands) {
    return output_of(ctx, a, operands, "logs");
}

Status kill(Context& ctx, const cli::Args& a, const Operands& operands) {
    FRACTA_TRY(no_more(operands, 1));
    FRACTA_TRY_ASSIGN(api, open_api(ctx));
    FRACTA_TRY_ASSIGN(answer, api.kill(operands[0], a.has("keep-files")));
    return print(ctx, answer);
}

Status merge(Context& ctx, const cli::Args&, const Operands& operands) {
    FRACTA_TRY(no_more(operands, 1));
    FRACTA_TRY_ASSIGN(api, open_api(ctx));
    FRACTA_TRY_ASSIGN(answer, api.merge(operands[0]));
    if (ctx.text() && answer.contains("message")) return ctx.io.write(text_of(answer["message"]) + "\n");
    return print(ctx, answer);
}

Status watch_verb(Context& ctx, const cli::Args& a, const Operands& operands) {
    FRACTA_TRY(no_more(operands, 1));
    uint64_t after = 0;
    FRACTA_TRY(cli::int_option(a, "after-seq", after));
    FRACTA_TRY_ASSIGN(api, open_api(ctx));
    return watch(ctx, api, operands[0], after);
}

Status wait_verb(Context& ctx, const cli::Args& a, const Operands& operands) {
    FRACTA_TRY(no_more(operands, 1));
    FRACTA_TRY_ASSIGN(timeout, timeout_option(a));
    FRACTA_TRY_ASSIGN(api, open_api(ctx));
    return wait_for(ctx, api, operands[0], timeout);
}

Status status(Context& ctx, const cli::Args&, const Operands& operands) {
    FRACTA_TRY(no_more(operands, 0));
    FRACTA_TRY_ASSIGN(api, open_api(ctx));
    // A health check reports; it never starts the daemon it is asking about.
    const auto timeout = std::chrono::seconds(10);
    auto health = api.probe("/healthz", timeout);
    bool healthy = health.ok() && health->status == 200;
    bool ready = false;
    if (health.ok()) {
        auto readiness = api.probe("/readyz", timeout);
        ready = readiness.ok() && readiness->status == 200;
    }
    Json report = {{"url", api.url()}, {"healthy", healthy}, {"ready", ready}};
    if (ctx.text()) {
        std::string state = !healthy ? "not answering" : ready ? "healthy, ready" : "healthy, not ready";
        FRACTA_TRY(ctx.io.write("control plane " + api.url() + ": " + state + "\n"));
    } else {
        FRACTA_TRY(print(ctx, report));
    }
    if (!health.ok()) return temporary_error("the control plane is not answering: " + health.error().message);
    if (!healthy)
        return temporary_error("the control plane at " + api.url() + " answered /healthz with HTTP " +
                               std::to_string(health->status));
    return {};
}

const std::vector<std::pair<std::string, Verb>>& verbs();

Status completion(Context& ctx, const cli::Args&, const Operands& operands) {
    if (operands.size() != 1 || operands[0] != "bash") return usage_error("completion: say which shell (bash)");
    std::vector<VerbShape> shapes;
    for (const auto& [name, verb] : verbs()) {
        if (name == "completion") continue;
        VerbShape s{name, {}, verb.takes_task};
        for (const auto& o : verb.command.options) s.options.push_back(o.long_name);
        shapes.push_back(std::move(s));
    }
    return ctx.io.write(bash_completion(shapes, {"init", "serve", "controlplane", "events", "reap", "attach"}));
}

// ----------------------------------------------------------------- tables --

// spawn's options: one for each field of the request it makes.
std::vector<cli::Option> spawn_options() {
    return with_common({
        {"contract", 0, "TEXT", "the instructions (for the shell runtime: a command line)"},
        {"contract-file", 0, "FILE", "read the contract from FILE (- for stdin)"},
        {"runtime", 0, "RUNTIME", "claude, codex, opencode, shell or a configured runtime"},
        {"mode", 0, "MODE", "batch or stream"},
        {"model", 0, "MODEL", "the model to use"},
        {"tier", 0, "TIER", "heavy, medium or light (the runtime's model_tiers)"},
        {"base-branch", 0, "BRANCH", "branch the worktree from this branch"},
        {"check", 0, "COMMAND", "run in the worktree when the agent ends; it must pass (\"\": none)"},
        {"max-time", 0, "DURATION", "fail the agent (reason timeout) after running this long; 0: none"},
        {"priority", 0, "N", "queue priority; higher is claimed first"},
        {"label", 0, "KEY=VALUE", "a label (repeatable)"},
        {"env", 0, "NAME=VALUE", "an environment variable for the agent (repeatable)"},
        {"parent", 0, "TASK", "the agent that spawns this one"},
        {"objective", 0, "ID", "admit it under this objective's budgets"},
        {"dispatch", 0, "HOW", "queued (default) or direct"},
        {"wait", 0, "", "then wait until the agent ends, as `fracta wait`"},
        {"timeout", 0, "DURATION", "with --wait: give up after this long (default 10m)"}
    });
}

using VerbTable = std::vector<std::pair<std::string, Verb>>;

// The verbs on one agent, in --help's order.
VerbTable agent_verbs() {
    return {
        {"spawn",
         {.command =
              {.name = "fracta spawn",
               .synopsis = "TASK [OPTIONS]",
               .summary = "Start an agent (POST /api/v1/agents); print the control plane's answer.",
               .options = spawn_options()},
          .run = spawn}},
        {"list",
         {.command = {.name = "fracta list",
                      .synopsis = "[--status STATUS]",
                      .summary = "The agents: JSON, or a table with --format text.",
                      .options = with_common(
                          {{"status", 0, "STATUS", "only agents with this status (Running, Completed, ...)"}})},
          .takes_task = false,
          .run = list}},
        {"get",
         {.command = {.name = "fracta get", .synopsis = "TASK", .summary = "One agent.", .options = with_common({})},
          .run = get}},
        {"say",
         {.command = {.name = "fracta say",
                      .synopsis = "TASK MESSAGE...",
                      .summary = "Send the agent a message: the words joined by spaces, or stdin for -.",
                      .options = with_common({})},
          .operands_before_rest = 1,
          .run = say}},
        {"peek",
         {.command = {.name = "fracta peek",
                      .synopsis = "TASK [-n N]",
                      .summary = "The agent's recent output.",
                      .options = with_common({{"lines", 'n', "N", "how many lines"}})},
          .run = peek}},
        {"logs",
         {.command = {.name = "fracta logs",
                      .synopsis = "TASK [-n N]",
                      .summary = "The agent's log.",
                      .options = with_common({{"lines", 'n', "N", "how many lines (default 100)"}})},
          .run = logs}},
        {"kill",
         {.command = {.name = "fracta kill",
                      .synopsis = "TASK [--keep-files]",
                      .summary = "Stop the agent.",
                      .options = with_common({{"keep-files", 0, "", "keep its worktree and files"}})},
          .run = kill}},
        {"merge",
         {.command = {.name = "fracta merge",
                      .synopsis = "TASK",
                      .summary = "Merge the agent's branch into the project's current branch.",
                      .options = with_common({})},
          .run = merge}},
    };
}

// Following agents, the control plane, objectives, completion.
VerbTable other_verbs() {
    return {
        {"watch",
         {.command = {.name = "fracta watch",
                      .synopsis = "TASK [--after-seq N]",
                      .summary = "Follow the agent's events until it ends.",
                      .options = with_common({{"after-seq", 0, "N", "only events with seq > N"}})},
          .run = watch_verb}},
        {"wait",
         {.command = {.name = "fracta wait",
                      .synopsis = "TASK [--timeout DURATION]",
                      .summary = "Wait until the agent ends: exit 0 Completed, 1 Failed or Stopped, 111 timeout.",
                      .options = with_common({{"timeout", 0, "DURATION", "give up after this long (default 10m)"}})},
          .run = wait_verb}},
        {"status",
         {.command = {.name = "fracta status",
                      .synopsis = "",
                      .summary = "Whether the control plane answers (/healthz) and is ready (/readyz).",
                      .options = with_common({})},
          .takes_task = false,
          .run = status}},
        {"objectives",
         {.command = {.name = "fracta objectives",
                      .synopsis = "create|list|get ID|unfreeze ID|close ID [OPTIONS]",
                      .summary = "Objectives: budgeted trees of agents (/api/v1/objectives).",
                      .options = with_common(objectives_options())},
          .takes_task = false,
          .run = objectives_verb}},
        {"proposals",
         {.command = {.name = "fracta proposals",
                      .synopsis = "list|approve N|reject N [OPTIONS]",
                      .summary = "Missions agents proposed under their objectives, and their review.",
                      .options = with_common(proposals_options())},
          .takes_task = false,
          .run = proposals_verb}},
        {"completion",
         {.command = {.name = "fracta completion",
                      .synopsis = "bash",
                      .summary = "Print a bash completion script: source <(fracta completion bash)."},
          .takes_task = false,
          .run = completion}},
    };
}

const VerbTable& verbs() {
    static const VerbTable table = [] {
        VerbTable all = agent_verbs();
        for (auto& v : other_verbs()) all.push_back(std::move(v));
        return all;
    }();
    return table;
}

const Verb* find_verb(const std::string& name) {
    for (const auto& [verb_name, verb] : verbs())
        if (verb_name == name) return &verb;
    return nullptr;
}

const cli::Option* find_option(const cli::Command& c, const std::string& long_name, char short_name) {
    for (const cli::Option& o : c.options)
        if ((!long_name.empty() && o.long_name == long_name) || (short_name && o.short_name == short_name)) return &o;
    return nullptr;
}

// Split a verb's words into option words and operands, so that options may
// follow the task (`fracta wait t1 --timeout 30s`), which getopt's "+" mode
// stops at. A "--" ends the options; so does reaching
// `operands_before_rest` operands (say's message may hold dashes).
void split_words(const Verb& verb, const std::vector<std::string>& words, std::vector<std::string>& option_words,
                 Operands& operands) {
    bool rest = false;
    for (size_t i = 0; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (rest) {
            operands.push_back(w);
        } else if (w == "--") {
            rest = true;
        } else if (w.size() > 1 && w[0] == '-') {
            option_words.push_back(w);
            const cli::Option* o = nullptr;
            if (w.rfind("--", 0) == 0 && w.find('=') == std::string::npos)
                o = find_option(verb.command, w.substr(2), 0);
            else if (w[1] != '-' && w.size() == 2)
                o = find_option(verb.command, "", w[1]);
            if (o && !o->value.empty() && i + 1 < words.size()) option_words.push_back(words[++i]);
        } else {
            operands.push_back(w);
            if (verb.operands_before_rest && operands.size() == verb.operands_before_rest) rest = true;
        }
    }
}

Result<std::string> absolute(const std::string& cwd, const std::string& path) {
    if (path.empty()) return usage_error("--config: empty file name");
    return (std::filesystem::path(cwd) / path).lexically_normal().string();
}

Status check_format(const std::string& format) {
    if (format != "json" && format != "text") return usage_error("--format: use json or text (got \"" + format + "\")");
    return {};
}

}  // namespace

Status print(Context& ctx, const Json& answer) {
    if (ctx.text()) return ctx.io.write(key_values(answer));
    return ctx.io.write(to_line(answer) + "\n");
}

const cli::Command& command() {
    static const cli::Command c = [] {
        cli::Command g{"fracta",
                       "[--config FILE] [--format json|text] VERB [ARGS]",
                       "The front door to fracta: run coding agents through the control plane.",
                       {{"config", 0, "FILE", "use this fracta.yaml (default: FRACTA_CONFIG, else the project's)"},
                        {"format", 0, "FORMAT", "json (default: the API's answer, one line) or text"}},
                       {},
                       "Client verbs talk to the control plane: FRACTA_CP_URL, else control_plane_api.url,\n"
                       "else the local daemon, started on demand (not with FRACTA_NO_AUTOSTART=1).\n"
                       "`fracta VERB --help` shows a verb's options."};
        for (const auto& [name, verb] : verbs()) {
            std::string left = name;
            if (!verb.command.synopsis.empty()) left += " " + verb.command.synopsis;
            g.operations.push_back({left, verb.command.summary});
        }
        g.operations.push_back({"init [ARGS]", "fracta-init: scaffold a project"});
        g.operations.push_back({"serve [ARGS]", "fracta-gw stdio: the MCP server an AI CLI runs"});
        g.operations.push_back({"controlplane [ARGS]", "fracta-cp: start, stop, status or run the control plane"});
        g.operations.push_back({"events [ARGS]", "fracta-events: the event log"});
        g.operations.push_back({"reap [ARGS]", "fracta-reap: clean up what policy says is garbage"});
        g.operations.push_back({"attach TASK [--detach-key KEY]",
                                "the provider's attach: this terminal on a stream agent's (C-\\ detaches)"});
        return g;
    }();
    return c;
}

Result<Options> global_options(const cli::Args& args, const std::string& cwd) {
    Options o;
    o.cwd = cwd;
    if (args.has("format")) {
        o.format = args.get("format");
        o.format_given = true;
        FRACTA_TRY(check_format(o.format));
    }
    if (args.has("config")) {
        FRACTA_TRY_ASSIGN(file, absolute(cwd, args.get("config")));
        o.config_file = file;
    }
    return o;
}

bool is_dispatch_verb(const std::string& verb) {
    return sibling_of(verb).has_value();
}

Status run(const std::string& verb_name, const std::vector<std::string>& args, const Options& options, Io& io) {
    const Verb* verb = find_verb(verb_name);
    if (!verb) return usage_error("unknown verb \"" + verb_name + "\" (try --help)");

    std::vector<std::string> option_words = {verb->command.name};
    Operands operands;
    split_words(*verb, args, option_words, operands);
    auto parsed = cli::parse(verb->command, option_words);
    if (!parsed.ok()) return parsed.error().context(verb_name);
    const cli::Args& a = *parsed;
    if (a.has("help")) return io.write(cli::help_text(verb->command));
    if (a.has("version")) return io.write(cli::version_text("fracta"));

    Context ctx{options, io};
    if (a.has("format")) {
        ctx.options.format = a.get("format");
        FRACTA_TRY(check_format(ctx.options.format));
    }
    if (a.has("config")) {
        FRACTA_TRY_ASSIGN(file, absolute(options.cwd, a.get("config")));
        ctx.options.config_file = file;
    }

    std::string what = verb_name;
    if (verb->takes_task) {
        if (operands.empty()) return usage_error(verb_name + ": no TASK given");
        what += " " + operands[0];
        if (Status ok = check_task_name(operands[0]); !ok.ok()) return std::move(ok).take_error().context(what);
    }
    Status done = verb->run(ctx, a, operands);
    if (!done.ok()) return std::move(done).take_error().context(what);
    return {};
}

Error exec_sibling(const std::string& verb, const std::vector<std::string>& args, const Options& options) {
    auto sibling = sibling_of(verb);
    if (!sibling) return usage_error("unknown verb \"" + verb + "\" (try --help)");
    if (verb == "attach") {
        auto chosen = attach_sibling(options.config_file, options.cwd);
        if (!chosen.ok()) return chosen.error().context(verb);
        sibling = std::move(*chosen);
    }
    auto path = config::find_sibling(sibling->program);
    if (!path.ok()) return path.error().context(verb);
    std::vector<std::string> argv = {sibling->program};
    if (options.format_given) argv.insert(argv.end(), {"--format", options.format});
    argv.insert(argv.end(), sibling->leading.begin(), sibling->leading.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return exec_program(*path, argv, options.config_file).context(verb);
}

}  // namespace fracta::front
