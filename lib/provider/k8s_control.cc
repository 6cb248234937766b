// k8s_control.cc — the fracta-spawn-k8s ops that need the session's
// supervisor (typing, signals, metadata, activity, files): its control API
// on the pod's port 7070, reached through the API server's pods/proxy. The
// API server drops our Authorization header before the pod, so the
// session's control token (kept in its Secret) travels as X-Fracta-Token.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "k8s/objects_names.h"
#include "provider/k8s_internal.h"
#include "session/workspace.h"

namespace fracta::provider::k8s_op {
namespace {

std::string query_escape(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string answer_message(const http::ClientResponse& r) {
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"];
    if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"];
    std::string line = r.body.substr(0, r.body.find('\n'));
    return line.empty() ? "HTTP " + std::to_string(r.status) : line;
}

}  // namespace

Result<http::ClientResponse> control_call(k8s::Client& client, const std::string& pod, const std::string& token,
                                          const std::string& method, const std::string& path,
                                          const std::string& body) {
    if (pod.empty()) return failure("no pod to reach the supervisor in");
    auto r = client.proxy(pod, k8s::kControlPort, method, path, body, {{"X-Fracta-Token", token}});
    if (!r.ok()) return std::move(r).take_error();
    int code = r->status;
    if (code >= 200 && code < 300) return std::move(*r);
    std::string what = "supervisor of pod " + pod + ": " + method + " " + path + ": " + answer_message(*r);
    if (code == 400) return usage_error(what);
    if (code == 502 || code == 503 || code == 504) return temporary_error(what);
    return failure(what);
}

bool is_control_operation(const std::string& op) {
    static const std::set<std::string> ops = {"nudge",    "send-keys",   "interrupt",        "get-last-activity",
                                              "set-meta", "get-meta",    "remove-meta",      "clear-scrollback",
                                              "copy-to",  "process-alive"};
    return ops.count(op) != 0;
}

Result<int> run_control(k8s::Client& client, const std::string& op, const std::vector<std::string>& args,
                        const k8s::ObjectNames& names, K8sIo& io) {
    // Input first: it is the caller's to give whether or not the session exists.
    std::string input;
    if (op == "nudge" || op == "set-meta" || op == "process-alive") {
        FRACTA_TRY_ASSIGN(in, io.read_input(1 << 20));
        input = std::move(in);
    }
    if (op == "nudge") {
        while (!input.empty() && (input.back() == '\n' || input.back() == '\r')) input.pop_back();
        if (input.empty()) return 0;  // nudge adds the Enter itself
    }
    std::string src, rel;
    if (op == "copy-to") {
        if (args.size() < 2) return usage_error("copy-to: usage: copy-to NAME SRC [REL_DST]");
        src = args[1];
        rel = args.size() > 2 ? args[2] : "";
        std::error_code ec;
        if (!std::filesystem::exists(src, ec)) return 0;
        if (!rel.empty()) FRACTA_TRY(session::validate_relative_path(rel));
        if (!std::filesystem::is_regular_file(src, ec))
            return fail(ErrorKind::Unsupported, "copy-to: only regular files can be copied into a pod (" + src + ")");
        if (rel.empty()) rel = std::filesystem::path(src).filename().string();
    }

    FRACTA_TRY_ASSIGN(pod, find_pod(client, names));
    bool running = pod && !pod->contains("/metadata/deletionTimestamp"_json_pointer) &&
                   pod->value("/status/phase"_json_pointer, std::string()) == "Running";
    if (!running) {
        if (op == "get-last-activity" || op == "get-meta") return 0;  // empty
        if (op == "process-alive") {
            FRACTA_TRY(io.write("false\n"));
            return 0;
        }
        if (op == "set-meta" || op == "copy-to") return failure(op + ": no running session \"" + names.raw + "\"");
        return 0;  // absent: nothing to type into or signal, and not an error
    }
    const std::string pod_name = (*pod)["metadata"]["name"];
    FRACTA_TRY_ASSIGN(secret, client.get(k8s::kSecrets, names.secret));
    FRACTA_TRY_ASSIGN(token, k8s::secret_value(secret, k8s::kSupervisorTokenKey));
    auto call = [&](const std::string& method, const std::string& path, const std::string& body = "") {
        return control_call(client, pod_name, token, method, path, body);
    };

    if (op == "nudge") {
        FRACTA_TRY(call("POST", "/v1/nudge", to_line(Json{{"text", input}})));
    } else if (op == "send-keys") {
        FRACTA_TRY(call("POST", "/v1/keys", to_line(Json{{"keys", std::vector<std::string>(args.begin() + 1, args.end())}})));
    } else if (op == "interrupt") {
        FRACTA_TRY(call("POST", "/v1/interrupt"));
    } else if (op == "clear-scrollback") {
        FRACTA_TRY(call("POST", "/v1/clear"));
    } else if (op == "get-last-activity" || op == "process-alive") {
        FRACTA_TRY_ASSIGN(r, call("GET", "/v1/status"));
        Json j = Json::parse(r.body, nullptr, false);
        if (!j.is_object()) return failure(op + ": the supervisor's status is not JSON");
        if (op == "process-alive") {
            // The supervisor knows whether the session's command runs, not
            // the names of what runs under it: the command is the agent.
            FRACTA_TRY(io.write(j.value("state", "") == "running" ? "true\n" : "false\n"));
        } else {
            std::string t = j.value("last_activity", "");
            FRACTA_TRY(io.write(t.empty() ? "" : t + "\n"));
        }
    } else if (op == "get-meta") {
        FRACTA_TRY_ASSIGN(r, call("GET", "/v1/meta/" + args[1]));
        Json j = Json::parse(r.body, nullptr, false);
        if (!j.is_object() || !j.contains("value") || !j["value"].is_string())
            return failure("get-meta: the supervisor's answer has no value");
        FRACTA_TRY(io.write(j["value"].get<std::string>()));
    } else if (op == "set-meta") {
        FRACTA_TRY(call("PUT", "/v1/meta/" + args[1], input));
    } else if (op == "remove-meta") {
        FRACTA_TRY(call("DELETE", "/v1/meta/" + args[1]));
    } else if (op == "copy-to") {
        std::ifstream in(src, std::ios::binary);
        std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) return failure("copy-to: cannot read " + src);
        if (content.size() > (64u << 20)) return usage_error("copy-to: " + src + " is over 64 MiB");
        FRACTA_TRY(call("PUT", "/v1/files?path=" + query_escape(rel), content));
    }
    return 0;
}

}  // namespace fracta::provider::k8s_op
