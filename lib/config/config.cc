#include "config/config.h"

#include "base/text.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace fracta::config {
namespace {

namespace fs = std::filesystem;

// Every key of spec/config.md. "*" marks maps whose keys are user-chosen
// (runtime names, server ids, labels); below them anything goes.
const Json& known_keys() {
    static const Json keys = Json::parse(R"({
      "project": {"default_base_branch": 0, "allowed_tools": 0, "check": 0, "check_timeout": 0},
      "agents": {"default_runtime": 0, "default_mode": 0, "allow_subagents": 0, "max_depth": 0,
                 "max_children": 0, "mailbox_max": 0, "timeout": 0, "agent_runtimes": "*"},
      "credentials": "*",
      "runtime": {"backend": 0,
                  "state": {"driver": 0, "sqlite": {"path": 0}, "postgres": {"dsn": 0}},
                  "queue": {"workers": 0, "lease_timeout": 0, "max_attempts": 0, "max_concurrent": 0,
                            "start_timeout": 0},
                  "kubernetes": {"namespace": 0, "image": 0, "image_pull_policy": 0, "service_account": 0,
                                 "job_ttl_seconds": 0, "resources": "*", "labels": "*", "annotations": "*",
                                 "node_selector": "*", "tolerations": 0, "extra_volumes": 0,
                                 "extra_volume_mounts": 0, "kubeconfig": 0, "context": 0}},
      "control_plane_api": {"listen": 0, "url": 0, "token": 0, "insecure_listen": 0, "read_only_token": 0,
                            "auth_rate_limit": {"failures": 0, "window": 0},
                            "tls": {"cert_file": 0, "key_file": 0, "client_ca_file": 0}, "ca_file": 0},
      "gateway": {"listen": 0, "url": 0, "insecure_listen": 0, "auth_rate_limit": {"failures": 0, "window": 0},
                  "tls": {"cert_file": 0, "key_file": 0, "client_ca_file": 0}, "ca_file": 0},
      "reaper": {"interval": 0, "max_age": 0, "keep_terminal": 0, "max_concurrent": 0},
      "mcp_servers": {"servers": "*"},
      "tool_policy": {"allow_only": 0, "deny": 0},
      "logging": {"level": 0, "format": 0, "max_bytes": 0},
      "events": {"retention": 0},
      "objectives": {"approval": 0, "breaker": 0}
    })");
    return keys;
}

void check_unknown(const Json& value, const Json& schema, const std::string& pointer, const std::string& path,
                   const yaml::Document& doc, std::vector<std::string>& warnings) {
    if (!value.is_object() || !schema.is_object()) return;
    for (const auto& [key, child] : value.items()) {
        std::string child_path = path.empty() ? key : path + "." + key;
        auto it = schema.find(key);
        if (it == schema.end()) {
            warnings.push_back(doc.where(pointer + "/" + key) + ": unknown key \"" + child_path + "\"");
            continue;
        }
        check_unknown(child, *it, pointer + "/" + key, child_path, doc, warnings);
    }
}

// Typed readers: each names the key and points at it on error.
class Reader {
public:
    explicit Reader(const yaml::Document& doc) : doc_(doc) {}

    Status string(const std::string& dotted, std::string& out) {
        const Json* v = find(dotted);
        if (!v || v->is_null()) return {};
        if (!v->is_string()) return bad(dotted, "must be a string");
        out = v->get<std::string>();
        return {};
    }

    Status one_of(const std::string& dotted, std::string& out, std::initializer_list<const char*> allowed) {
        FRACTA_TRY(string(dotted, out));
        std::string list;
        for (const char* a : allowed) {
            if (out == a) return {};
            list += list.empty() ? a : std::string(", ") + a;
        }
        return bad(dotted, "must be one of " + list + " (got \"" + out + "\")");
    }

    Status positive_int(const std::string& dotted, int& out, bool zero_ok = false, long long max = 1000000) {
        const Json* v = find(dotted);
        if (!v || v->is_null()) return {};
        if (!v->is_number_integer() || v->get<long long>() < (zero_ok ? 0 : 1) || v->get<long long>() > max)
            return bad(dotted, zero_ok ? "must be a non-negative integer" : "must be a positive integer");
        out = v->get<int>();
        return {};
    }

    Status duration(const std::string& dotted, Duration& out) {
        const Json* v = find(dotted);
        if (!v || v->is_null()) return {};
        if (!v->is_string()) return bad(dotted, "must be a duration such as 30s or 10m");
        auto d = parse_duration(v->get<std::string>());
        if (!d.ok() || d->count() <= 0) return bad(dotted, "must be a positive duration such as 30s or 10m");
        out = *d;
        return {};
    }

    Status string_list(const std::string& dotted, std::vector<std::string>& out) {
        const Json* v = find(dotted);
        if (!v || v->is_null()) return {};
        if (!v->is_array()) return bad(dotted, "must be a list of strings");
        out.clear();
        for (const Json& item : *v) {
            if (!item.is_string()) return bad(dotted, "must be a list of strings");
            out.push_back(item.get<std::string>());
        }
        return {};
    }

    // A mapping of scalars, each given as text (numbers and booleans too).
    Status string_map(const std::string& dotted, std::map<std::string, std::string>& out) {
        FRACTA_TRY(object(dotted));
        const Json* v = find(dotted);
        if (!v || v->is_null()) return {};
        for (const auto& [key, item] : v->items()) {
            if (item.is_string()) out[key] = item.get<std::string>();
            else if (item.is_primitive() && !item.is_null()) out[key] = item.dump();
            else return bad(dotted + "." + key, "must be a scalar");
        }
        return {};
    }

    Status boolean(const std::string& dotted, bool& out) {
        const Json* v = find(dotted);
        if (!v || v->is_null()) return {};
        if (!v->is_boolean()) return bad(dotted, "must be true or false");
        out = v->get<bool>();
        return {};
    }

    Status secret_source(const std::string& key, const Json& item, SecretSource& src) {
        int readers = 0;
        for (const auto& [what, v] : item.items()) {
            if (what != "env" && what != "file" && what != "command" && what != "secret" && what != "key")
                return bad(key + "." + what, "unknown key (env, file, command, secret, key)");
            if (!v.is_string()) return bad(key + "." + what, "must be a string");
            if (v.get<std::string>().empty()) return bad(key + "." + what, "must not be empty");
            const std::string text = v.get<std::string>();
            if (what == "secret") {
                src.secret = text;
            } else if (what == "key") {
                src.secret_key = text;
            } else {
                ++readers;
                (what == "env" ? src.env : what == "file" ? src.file : src.command) = text;
            }
        }
        if (readers > 1) return bad(key, "takes one of env, file and command");
        if (!src.secret_key.empty() && src.secret.empty()) return bad(key + ".key", "needs secret: the Secret's name");
        if (readers == 0 && src.secret.empty()) return bad(key, "needs env, file, command or secret");
        if (!src.secret.empty() && src.secret_key.empty()) return bad(key + ".secret", "needs key: the Secret's key");
        return {};
    }

    // variable → a string, or a mapping of at most one of env, file, command
    // and, for the kubernetes backend, a Secret's key: {secret: NAME, key: KEY}.
    Status secret_env(const std::string& dotted, SecretEnv& out) {
        FRACTA_TRY(object(dotted));
        const Json* v = find(dotted);
        if (!v || v->is_null()) return {};
        for (const auto& [name, item] : v->items()) {
            const std::string key = dotted + "." + name;
            if (name.empty() || name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
                                    std::string::npos || (name[0] >= '0' && name[0] <= '9'))
                return bad(key, "not a variable name (letters, digits and '_')");
            SecretSource src;
            if (item.is_string()) {
                src.value = item.get<std::string>();
            } else if (item.is_object()) {
                FRACTA_TRY(secret_source(key, item, src));
            } else {
                return bad(key, "must be a string or a mapping: {env: VAR}, {file: PATH}, {command: CMD}, {secret: NAME, key: KEY}");
            }
            out[name] = std::move(src);
        }
        return {};
    }

    // A duration where 0 (or "0s") means none.
    Status optional_duration(const std::string& dotted, Duration& out) {
        const Json* v = find(dotted);
        if (v && ((v->is_number_integer() && v->get<long long>() == 0) || (v->is_string() && *v == "0"))) {
            out = Duration{0};
            return {};
        }
        return duration(dotted, out);
    }

    const Json* value(const std::string& dotted) const { return find(dotted); }

    Status object(const std::string& dotted) {
        const Json* v = find(dotted);
        if (v && !v->is_null() && !v->is_object()) return bad(dotted, "must be a mapping");
        return {};
    }

private:
    static std::string pointer_of(const std::string& dotted) {
        std::string p = "/" + dotted;
        for (char& c : p)
            if (c == '.') c = '/';
        return p;
    }
    const Json* find(const std::string& dotted) const {
        const Json* v = &doc_.root;
        for (const std::string& key : split(dotted, '.')) {
            if (!v->is_object() || !v->contains(key)) return nullptr;
            v = &(*v)[key];
        }
        return v;
    }
public:
    std::string where(const std::string& dotted) const { return doc_.where(pointer_of(dotted)); }

private:
    Error bad(const std::string& dotted, const std::string& why) const {
        return usage_error(doc_.where(pointer_of(dotted)) + ": " + dotted + ": " + why);
    }
    const yaml::Document& doc_;
};

Status read_agents(Reader& r, Config& c) {
    FRACTA_TRY(r.string("project.default_base_branch", c.default_base_branch));
    FRACTA_TRY(r.string_list("project.allowed_tools", c.allowed_tools));
    FRACTA_TRY(r.string("project.check", c.check));
    FRACTA_TRY(r.duration("project.check_timeout", c.check_timeout));
    FRACTA_TRY(r.optional_duration("agents.timeout", c.agent_timeout));
    FRACTA_TRY(r.object("credentials"));
    if (const Json* profiles = r.value("credentials"); profiles && profiles->is_object())
        for (const auto& [profile, entry] : profiles->items())
            FRACTA_TRY(r.secret_env("credentials." + profile, c.credentials[profile]));
    FRACTA_TRY(r.string("agents.default_runtime", c.default_runtime));
    FRACTA_TRY(r.one_of("agents.default_mode", c.default_mode, {"batch", "stream"}));
    FRACTA_TRY(r.boolean("agents.allow_subagents", c.allow_subagents));
    FRACTA_TRY(r.positive_int("agents.max_depth", c.max_depth));
    FRACTA_TRY(r.positive_int("agents.max_children", c.max_children));
    FRACTA_TRY(r.one_of("objectives.approval", c.objectives_approval, {"auto", "manual"}));
    FRACTA_TRY(r.positive_int("objectives.breaker", c.objectives_breaker, true));
    int mailbox_max = 0;  // read where it is used (cp::mailbox_max), from `document`
    FRACTA_TRY(r.positive_int("agents.mailbox_max", mailbox_max, true, 1000000000));
    FRACTA_TRY(r.object("agents.agent_runtimes"));
    const Json* runtimes = r.value("agents.agent_runtimes");
    if (!runtimes || !runtimes->is_object()) return {};
    for (const auto& [name, entry] : runtimes->items()) {
        const std::string base = "agents.agent_runtimes." + name;
        FRACTA_TRY(r.object(base));
        AgentRuntime rt;
        FRACTA_TRY(r.string(base + ".adapter", rt.adapter));
        FRACTA_TRY(r.string(base + ".program", rt.program));
        FRACTA_TRY(r.string(base + ".model", rt.model));
        FRACTA_TRY(r.string_map(base + ".model_tiers", rt.model_tiers));
        FRACTA_TRY(r.string_map(base + ".env", rt.env));
        FRACTA_TRY(r.string(base + ".base_url", rt.base_url));
        FRACTA_TRY(r.secret_env(base + ".secret_env", rt.secret_env));
        FRACTA_TRY(r.string(base + ".credentials", rt.credentials));
        if (!rt.credentials.empty() && !c.credentials.count(rt.credentials))
            return usage_error(r.where(base + ".credentials") + ": " + base + ".credentials: no profile \"" +
                               rt.credentials + "\" under credentials");
        FRACTA_TRY(r.string_list(base + ".clear_keys", rt.clear_keys));
        FRACTA_TRY(r.string_list(base + ".submit_keys", rt.submit_keys));
        FRACTA_TRY(r.positive_int(base + ".max_concurrent", rt.max_concurrent, true));
        c.agent_runtimes[name] = std::move(rt);
    }
    return {};
}

// <section>.auth_rate_limit, .tls and .ca_file, the same for both listeners.
Status read_listener_security(Reader& r, const std::string& section, Listener& l) {
    FRACTA_TRY(r.object(section + ".auth_rate_limit"));
    FRACTA_TRY(r.positive_int(section + ".auth_rate_limit.failures", l.auth_failures, true));
    FRACTA_TRY(r.duration(section + ".auth_rate_limit.window", l.auth_window));
    FRACTA_TRY(r.object(section + ".tls"));
    FRACTA_TRY(r.string(section + ".tls.cert_file", l.tls.cert_file));
    FRACTA_TRY(r.string(section + ".tls.key_file", l.tls.key_file));
    FRACTA_TRY(r.string(section + ".tls.client_ca_file", l.tls.client_ca_file));
    FRACTA_TRY(r.string(section + ".ca_file", l.ca_file));
    if (l.tls.cert_file.empty() != l.tls.key_file.empty())
        return usage_error(r.where(section + ".tls") + ": " + section + ".tls: cert_file and key_file go together");
    if (!l.tls.client_ca_file.empty() && l.tls.cert_file.empty())
        return usage_error(r.where(section + ".tls") + ": " + section +
                           ".tls: client_ca_file needs cert_file and key_file");
    return {};
}

Result<Config> build(yaml::Document doc) {
    Config c;
    if (!doc.root.is_object()) return usage_error(doc.where("") + ": the top level must be a mapping");
    Reader r(doc);
    for (const char* section : {"project", "agents", "runtime", "runtime.state", "runtime.queue",
                                "control_plane_api", "gateway", "reaper", "mcp_servers", "tool_policy", "logging", "events"})
        FRACTA_TRY(r.object(section));
    FRACTA_TRY(r.string("runtime.backend", c.backend));
    if (c.backend != "local" && c.backend != "kubernetes" && c.backend.rfind("exec:", 0) != 0)
        return usage_error(doc.where("/runtime/backend") +
                           ": runtime.backend: must be local, kubernetes or exec:/path (got \"" + c.backend + "\")");
    FRACTA_TRY(r.one_of("runtime.state.driver", c.state.driver, {"sqlite", "postgres"}));
    FRACTA_TRY(r.string("runtime.state.sqlite.path", c.state.sqlite_path));
    FRACTA_TRY(r.string("runtime.state.postgres.dsn", c.state.postgres_dsn));
    if (c.state.driver == "postgres" && c.state.postgres_dsn.empty())
        return usage_error(doc.where("/runtime/state") + ": runtime.state.postgres.dsn: required when driver is postgres");
    FRACTA_TRY(read_agents(r, c));
    FRACTA_TRY(r.positive_int("runtime.queue.workers", c.queue.workers));
    FRACTA_TRY(r.duration("runtime.queue.lease_timeout", c.queue.lease_timeout));
    FRACTA_TRY(r.positive_int("runtime.queue.max_attempts", c.queue.max_attempts));
    FRACTA_TRY(r.duration("runtime.queue.start_timeout", c.queue.start_timeout));
    FRACTA_TRY(r.positive_int("reaper.max_concurrent", c.max_concurrent, true));
    FRACTA_TRY(r.duration("reaper.interval", c.reaper.interval));
    FRACTA_TRY(r.duration("reaper.max_age", c.reaper.max_age));
    FRACTA_TRY(r.duration("reaper.keep_terminal", c.reaper.keep_terminal));
    int retention = 0;  // read where it is used (events::retention), from `document`
    FRACTA_TRY(r.positive_int("events.retention", retention, true, 1000000000));
    FRACTA_TRY(r.string("control_plane_api.listen", c.control_plane.listen));
    FRACTA_TRY(r.string("control_plane_api.url", c.control_plane.url));
    FRACTA_TRY(r.string("control_plane_api.token", c.control_plane.token));
    FRACTA_TRY(r.boolean("control_plane_api.insecure_listen", c.control_plane.insecure_listen));
    FRACTA_TRY(r.string("control_plane_api.read_only_token", c.control_plane.read_only_token));
    FRACTA_TRY(read_listener_security(r, "control_plane_api", c.control_plane));
    FRACTA_TRY(r.string("gateway.listen", c.gateway.listen));
    FRACTA_TRY(r.boolean("gateway.insecure_listen", c.gateway.insecure_listen));
    FRACTA_TRY(r.string("gateway.url", c.gateway.url));
    FRACTA_TRY(read_listener_security(r, "gateway", c.gateway));
    FRACTA_TRY(r.one_of("logging.level", c.logging.level, {"debug", "info", "warn", "error"}));
    FRACTA_TRY(r.one_of("logging.format", c.logging.format, {"text", "json"}));
    int log_max = 0;  // read where it is used (log_max_bytes), from `document`
    FRACTA_TRY(r.positive_int("logging.max_bytes", log_max, true, 1000000000));
    check_unknown(doc.root, known_keys(), "", "", doc, c.warnings);
    c.file = doc.file;
    std::error_code ec;
    c.root = fs::absolute(fs::path(doc.file), ec).parent_path().string();
    c.document = std::move(doc);
    return c;
}

}  // namespace

std::optional<std::string> find_file(const std::string& start_dir) {
    if (const char* env = std::getenv("FRACTA_CONFIG"); env && *env) return std::string(env);
    std::error_code ec;
    fs::path dir = fs::absolute(start_dir, ec);
    if (ec) return std::nullopt;
    for (;;) {
        fs::path candidate = dir / "fracta.yaml";
        if (::access(candidate.c_str(), F_OK) == 0) return candidate.string();
        if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
        dir = dir.parent_path();
    }
}

Result<Config> parse(std::string_view text, const std::string& file, const yaml::EnvLookup& env) {
    FRACTA_TRY_ASSIGN(doc, yaml::parse(text, file, env));
    return build(std::move(doc));
}

Result<Config> load(const std::string& path, const yaml::EnvLookup& env) {
    FRACTA_TRY_ASSIGN(doc, yaml::load_file(path, env));
    return build(std::move(doc));
}

std::string state_store_url(const Config& c) {
    if (c.state.driver == "postgres") return c.state.postgres_dsn;
    fs::path p(c.state.sqlite_path);
    if (p.is_relative() && !c.root.empty()) p = fs::path(c.root) / p;
    return "sqlite:" + p.lexically_normal().string();
}

}  // namespace fracta::config
