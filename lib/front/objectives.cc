// objectives.cc — `fracta objectives ACTION` and `fracta proposals ACTION`:
// thin clients of the objective routes of the control plane's API.
#include "base/agent.h"
#include "cpapi/client.h"
#include "front/verbs.h"

namespace fracta::front {
namespace {

using Operands = std::vector<std::string>;

Result<cpapi::Client> open_api(Context& ctx) {
    return cpapi::Client::open({ctx.options.cwd, ctx.options.config_file, ctx.io.warn});
}

Status operands_exactly(const Operands& operands, size_t n, const char* synopsis) {
    if (operands.size() != n) return usage_error(std::string("use: ") + synopsis);
    return {};
}

// POST /api/v1/objectives from --description and the budget options.
Result<Json> create_request(const cli::Args& a) {
    if (!a.has("description")) return usage_error("create: --description is required");
    Json body = {{"description", a.get("description")}};
    if (a.has("id")) body["id"] = a.get("id");
    for (const char* key : {"max-missions", "max-depth", "max-branching", "max-concurrent", "max-tokens", "breaker"}) {
        if (!a.has(key)) continue;
        FRACTA_TRY_ASSIGN(n, cli::parse_int(std::string("--") + key, a.get(key)));
        std::string field = key;
        for (char& c : field) c = c == '-' ? '_' : c;
        body[field] = n;
    }
    if (a.has("max-runtime")) body["max_runtime"] = a.get("max-runtime");
    if (a.has("max-cost-usd")) {
        try {
            body["max_cost_usd"] = std::stod(a.get("max-cost-usd"));
        } catch (...) {
            return usage_error("--max-cost-usd: a number of US dollars");
        }
    }
    return body;
}

// Ids are task names and statuses plain words (checked before they go
// into a path or query): nothing to percent-encode.
std::string objective_path(const std::string& id, const std::string& rest = "") {
    return "/api/v1/objectives/" + id + rest;
}

Status plain_word(const char* option, const std::string& value) {
    for (char c : value)
        if (!(c >= 'a' && c <= 'z') && c != '_')
            return usage_error(std::string("--") + option + ": unknown value \"" + value + "\"");
    return {};
}

}  // namespace

std::vector<cli::Option> objectives_options() {
    return {{"description", 0, "TEXT", "create: what the objective is after"},
            {"id", 0, "ID", "create: its id (default: minted)"},
            {"max-missions", 0, "N", "create: missions it admits in all (0: no limit)"},
            {"max-depth", 0, "N", "create: how deep its tree of agents may grow"},
            {"max-branching", 0, "N", "create: live children per agent"},
            {"max-concurrent", 0, "N", "create: live agents at a time"},
            {"max-runtime", 0, "DURATION", "create: how long it stays open (0: no limit)"},
            {"max-tokens", 0, "N", "create: tokens its agents may use"},
            {"max-cost-usd", 0, "USD", "create: what its agents may cost"},
            {"breaker", 0, "N", "create: failed missions in a row that freeze it"},
            {"status", 0, "STATUS", "list: only this status; close: answered, disproven or exhausted"},
            {"outcome", 0, "TEXT", "close: the outcome"}};
}

Status objectives_verb(Context& ctx, const cli::Args& a, const Operands& operands) {
    const char* synopsis = "fracta objectives create|list|get ID|unfreeze ID|close ID";
    if (operands.empty()) return usage_error(std::string("use: ") + synopsis);
    const std::string& action = operands[0];
    Json body = Json::object();
    std::string method = "POST", path;
    if (action == "create") {
        FRACTA_TRY(operands_exactly(operands, 1, synopsis));
        FRACTA_TRY_ASSIGN(request, create_request(a));
        body = request;
        path = "/api/v1/objectives";
    } else if (action == "list") {
        FRACTA_TRY(operands_exactly(operands, 1, synopsis));
        method = "GET";
        if (a.has("status")) FRACTA_TRY(plain_word("status", a.get("status")));
        path = "/api/v1/objectives" + (a.has("status") ? "?status=" + a.get("status") : "");
    } else if (action == "get" || action == "unfreeze" || action == "close") {
        FRACTA_TRY(operands_exactly(operands, 2, synopsis));
        FRACTA_TRY(check_task_name(operands[1]));
        if (action == "get") method = "GET";
        path = objective_path(operands[1], action == "get" ? "" : "/" + action);
        if (a.has("status")) body["status"] = a.get("status");
        if (a.has("outcome")) body["outcome"] = a.get("outcome");
    } else {
        return usage_error("unknown action \"" + action + "\" (" + synopsis + ")");
    }
    FRACTA_TRY_ASSIGN(api, open_api(ctx));
    FRACTA_TRY_ASSIGN(answer, api.call(method, path, method == "GET" ? "" : to_line(body)));
    if (ctx.text() && answer.contains("objective")) return print(ctx, answer["objective"]);
    return print(ctx, answer);
}

std::vector<cli::Option> proposals_options() {
    return {{"objective", 0, "ID", "list: only this objective's"},
            {"status", 0, "STATUS", "list: only pending, admitted, refused or rejected ones"},
            {"note", 0, "TEXT", "reject: why"}};
}

Status proposals_verb(Context& ctx, const cli::Args& a, const Operands& operands) {
    const char* synopsis = "fracta proposals list|approve N|reject N";
    if (operands.empty()) return usage_error(std::string("use: ") + synopsis);
    const std::string& action = operands[0];
    std::string method = "POST", path, body;
    if (action == "list") {
        FRACTA_TRY(operands_exactly(operands, 1, synopsis));
        method = "GET";
        std::string query;
        if (a.has("objective")) FRACTA_TRY(check_task_name(a.get("objective")));
        if (a.has("status")) FRACTA_TRY(plain_word("status", a.get("status")));
        if (a.has("objective")) query += "&objective=" + a.get("objective");
        if (a.has("status")) query += "&status=" + a.get("status");
        path = "/api/v1/proposals" + (query.empty() ? "" : "?" + query.substr(1));
    } else if (action == "approve" || action == "reject") {
        FRACTA_TRY(operands_exactly(operands, 2, synopsis));
        FRACTA_TRY_ASSIGN(id, cli::parse_int("proposal", operands[1]));
        path = "/api/v1/proposals/" + std::to_string(id) + "/" + action;
        body = to_line(a.has("note") ? Json{{"note", a.get("note")}} : Json::object());
    } else {
        return usage_error("unknown action \"" + action + "\" (" + synopsis + ")");
    }
    FRACTA_TRY_ASSIGN(api, open_api(ctx));
    FRACTA_TRY_ASSIGN(answer, api.call(method, path, body));
    return print(ctx, answer);
}

}  // namespace fracta::front
