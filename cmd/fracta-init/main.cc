// fracta-init — scaffold a project for one deployment mode (local,
// docker-compose, k8s) from the templates built into the binary, or print the
// k8s manifests / compose file (spec/init-and-reap.md).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "base/cli.h"
#include "base/diag.h"
#include "base/io.h"
#include "init/init.h"

using namespace fracta;

namespace {

cli::Command command() {
    return {"fracta-init",
            "--scaffold local|docker-compose|k8s [--dir DIR] [--source DIR] [--force] [--yes] [--namespace NS]\n"
            "       [--image IMAGE] [--format text|json] | --print k8s|docker-compose [--namespace NS] [--image IMAGE]",
            "write fracta.yaml and the deployment files of one mode into a project",
            {{"scaffold", 's', "MODE", "local, docker-compose or k8s"},
             {"print", 'p', "MODE", "write the k8s manifests (their kustomize sources) or the compose file to stdout"},
             {"dir", 'C', "DIR", "the project root (default: the current directory)"},
             {"source", 0, "DIR", "templates from DIR/{scaffolds,manifests,compose} instead of the built-in ones"},
             {"force", 'f', "", "overwrite existing files (asks first unless --yes)"},
             {"yes", 'y', "", "do not ask"},
             {"namespace", 0, "NS", "k8s: the namespace to deploy into (default fracta)"},
             {"image", 0, "IMAGE", "k8s, docker-compose: fracta's image (default ghcr.io/fracta-dev/fracta:<version>)"},
             {"format", 0, "FMT", "text (default) or json: {mode, written[], skipped[]}"}},
            {},
            "Exit status: 0 done; 1 the project is scaffolded as another mode, or overwriting was declined;\n"
            "100 usage (unknown mode, local mode outside git, --force without --yes and no terminal)."};
}

// --force on a terminal: ask there; anything but y/yes declines.
bool ask(size_t count) {
    std::fprintf(stderr, "fracta-init: overwrite %zu existing files? [y/N] ", count);
    std::string answer;
    if (!std::getline(std::cin, answer)) return false;
    return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace

int main(int argc, char** argv) {
    diag::set_program("fracta-init");
    std::signal(SIGPIPE, SIG_IGN);
    auto args = cli::parse(command(), std::vector<std::string>(argv, argv + argc));
    if (!args.ok()) return diag::report(args.error());
    if (args->has("help")) return io::write_stdout(cli::help_text(command())).ok() ? 0 : 1;
    if (args->has("version")) return io::write_stdout(cli::version_text("fracta-init")).ok() ? 0 : 1;
    if (!args->positional().empty())
        return diag::report(usage_error("unexpected argument \"" + args->positional()[0] + "\""));
    if (args->has("scaffold") == args->has("print"))
        return diag::report(usage_error("say --scaffold MODE or --print MODE (one of them)"));
    const std::string format = args->get("format", "text");
    if (format != "json" && format != "text") return diag::report(usage_error("--format: use text or json"));
    auto mode = init::parse_mode(args->get(args->has("scaffold") ? "scaffold" : "print"));
    if (!mode.ok()) return diag::report(mode.error());
    auto source = args->has("source") ? init::load_source(args->get("source")) : init::embedded_source();
    if (!source.ok()) return diag::report(source.error());
    init::Settings settings{args->get("namespace"), args->get("image")};

    if (args->has("print")) {
        auto text = init::render(*source, *mode, settings);
        if (!text.ok()) return diag::report(text.error());
        return io::write_stdout(*text).ok() ? 0 : 1;
    }
    init::Options o{args->get("dir", "."), *mode, settings, args->has("force"), args->has("yes"), nullptr};
    if (isatty(STDIN_FILENO) && isatty(STDERR_FILENO)) o.confirm = ask;
    auto existing = init::detect(o.root);
    if (existing.ok() && *existing && **existing != *mode) {
        int rc = diag::report(init::conflict_error(**existing, *mode));
        for (const auto& hint : init::conflict_hints(**existing, *mode)) std::fprintf(stderr, "%s\n", hint.c_str());
        return rc;
    }
    auto report = init::scaffold(*source, o);
    if (!report.ok()) return diag::report(report.error());
    return io::write_stdout(format == "json" ? to_line(report->to_json()) + "\n" : report->to_text()).ok() ? 0 : 1;
}
