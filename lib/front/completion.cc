#include "front/completion.h"

namespace fracta::front {

std::string bash_completion(const std::vector<VerbShape>& verbs, const std::vector<std::string>& dispatch) {
    std::string all, with_task, cases;
    for (const auto& v : verbs) {
        all += v.name + " ";
        if (v.takes_task) with_task += (with_task.empty() ? "" : "|") + v.name;
        std::string opts;
        for (const auto& o : v.options) opts += "--" + o + " ";
        cases += "    " + v.name + ") opts=\"" + opts + "--help\" ;;\n";
    }
    for (const auto& d : dispatch) all += d + " ";
    all += "completion";
    return "# bash completion for fracta, made by `fracta completion bash`:\n"
           "#   source <(fracta completion bash)\n"
           "_fracta() {\n"
           "  local cur=${COMP_WORDS[COMP_CWORD]} verb=${COMP_WORDS[1]} opts=\n"
           "  if ((COMP_CWORD == 1)); then\n"
           "    COMPREPLY=($(compgen -W \"" + all + " --help --version --format --config\" -- \"$cur\"))\n"
           "    return\n"
           "  fi\n"
           "  case $verb in\n" + cases +
           "    completion) COMPREPLY=($(compgen -W bash -- \"$cur\")); return ;;\n"
           "    *) return ;;\n"
           "  esac\n"
           "  if [[ $cur == -* ]]; then\n"
           "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
           "  elif ((COMP_CWORD == 2)); then\n"
           "    case $verb in\n"
           "      " + with_task + ")\n"
           "        COMPREPLY=($(compgen -W \"$(FRACTA_NO_AUTOSTART=1 fracta list --format text 2>/dev/null |\n"
           "          awk 'NR > 1 { print $1 }')\" -- \"$cur\")) ;;\n"
           "    esac\n"
           "  fi\n"
           "}\n"
           "complete -F _fracta fracta\n";
}

}  // namespace fracta::front
