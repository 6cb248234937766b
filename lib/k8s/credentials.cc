#include "k8s/credentials.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "proc/run.h"

namespace fracta::k8s {
namespace {

std::string last_line(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    auto nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
}

}  // namespace

Result<ExecCredential> parse_exec_credential(std::string_view out, const std::string& api_version,
                                             const std::string& what) {
    auto parsed = parse_json(out);
    if (!parsed.ok() || !parsed->is_object()) return failure(what + ": output is not an ExecCredential JSON object");
    const Json& cred = *parsed;
    auto str = [](const Json& o, const char* key) {
        auto it = o.find(key);
        return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (str(cred, "kind") != "ExecCredential") return failure(what + ": output is not an ExecCredential");
    if (str(cred, "apiVersion") != api_version)
        return failure(what + ": answered apiVersion \"" + str(cred, "apiVersion") + "\", expected \"" +
                       api_version + "\"");
    auto status_it = cred.find("status");
    if (status_it == cred.end() || !status_it->is_object()) return failure(what + ": ExecCredential has no status");
    const Json& status = *status_it;
    ExecCredential answer;
    answer.auth.token = str(status, "token");
    // Unlike a kubeconfig's -data fields, these are PEM text, not base64.
    std::string cert = str(status, "clientCertificateData"), key = str(status, "clientKeyData");
    if (cert.empty() != key.empty())
        return failure(what + ": clientCertificateData and clientKeyData must come together");
    if (answer.auth.token.empty() && cert.empty())
        return failure(what + ": ExecCredential has neither a token nor a client certificate");
    answer.auth.cert_pem = std::move(cert);
    answer.auth.key_pem = std::move(key);
    if (auto exp = str(status, "expirationTimestamp"); !exp.empty()) {
        auto t = parse_rfc3339(exp);
        if (!t.ok()) return failure(what + ": bad expirationTimestamp: " + t.error().message);
        answer.expires = *t;
    }
    return answer;
}

Credentials::Credentials(const Config& c, Clock clock) : config_(c), clock_(std::move(clock)) {
    auth_.cert_pem = c.client_cert_pem;
    auth_.key_pem = c.client_key_pem;
    auth_.token = c.token;
    if (c.token_file.empty() && !c.exec) have_ = true;  // nothing ever changes
}

Result<Auth> Credentials::current() {
    if (!config_.token.empty()) return auth_;  // a literal token wins over the file, as in kubectl
    if (!config_.token_file.empty()) {
        FRACTA_TRY(reread_token_file());
    } else if (config_.exec) {
        if (!have_ || (expires_ && !(clock_() < *expires_))) FRACTA_TRY(run_exec());
    }
    return auth_;
}

bool Credentials::invalidate() {
    if (!config_.token.empty()) return false;
    if (!config_.token_file.empty()) {
        stamp_ = FileStamp{};  // read it again even if it looks unchanged
        return true;
    }
    if (config_.exec) {
        have_ = false;
        return true;
    }
    return false;
}

Status Credentials::reread_token_file() {
    struct stat st{};
    if (::stat(config_.token_file.c_str(), &st) != 0)
        return failure("cannot read token file " + config_.token_file + ": " + std::strerror(errno));
    // Rotation replaces the file (kubelet swaps a symlinked directory) or
    // rewrites it: either changes the inode, size or mtime.
    if (st.st_dev == stamp_.dev && st.st_ino == stamp_.ino && st.st_size == stamp_.size &&
        st.st_mtim.tv_sec == stamp_.mtime.tv_sec && st.st_mtim.tv_nsec == stamp_.mtime.tv_nsec)
        return {};
    std::ifstream in(config_.token_file, std::ios::binary);
    if (!in) return failure("cannot read token file " + config_.token_file + ": " + std::strerror(errno));
    std::ostringstream buf;
    buf << in.rdbuf();
    std::string token = buf.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) return failure("token file " + config_.token_file + " is empty");
    auth_.token = std::move(token);
    stamp_ = {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    return {};
}

Status Credentials::run_exec() {
    const ExecPlugin& p = *config_.exec;
    std::string what = "exec credential plugin " + p.command;
    if (p.interactive_mode == "Always")
        return usage_error(what + ": interactiveMode Always needs a terminal, which fracta never has");

    // KUBERNETES_EXEC_INFO as client-go sets it: the request, never interactive.
    Json info = {{"kind", "ExecCredential"}, {"apiVersion", p.api_version}, {"spec", {{"interactive", false}}}};
    if (p.provide_cluster_info) info["spec"]["cluster"] = p.cluster;

    proc::Command cmd;
    cmd.argv.push_back(p.command);
    cmd.argv.insert(cmd.argv.end(), p.args.begin(), p.args.end());
    for (const auto& [name, value] : p.env) cmd.env[name] = value;
    cmd.env["KUBERNETES_EXEC_INFO"] = to_line(info);
    cmd.timeout = std::chrono::seconds(60);
    cmd.max_output = 1 << 20;
    ++exec_runs_;
    auto outcome = proc::run(cmd);
    if (!outcome.ok()) {
        Error e = std::move(outcome).take_error();
        if (e.kind == ErrorKind::NotFound && !p.install_hint.empty()) e.message += " (" + p.install_hint + ")";
        return e.context(what);
    }
    if (outcome->timed_out) return temporary_error(what + ": timed out");
    if (outcome->exit_code != 0) {
        std::string why = last_line(outcome->err);
        return failure(what + ": exited with status " + std::to_string(outcome->exit_code) +
                       (why.empty() ? "" : ": " + why));
    }
    FRACTA_TRY_ASSIGN(cred, parse_exec_credential(outcome->out, p.api_version, what));
    if (cred.auth.cert_pem.empty()) {
        cred.auth.cert_pem = config_.client_cert_pem;  // the kubeconfig's, if any
        cred.auth.key_pem = config_.client_key_pem;
    }
    expires_ = cred.expires;
    auth_ = std::move(cred.auth);
    have_ = true;
    return {};
}

}  // namespace fracta::k8s
