# agents.bash — the real agent CLIs under fracta (load after common, cp, gw
# and model): a scaffolded project, the control plane started the way a user
# would, and what the suites look at afterwards.
#
#   agent_project RUNTIME YAML-LINES…  a git repository on `master` with a
#                             file to fix (greeting.txt) and a contract
#                             (check.sh), scaffolded by `fracta init
#                             --scaffold local` with RUNTIME as the default
#                             and the given lines as its agent_runtimes
#                             entry; free ports; all committed. P, WT_ROOT
#   agent_cp_start [VAR=VALUE…]  `fracta controlplane start` with the CLIs
#                             on PATH and the given variables; CP_URL
#   fracta ARGS…              the front door
#   session_processes DIR     pids of the processes whose cwd is in DIR
#   no_session_processes DIR  none left
#   peek_shows TASK TEXT      `fracta peek` shows TEXT
#   events_of TASK            the task's events, one JSON object per line
#   has_turn CONV TURN        the model server has answered that turn
#
# shellcheck disable=SC2154

fracta() { "$FRACTA_BIN/fracta" "$@"; }

agent_project() {
  local runtime=$1
  shift
  P=$BATS_TEST_TMPDIR/project
  git init -q -b master "$P" || return 1
  git -C "$P" config user.name "fracta test"
  git -C "$P" config user.email "test@fracta.invalid"
  echo "hello wrold" >"$P/greeting.txt"
  printf '#!/bin/sh\n# the contract: the greeting is spelt right\ngrep -qx "hello world" greeting.txt && echo "check passed"\n' >"$P/check.sh"
  chmod +x "$P/check.sh"
  git -C "$P" add -A && git -C "$P" commit -qm "first commit" || return 1
  (cd "$P" && fracta init --scaffold local >/dev/null) || return 1
  local gw_port line entry="    $runtime:"
  gw_port=$(free_port)
  for line in "$@"; do entry+="\n      $line"; done
  # (the branch: fracta-init may name main, from before it detected it)
  sed -i -e 's|listen: "127.0.0.1:9090"|listen: "127.0.0.1:0"|' -e 's|default_base_branch: main$|default_base_branch: master|' \
    -e "s|127.0.0.1:8080|127.0.0.1:$gw_port|g" \
    -e "s|^  default_runtime: claude\$|  default_runtime: $runtime\n  agent_runtimes:\n$entry|" "$P/fracta.yaml"
  grep -q "^  default_runtime: $runtime\$" "$P/fracta.yaml" || { fail "fracta.yaml: $(cat "$P/fracta.yaml")"; return 1; }
  git -C "$P" add -A && git -C "$P" commit -qm "fracta init" || return 1
  export FRACTA_STATE_DIR="$P/.fracta/sessions"
  WT_ROOT=$(realpath "$P")/.worktrees
}

agent_cp_start() {
  run --separate-stderr env PATH="$(agent_cli_path):$FRACTA_BIN:$PATH" "$@" \
    bash -c 'cd "$1" && fracta controlplane start' _ "$P"
  [[ $status -eq 0 ]] || { fail "controlplane start: $status $output $stderr" "$(cat "$P/.fracta/controlplane.log" 2>/dev/null)"; return 1; }
  CP_URL=$(jq -r .url <<<"$output")
}

session_processes() {
  local pid cwd
  for pid in /proc/[0-9]*; do
    cwd=$(readlink "$pid/cwd" 2>/dev/null) || continue
    [[ $cwd == "$1" || $cwd == "$1"/* ]] && echo "${pid#/proc/}"
  done
  return 0
}

no_session_processes() { [[ -z $(session_processes "$1") ]]; }

peek_shows() { fracta peek "$1" --format text 2>/dev/null | grep -qF "$2"; }

events_of() { fracta events query --subject "$1"; }

has_turn() { model_turns "$1" | jq -e --argjson t "$2" 'select(.turn == $t)' >/dev/null; }
