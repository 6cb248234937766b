// objects_settings.cc — runtime.kubernetes settings and a session's
// `kubernetes` overrides, checked and merged (see objects.h).
#include "base/units.h"
#include "k8s/objects.h"

namespace fracta::k8s {
namespace {

Error bad(const std::string& path, const std::string& why) {
    return usage_error(path + ": " + why);
}

Status read_string(const Json& section, const std::string& base, const char* key, std::string& out) {
    auto it = section.find(key);
    if (it == section.end() || it->is_null()) return {};
    if (!it->is_string()) return bad(base + key, "must be a string");
    out = it->get<std::string>();
    return {};
}

// A map of scalars (numbers and booleans given as text), merged into `out`.
Status merge_string_map(const Json& section, const std::string& base, const char* key,
                        std::map<std::string, std::string>& out) {
    auto it = section.find(key);
    if (it == section.end() || it->is_null()) return {};
    if (!it->is_object()) return bad(base + key, "must be a mapping");
    for (const auto& [k, v] : it->items()) {
        if (v.is_string())
            out[k] = v.get<std::string>();
        else if (v.is_primitive() && !v.is_null())
            out[k] = v.dump();
        else
            return bad(base + key + "." + k, "must be a scalar");
    }
    return {};
}

Status append_objects(const Json& section, const std::string& base, const char* key, Json& out) {
    auto it = section.find(key);
    if (it == section.end() || it->is_null()) return {};
    if (!it->is_array()) return bad(base + key, "must be a list");
    for (const Json& item : *it) {
        if (!item.is_object()) return bad(base + key, "entries must be mappings");
        out.push_back(item);
    }
    return {};
}

// resources: fracta's flat form {cpu_request, cpu_limit, memory_request,
// memory_limit} or Kubernetes' own {requests: {…}, limits: {…}}; either
// merges field by field into what is there.
Status merge_resources(const Json& section, const std::string& base, Json& out) {
    auto it = section.find("resources");
    if (it == section.end() || it->is_null()) return {};
    if (!it->is_object()) return bad(base + "resources", "must be a mapping");
    auto quantity = [&](const std::string& key, const Json& v) -> Result<std::string> {
        if (v.is_string() && !v.get<std::string>().empty()) return v.get<std::string>();
        if (v.is_number()) return v.dump();
        return bad(base + "resources." + key, "must be a quantity such as 500m or 2Gi");
    };
    static const std::map<std::string, std::pair<const char*, const char*>> flat = {
        {"cpu_request", {"requests", "cpu"}},
        {"cpu_limit", {"limits", "cpu"}},
        {"memory_request", {"requests", "memory"}},
        {"memory_limit", {"limits", "memory"}},
        {"ephemeral_storage_request", {"requests", "ephemeral-storage"}},
        {"ephemeral_storage_limit", {"limits", "ephemeral-storage"}}};
    for (const auto& [key, v] : it->items()) {
        if (auto f = flat.find(key); f != flat.end()) {
            if (v.is_null()) continue;
            FRACTA_TRY_ASSIGN(q, quantity(key, v));
            out[f->second.first][f->second.second] = q;
        } else if (key == "requests" || key == "limits") {
            if (!v.is_object()) return bad(base + "resources." + key, "must be a mapping");
            for (const auto& [name, q] : v.items()) {
                FRACTA_TRY_ASSIGN(text, quantity(key + "." + name, q));
                out[key][name] = text;
            }
        } else {
            return bad(base + "resources." + key,
                       "unknown resource setting (use cpu_request, cpu_limit, memory_request, memory_limit, "
                       "requests or limits)");
        }
    }
    return {};
}

Status read_pull_policy(const Json& section, const std::string& base, std::string& out) {
    std::string v = out;
    FRACTA_TRY(read_string(section, base, "image_pull_policy", v));
    if (v != "Always" && v != "IfNotPresent" && v != "Never")
        return bad(base + "image_pull_policy", "must be one of Always, IfNotPresent, Never (got \"" + v + "\")");
    out = v;
    return {};
}

// The keys a session may override, shared with the config section.
Status merge_common(const Json& s, const std::string& base, ObjectSettings& out) {
    FRACTA_TRY(read_string(s, base, "image", out.image));
    if (out.image.empty()) return bad(base + "image", "must not be empty");
    FRACTA_TRY(read_string(s, base, "service_account", out.service_account));
    FRACTA_TRY(merge_resources(s, base, out.resources));
    FRACTA_TRY(merge_string_map(s, base, "labels", out.labels));
    FRACTA_TRY(merge_string_map(s, base, "annotations", out.annotations));
    FRACTA_TRY(merge_string_map(s, base, "node_selector", out.node_selector));
    FRACTA_TRY(append_objects(s, base, "tolerations", out.tolerations));
    FRACTA_TRY(append_objects(s, base, "extra_volumes", out.extra_volumes));
    FRACTA_TRY(append_objects(s, base, "extra_volume_mounts", out.extra_volume_mounts));
    return {};
}

Status read_object_name(const Json& s, const std::string& base, const char* key, const char* what, std::string& out) {
    FRACTA_TRY(read_string(s, base, key, out));
    if (!out.empty() && !valid_object_name(out)) return bad(base + key, std::string("must be a ") + what + "'s name (got \"" + out + "\")");
    return {};
}

// git: {url, token_secret, token_key, ssh_key_secret, ssh_key_key,
// known_hosts_key, depth} and push: bool.
Status read_git(const Json& s, const std::string& base, GitWorkspace& out) {
    if (auto p = s.find("push"); p != s.end() && !p->is_null()) {
        if (!p->is_boolean()) return bad(base + "push", "must be true or false");
        out.push = p->get<bool>();
    }
    auto g = s.find("git");
    if (g == s.end() || g->is_null()) return {};
    if (!g->is_object()) return bad(base + "git", "must be a mapping");
    const std::string gb = base + "git.";
    FRACTA_TRY(read_string(*g, gb, "url", out.url));
    FRACTA_TRY(read_object_name(*g, gb, "token_secret", "Secret", out.token_secret));
    FRACTA_TRY(read_string(*g, gb, "token_key", out.token_key));
    if (out.token_key.empty()) return bad(gb + "token_key", "must not be empty");
    FRACTA_TRY(read_object_name(*g, gb, "ssh_key_secret", "Secret", out.ssh_key_secret));
    FRACTA_TRY(read_string(*g, gb, "ssh_key_key", out.ssh_key_key));
    FRACTA_TRY(read_string(*g, gb, "known_hosts_key", out.known_hosts_key));
    if (out.ssh_key_key.empty()) return bad(gb + "ssh_key_key", "must not be empty");
    if (out.known_hosts_key.empty()) return bad(gb + "known_hosts_key", "must not be empty");
    if (auto d = g->find("depth"); d != g->end() && !d->is_null()) {
        if (!d->is_number_integer() || d->get<long long>() < 0 || d->get<long long>() > 1000000)
            return bad(gb + "depth", "must be a non-negative integer");
        out.depth = d->get<int>();
    }
    return {};
}

}  // namespace

Result<ObjectSettings> settings_from_config(const Json& root) {
    ObjectSettings out;
    if (!root.is_object()) return out;
    const std::string base = "runtime.kubernetes.";
    if (auto rt = root.find("runtime"); rt != root.end() && rt->is_object()) {
        if (auto k = rt->find("kubernetes"); k != rt->end() && !k->is_null()) {
            if (!k->is_object()) return bad("runtime.kubernetes", "must be a mapping");
            const Json& s = *k;
            FRACTA_TRY(read_string(s, base, "namespace", out.namespace_name));
            if (out.namespace_name.empty() || dns_label_name(out.namespace_name, 63) != out.namespace_name)
                return bad(base + "namespace", "must be a DNS-1123 label (got \"" + out.namespace_name + "\")");
            FRACTA_TRY(read_pull_policy(s, base, out.image_pull_policy));
            if (auto t = s.find("job_ttl_seconds"); t != s.end() && !t->is_null()) {
                if (!t->is_number_integer() || t->get<long long>() < 0 || t->get<long long>() > 100000000)
                    return bad(base + "job_ttl_seconds", "must be a non-negative integer");
                out.job_ttl_seconds = t->get<int>();
            }
            FRACTA_TRY(merge_common(s, base, out));
            FRACTA_TRY(read_git(s, base, out.git));
            FRACTA_TRY(read_object_name(s, base, "pvc", "PersistentVolumeClaim", out.pvc));
        }
    }
    if (auto r = root.find("reaper"); r != root.end() && r->is_object()) {
        if (auto m = r->find("max_age"); m != r->end() && !m->is_null()) {
            if (!m->is_string()) return bad("reaper.max_age", "must be a duration such as 4h");
            auto d = parse_duration(m->get<std::string>());
            if (!d.ok() || d->count() < 0) return bad("reaper.max_age", "must be a duration such as 4h");
            // Rounded up: a deadline never fires before the age is reached.
            out.max_age_seconds = (d->count() + 999999999) / 1000000000;
        }
    }
    return out;
}

Result<ObjectSettings> merge_session_overrides(ObjectSettings base, const Json& overrides) {
    if (overrides.is_null()) return base;
    if (!overrides.is_object()) return bad("kubernetes", "must be an object");
    FRACTA_TRY(merge_common(overrides, "kubernetes.", base));
    if (overrides.contains("image_pull_policy"))
        FRACTA_TRY(read_pull_policy(overrides, "kubernetes.", base.image_pull_policy));
    return base;
}

Result<Owner> owner_of(const Json& created) {
    Owner o;
    auto text = [&](const Json& j, const char* key) -> std::string {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : "";
    };
    o.api_version = text(created, "apiVersion");
    o.kind = text(created, "kind");
    if (auto m = created.find("metadata"); m != created.end() && m->is_object()) {
        o.name = text(*m, "name");
        o.uid = text(*m, "uid");
    }
    if (o.api_version.empty() || o.kind.empty() || o.name.empty() || o.uid.empty())
        return failure("created object lacks apiVersion, kind, metadata.name or metadata.uid");
    return o;
}

}  // namespace fracta::k8s
