// templates.cc — where fracta-init's templates come from (embedded or
// --source) and how they become a mode's files: the plan, the namespace and
// image substitutions, and the --print rendering.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "init/embedded.h"
#include "init/init.h"

namespace fracta::init {
namespace {

namespace fs = std::filesystem;

const std::string kManifests = "manifests/";
const std::string kK8sTarget = "deployment/k8s/manifests/";

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

bool is_yaml(const std::string& path) {
    auto ends = [&](const std::string& ext) {
        return path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
    };
    return ends(".yaml") || ends(".yml");
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::string line;
    std::istringstream in(text);
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

std::string join_lines(const std::vector<std::string>& lines, bool final_newline) {
    std::string out;
    for (size_t i = 0; i < lines.size(); ++i) {
        out += lines[i];
        if (i + 1 < lines.size() || final_newline) out += "\n";
    }
    return out;
}

size_t indent_of(const std::string& line) { return line.find_first_not_of(' ') == std::string::npos ? line.size() : line.find_first_not_of(' '); }

// An image reference split the way kustomize's images entries want it.
struct ImageRef {
    std::string name, tag, digest;
};

Result<ImageRef> parse_image(const std::string& image) {
    static const std::regex valid(R"re([A-Za-z0-9][A-Za-z0-9._/:@-]*)re");
    if (!std::regex_match(image, valid)) return usage_error("--image: not an image reference: \"" + image + "\"");
    ImageRef ref;
    std::string rest = image;
    if (auto at = rest.find('@'); at != std::string::npos) {
        ref.digest = rest.substr(at + 1);
        rest = rest.substr(0, at);
    }
    auto slash = rest.rfind('/');
    auto colon = rest.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
        ref.tag = rest.substr(colon + 1);
        rest = rest.substr(0, colon);
    }
    ref.name = rest;
    if (ref.name.empty() || (colon != std::string::npos && ref.tag.empty() && ref.digest.empty()))
        return usage_error("--image: not an image reference: \"" + image + "\"");
    return ref;
}

Status check_namespace(const std::string& ns) {
    static const std::regex label("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    if (ns.size() > 63 || !std::regex_match(ns, label))
        return usage_error("--namespace: \"" + ns + "\" is not a valid namespace (a DNS label: a-z, 0-9, -)");
    return {};
}

// The kustomization's images entry for fracta (the first whose name ends in
// "/fracta" or is "fracta") gets newName/newTag/digest from `image`.
Result<std::string> set_kustomize_image(const std::string& text, const std::string& image) {
    FRACTA_TRY_ASSIGN(ref, parse_image(image));
    static const std::regex entry(R"re(^(\s*)- name: *"?(([^"\s]*/)?fracta)"? *$)re");
    auto lines = split_lines(text);
    bool in_images = false;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (starts_with(lines[i], "images:")) { in_images = true; continue; }
        if (in_images && !lines[i].empty() && indent_of(lines[i]) == 0 && lines[i][0] != '#') in_images = false;
        std::smatch m;
        if (!in_images || !std::regex_match(lines[i], m, entry)) continue;
        const std::string pad = m[1].str() + "  ";
        size_t end = i + 1;
        while (end < lines.size() && !lines[end].empty() && indent_of(lines[end]) >= pad.size() &&
               lines[end].find("- ", indent_of(lines[end])) != indent_of(lines[end]))
            ++end;
        std::vector<std::string> fields = {pad + "newName: " + ref.name};
        if (!ref.tag.empty()) fields.push_back(pad + "newTag: \"" + ref.tag + "\"");
        if (!ref.digest.empty()) fields.push_back(pad + "digest: " + ref.digest);
        lines.erase(lines.begin() + static_cast<long>(i) + 1, lines.begin() + static_cast<long>(end));
        lines.insert(lines.begin() + static_cast<long>(i) + 1, fields.begin(), fields.end());
        return join_lines(lines, !text.empty() && text.back() == '\n');
    }
    return usage_error("--image: the kustomization has no images entry for fracta");
}

// The shipped namespace is "fracta": the kustomization's namespace, the
// config's runtime.kubernetes.namespace, the Namespace object, RoleBinding
// subjects, and in-cluster service names (fracta-cp.fracta.svc).
std::string set_namespace(const std::string& text, const std::string& ns) {
    static const std::regex field(R"re((^|\n)( *)namespace: "?fracta"?( *(#[^\n]*)?)(?=\n|$))re");
    static const std::regex service(R"re(\b(fracta-[a-z0-9-]+)\.fracta\b)re");
    static const std::regex kubectl_ns(R"re(-n fracta\b)re");
    static const std::regex env_default(R"re(\$\{FRACTA_NAMESPACE:-fracta\})re");
    std::string out = std::regex_replace(text, field, "$1$2namespace: " + ns + "$3");
    out = std::regex_replace(out, service, "$1." + ns);
    out = std::regex_replace(out, kubectl_ns, "-n " + ns);
    out = std::regex_replace(out, env_default, "${FRACTA_NAMESPACE:-" + ns + "}");
    if (out.find("\nkind: Namespace") != std::string::npos || starts_with(out, "kind: Namespace")) {
        static const std::regex name(R"re((^|\n)  name: "?fracta"?(?=\n|$))re");
        out = std::regex_replace(out, name, "$1  name: " + ns);
    }
    return out;
}

Result<std::string> set_compose_image(const std::string& text, const std::string& image) {
    FRACTA_TRY(parse_image(image));
    static const std::regex anchor(R"re((^|\n)(x-fracta-image: *&fracta-image) +[^\n]*)re");
    if (!std::regex_search(text, anchor))
        return usage_error("--image: the compose file has no `x-fracta-image: &fracta-image` line");
    return std::regex_replace(text, anchor, "$1$2 " + image, std::regex_constants::format_first_only);
}

Result<std::string> substitute(const std::string& source_path, std::string content, Mode mode,
                               const Settings& settings) {
    if (mode == Mode::K8s) {
        if (!settings.ns.empty()) content = set_namespace(content, settings.ns);
        if (!settings.image.empty() && source_path == kManifests + "kustomization.yaml") {
            FRACTA_TRY_ASSIGN(out, set_kustomize_image(content, settings.image));
            content = std::move(out);
        }
    }
    if (mode == Mode::Compose && !settings.image.empty() && source_path == "compose/docker-compose.yml") {
        FRACTA_TRY_ASSIGN(out, set_compose_image(content, settings.image));
        content = std::move(out);
    }
    return content;
}

Status check_settings(Mode mode, const Settings& settings) {
    if (!settings.ns.empty()) {
        if (mode != Mode::K8s) return usage_error("--namespace: only for k8s");
        FRACTA_TRY(check_namespace(settings.ns));
    }
    if (!settings.image.empty() && mode == Mode::Local)
        return usage_error("--image: only for k8s and docker-compose");
    return {};
}

}  // namespace

Result<Mode> parse_mode(const std::string& name) {
    if (name == "local") return Mode::Local;
    if (name == "docker-compose") return Mode::Compose;
    if (name == "k8s") return Mode::K8s;
    return usage_error("unknown scaffold \"" + name + "\"; valid: local, docker-compose, k8s");
}

const char* mode_name(Mode mode) {
    switch (mode) {
        case Mode::Local: return "local";
        case Mode::Compose: return "docker-compose";
        case Mode::K8s: return "k8s";
    }
    return "local";
}

Source embedded_source() {
    Source source;
    for (const auto& f : embedded_files())
        source.push_back({std::string(f.path), std::string(f.content), f.mode});
    return source;
}

Result<Source> load_source(const std::string& dir) {
    Source source;
    bool any = false;
    for (const char* top : {"scaffolds", "manifests", "compose"}) {
        const fs::path root = fs::path(dir) / top;
        std::error_code ec;
        if (!fs::is_directory(root, ec)) continue;
        any = true;
        std::vector<Template> tree;
        for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            if (!it->is_regular_file(ec)) continue;
            std::ifstream in(it->path(), std::ios::binary);
            std::ostringstream body;
            body << in.rdbuf();
            if (!in) return usage_error("--source: cannot read " + it->path().string());
            struct stat st {};
            int perm = ::stat(it->path().c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : 0644;
            tree.push_back({fs::relative(it->path(), dir).generic_string(), body.str(), perm});
        }
        if (ec) return usage_error("--source: cannot read " + root.string() + ": " + ec.message());
        std::sort(tree.begin(), tree.end(), [](const Template& a, const Template& b) { return a.path < b.path; });
        source.insert(source.end(), tree.begin(), tree.end());
    }
    if (!any) return usage_error("--source: " + dir + " has none of scaffolds/, manifests/, compose/");
    return source;
}

Result<std::vector<Planned>> plan(const Source& source, Mode mode, const Settings& settings) {
    FRACTA_TRY(check_settings(mode, settings));
    const std::string own = "scaffolds/" + std::string(mode_name(mode)) + "/";
    std::vector<Planned> out;
    auto add = [&](const Template& t, std::string target) -> Status {
        FRACTA_TRY_ASSIGN(content, substitute(t.path, t.content, mode, settings));
        out.push_back({std::move(target), std::move(content), t.mode});
        return {};
    };
    for (const auto& t : source) {
        if (starts_with(t.path, own)) {
            FRACTA_TRY(add(t, t.path.substr(own.size())));
        } else if (mode == Mode::K8s && starts_with(t.path, kManifests)) {
            FRACTA_TRY(add(t, kK8sTarget + t.path.substr(kManifests.size())));
        } else if (mode == Mode::Compose && t.path == "compose/docker-compose.yml") {
            FRACTA_TRY(add(t, "deployment/docker-compose.yml"));
        } else if (mode == Mode::Compose && starts_with(t.path, "compose/configs/")) {
            FRACTA_TRY(add(t, "deployment/" + t.path.substr(std::string("compose/").size())));
        }
    }
    auto config = std::find_if(out.begin(), out.end(), [](const Planned& p) { return p.target == "fracta.yaml"; });
    if (config == out.end()) return usage_error("templates: no " + own + "fracta.yaml");
    std::rotate(out.begin(), config, config + 1);
    if (mode == Mode::K8s && std::none_of(out.begin(), out.end(), [](const Planned& p) {
            return p.target == kK8sTarget + "kustomization.yaml";
        }))
        return usage_error("templates: no manifests/kustomization.yaml");
    if (mode == Mode::Compose && std::none_of(out.begin(), out.end(), [](const Planned& p) {
            return p.target == "deployment/docker-compose.yml";
        }))
        return usage_error("templates: no compose/docker-compose.yml");
    return out;
}

Result<std::string> render(const Source& source, Mode mode, const Settings& settings) {
    if (mode == Mode::Local) return usage_error("--print: use k8s or docker-compose");
    FRACTA_TRY_ASSIGN(files, plan(source, mode, settings));
    std::string out;
    for (const auto& f : files) {
        if (mode == Mode::Compose) {
            if (f.target == "deployment/docker-compose.yml") return f.content;
            continue;
        }
        if (!starts_with(f.target, kK8sTarget) || !is_yaml(f.target)) continue;
        if (!out.empty()) out += "---\n";
        out += "# Source: " + f.target + "\n" + f.content;
        if (!f.content.empty() && f.content.back() != '\n') out += "\n";
    }
    return out;
}

}  // namespace fracta::init
