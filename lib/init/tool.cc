// tool.cc — fracta-init's command line: --scaffold MODE writes a project's
// files (asking on a terminal before overwriting), --print MODE prints them.
#include "init/tool.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "init/init.h"

namespace fracta::init {
namespace {

// --force on a terminal: ask there; anything but y/yes declines.
bool ask(size_t count) {
    std::fprintf(stderr, "fracta-init: overwrite %zu existing files? [y/N] ", count);
    std::string answer;
    if (!std::getline(std::cin, answer)) return false;
    return answer == "y" || answer == "Y" || answer == "yes";
}

Result<int> init(const Call& call) {
    const cli::Args& args = call.args;
    if (args.has("scaffold") == args.has("print"))
        return usage_error("say --scaffold MODE or --print MODE (one of them)");
    FRACTA_TRY_ASSIGN(mode, parse_mode(args.get(args.has("scaffold") ? "scaffold" : "print")));
    FRACTA_TRY_ASSIGN(source, args.has("source") ? load_source(args.get("source")) : embedded_source());
    Settings settings{args.get("namespace"), args.get("image")};
    if (args.has("print")) {
        FRACTA_TRY_ASSIGN(text, render(source, mode, settings));
        FRACTA_TRY(call.io.write(text));
        return kExitOk;
    }
    Options o{args.get("dir", "."), mode, settings, args.has("force"), args.has("yes"), nullptr};
    if (isatty(STDIN_FILENO) && isatty(STDERR_FILENO)) o.confirm = ask;
    auto existing = detect(o.root);
    if (existing.ok() && *existing && **existing != mode) {
        Error conflict = conflict_error(**existing, mode);
        call.io.error(conflict.message);
        for (const auto& hint : conflict_hints(**existing, mode)) std::fprintf(stderr, "%s\n", hint.c_str());
        return exit_code(conflict.kind);
    }
    FRACTA_TRY_ASSIGN(report, scaffold(source, o));
    FRACTA_TRY(call.io.write(call.text ? report.to_text() : to_line(report.to_json()) + "\n"));
    return kExitOk;
}

}  // namespace

const Tool& tool() {
    static const Tool t{
        .command =
            {"fracta-init",
             "--scaffold local|docker-compose|k8s [--dir DIR] [--source DIR] [--force] [--yes] [--namespace NS]\n"
             "       [--image IMAGE] [--format text|json] | --print k8s|docker-compose [--namespace NS] "
             "[--image IMAGE]",
             "write fracta.yaml and the deployment files of one mode into a project",
             {{"scaffold", 's', "MODE", "local, docker-compose or k8s"},
              {"print", 'p', "MODE", "write the k8s manifests (their kustomize sources) or the compose file to stdout"},
              {"dir", 'C', "DIR", "the project root (default: the current directory)"},
              {"source", 0, "DIR", "templates from DIR/{scaffolds,manifests,compose} instead of the built-in ones"},
              {"force", 'f', "", "overwrite existing files (asks first unless --yes)"},
              {"yes", 'y', "", "do not ask"},
              {"namespace", 0, "NS", "k8s: the namespace to deploy into (default fracta)"},
              {"image", 0, "IMAGE",
               "k8s, docker-compose: fracta's image (default ghcr.io/fracta-dev/fracta:<version>)"},
              {"format", 0, "FMT", "text (default) or json: {mode, written[], skipped[]}"}},
             {}},
        .style = OpStyle::None,
        .format = "text",
        .exits = {{ErrorKind::Failed, "the project is scaffolded as another mode, or overwriting was declined"},
                  {ErrorKind::Usage,
                   "usage (unknown mode, local mode outside git, --force without --yes and no terminal)"}},
        .run = init,
    };
    return t;
}

}  // namespace fracta::init
