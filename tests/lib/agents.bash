# agents.bash — the real agent CLIs under fracta (it loads what it builds
# on: common, cp, gw and model): a scaffolded project, the control plane
# started the way a user would, and what the suites look at afterwards.
#
#   agent_setup               a suite's setup: common_setup, the tools, the
#                             CLIs, a HOME of the test's own
#   agent_teardown            a suite's teardown
#   claude_onboarded          the home of a user who has set Claude Code up
#                             once (onboarding done), nothing else
#   agent_project RUNTIME YAML-LINES…  a git repository on `master` with a
#                             file to fix (greeting.txt) and a contract
#                             (check.sh), scaffolded by `fracta init
#                             --scaffold local` (which must name `master`)
#                             with RUNTIME as the default and the given
#                             lines as its agent_runtimes entry; free ports;
#                             its store Postgres with AGENT_STORE=postgres;
#                             all committed. P, WT_ROOT (, STORE_URL)
#   agent_cp_start [-u VAR…] [VAR=VALUE…]  `fracta controlplane start` with
#                             the CLIs on PATH and the environment changed
#                             so (env's arguments); CP_URL
#   agent_start RUNTIME VAR=VALUE YAML-LINES…  agent_project RUNTIME with
#                             those lines, then agent_cp_start VAR=VALUE (a
#                             hostile home's variable, say); cwd the project
#   fracta ARGS…              the front door
#   session_processes DIR     pids of the processes whose cwd is in DIR
#   no_session_processes DIR  none left
#   peek_shows TASK TEXT      `fracta peek` shows TEXT (blanks dropped)
#   render_screen <TRANSCRIPT  the rows a terminal transcript leaves drawn
#   events_of TASK            the task's events, one JSON object per line
#   has_turn CONV TURN        the model server has answered that turn
#   tool_results CONV         the tool results (Anthropic wire) of that
#                             conversation's last request, in order, one
#                             JSON object per line
#   batch_agent_ends TASK     fracta spawn TASK (fix greeting.txt), wait for
#                             its end; `fracta get` of it in output
#   batch_agent_completes TASK RUNTIME TOKEN-JQ  batch_agent_ends TASK, and
#                             it is Completed by RUNTIME with the batch
#                             scripts' last text, its resume token meeting
#                             TOKEN-JQ; RESUME_TOKEN
#   intent_and_report_recorded TASK  its events hold the fracta_set_intent
#                             and fracta_report of the batch scripts
#   merge_brings_in TASK      fracta merge; greeting.txt fixed on master
#   say_resumes TASK TEXT     say to the ended TASK resumes it (turn 7 of
#                             the script); `fracta get` of it in output
#   usage_recorded TASK RUNTIME JQ  `fracta get` of the ended TASK meets JQ
#                             (on .agent); its lifecycle.completed event
#                             carries the same session id, result, turns,
#                             tokens and cost; /metrics counts the tokens
#                             (and cost) under RUNTIME
#   tool_denied_watched TASK RUNTIME TOOL  `fracta watch` shows an
#                             agent.tool_denied of TOOL before the end
#   resumed_with_earlier_turns TOOL  the model's last request (Anthropic
#                             wire) is turn 7 and carries the earlier turns:
#                             TOOL's call and the contract's output
#   stream_agent_talks START FIELD  a stream agent (the project made and the
#                             control plane started by START): say reaches
#                             the model (in the request's FIELD), peek shows
#                             the reply, kill leaves no process behind
#
# shellcheck disable=SC2154

for lib in common cp gw model; do
  # shellcheck source=/dev/null # the suites' helpers, beside this file
  source "${BASH_SOURCE[0]%/*}/$lib.bash"
done
unset lib

fracta() { "$FRACTA_BIN/fracta" "$@"; }

agent_setup() {
  common_setup
  require_cmd git curl node jq
  agent_cli_path >/dev/null || return 1
  export HOME=$BATS_TEST_TMPDIR/home
  mkdir -p "$HOME"
}

agent_teardown() {
  cp_stop
  common_teardown
}

claude_onboarded() { echo '{"hasCompletedOnboarding":true}' >"$HOME/.claude.json"; }

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
  grep -qx '  default_base_branch: master' "$P/fracta.yaml" ||
    { fail "fracta init did not name the current branch: $(grep default_base_branch "$P/fracta.yaml")"; return 1; }
  local gw_port line keys entry="    $runtime:"
  gw_port=$(free_port)
  for line in "$@"; do entry+="\n      $line"; done
  # The scaffold's agent_runtimes block may already hold a line for RUNTIME
  # (its nudge keys): the test's settings join it there.
  keys=$(sed -n "s|^    $runtime: {submit_keys: \(.*\)}\$|\1|p" "$P/fracta.yaml")
  [[ -z $keys ]] || entry+="\n      submit_keys: $keys"
  sed -i -e 's|listen: "127.0.0.1:9090"|listen: "127.0.0.1:0"|' -e "s|127.0.0.1:8080|127.0.0.1:$gw_port|g" \
    -e "s|^  default_runtime: claude\$|  default_runtime: $runtime|" \
    -e "/^    $runtime: {submit_keys: .*}\$/d" \
    -e "s|^  agent_runtimes:\$|  agent_runtimes:\n$entry|" "$P/fracta.yaml"
  grep -q "^  default_runtime: $runtime\$" "$P/fracta.yaml" && grep -q "^    $runtime:\$" "$P/fracta.yaml" ||
    { fail "fracta.yaml: $(cat "$P/fracta.yaml")"; return 1; }
  if [[ ${AGENT_STORE:-sqlite} == postgres ]]; then
    new_pg_database >"$BATS_TEST_TMPDIR/.pg-url" || return 1
    STORE_URL=$(<"$BATS_TEST_TMPDIR/.pg-url")
    sed -i "s|^    driver: sqlite\$|    driver: postgres\n    postgres: {dsn: '${STORE_URL//&/\\&}'}|" "$P/fracta.yaml"
  fi
  git -C "$P" add -A && git -C "$P" commit -qm "fracta init" || return 1
  export FRACTA_STATE_DIR="$P/.fracta/sessions"
  WT_ROOT=$(realpath "$P")/.worktrees
}

agent_start() {
  local runtime=$1 env=$2
  shift 2
  agent_project "$runtime" "$@" || return 1
  agent_cp_start "$env" || return 1
  cd "$P" || return 1
}

agent_cp_start() {
  run --separate-stderr env "$@" PATH="$(agent_cli_path):$FRACTA_BIN:$PATH" \
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

# Peek gives the terminal transcript as written. A TUI may move the cursor
# over the blanks between words instead of writing them (Claude Code), or
# draw elsewhere between two halves of a line (OpenCode's progress bar): so
# TEXT is looked for, blanks dropped, in the transcript without its escapes
# and in the screen the transcript leaves (render_screen).
peek_shows() {
  local transcript screen want=${2//[[:space:]]/}
  transcript=$(fracta peek "$1" -n 2000 --format text 2>/dev/null) || return 1
  screen=$(sed -e 's/\x1b\[[0-9;?<>=]*[A-Za-z~]//g' -e 's/\x1b\][^\x07]*\x07//g' <<<"$transcript")
  screen=${screen//[[:space:]]/}
  [[ $screen == *"$want"* ]] && return 0
  screen=$(render_screen <<<"$transcript")
  screen=${screen//[[:space:]]/}
  [[ $screen == *"$want"* ]]
}

# render_screen <TRANSCRIPT — the rows a terminal transcript leaves drawn:
# cursor moves, line and screen erases and text; other escapes dropped.
render_screen() {
  perl -CS -e '
    my %grid; my ($r, $c) = (1, 1);
    local $/; my $s = <STDIN>;
    while (length $s) {
      if ($s =~ s/^\e\[([0-9;?<>=]*)([\@-~])//) {
        my ($p, $f) = ($1, $2); my @n = map { $_ eq "" ? 0 : $_ } split /;/, $p;
        my $k = $n[0] || 1;
        if ($f eq "H" || $f eq "f") { ($r, $c) = ($n[0] || 1, $n[1] || 1) }
        elsif ($f eq "A") { $r -= $k } elsif ($f eq "B") { $r += $k } elsif ($f eq "E") { $r += $k; $c = 1 }
        elsif ($f eq "C") { $c += $k } elsif ($f eq "D") { $c = $c > $k ? $c - $k : 1 }
        elsif ($f eq "G") { $c = $k } elsif ($f eq "d") { $r = $k }
        elsif ($f eq "K") { my $row = $grid{$r} //= []; if (($n[0] // 0) == 0) { splice @$row, $c - 1 if @$row >= $c } else { @$row = () } }
        elsif ($f eq "J" && ($n[0] // 0) >= 2) { %grid = () }
        next;
      }
      next if $s =~ s/^\e\][^\a\e]*(?:\a|\e\\)?//;
      next if $s =~ s/^\e.//s;
      if ($s =~ s/^\r//) { $c = 1; next }
      if ($s =~ s/^\n//) { $r++; next }
      $s =~ s/^(.)//s;
      next if ord($1) < 32;
      $grid{$r}[$c - 1] = $1; $c++;
    }
    for my $row (sort { $a <=> $b } keys %grid) { print join("", map { $_ // " " } @{$grid{$row}}), "\n" }'
}

events_of() { fracta events query --subject "$1"; }

has_turn() { model_turns "$1" | jq -e --argjson t "$2" 'select(.turn == $t)' >/dev/null; }

tool_results() {
  model_turns "$1" | tail -1 |
    jq -c '.body.messages[] | select(.role == "user") | .content | arrays | .[] | select(.type == "tool_result")'
}

stream_agent_talks() {
  local start=$1 field=$2 pids pid
  jq -n '{conversations: [{match: "chat-room", turns: [
      {text: "Ready for orders."},
      {text: "Heard you say {{last_user}}"}
    ]}], fallback: {text: "ok"}}' >"$BATS_TEST_TMPDIR/script.json"
  "$start" || return 1
  run --separate-stderr fracta spawn chat-room --mode stream --contract "You are chat-room: answer what you are told."
  assert_status 0
  wait_for 300 peek_shows chat-room "Ready for orders."
  pids=$(session_processes "$WT_ROOT/chat-room")
  [[ -n $pids ]] || fail "no process runs in the worktree"
  run --separate-stderr fracta say chat-room "bananas-42"
  assert_status 0
  assert_json '.delivery == "session"'
  wait_for 300 has_turn 0 1
  model_turns 0 | jq -se --arg f "$field" 'map(select(.turn == 1)) | last | .body[$f] | tostring | contains("bananas-42")' >/dev/null ||
    fail "the model did not get what was said"
  wait_for 300 peek_shows chat-room "Heard you say bananas-42"
  run --separate-stderr fracta kill chat-room
  assert_status 0
  wait_for 60 no_session_processes "$WT_ROOT/chat-room"
  for pid in $pids; do
    wait_for 30 process_gone "$pid" || fail "process $pid of the session is left: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
  done
  run --separate-stderr fracta get chat-room
  assert_json '.agent.status == "Stopped"'
}

intent_and_report_recorded() {
  run --separate-stderr events_of "$1"
  assert_status 0
  jq -se 'map(select(.type == "agent.intent" and (.message | contains("fixing the greeting")))) | length == 1' <<<"$output" >/dev/null ||
    fail "no agent.intent event: $output"
  jq -se 'map(select(.type == "agent.report" and .message == "greeting fixed, check passes")) | length == 1' <<<"$output" >/dev/null ||
    fail "no agent.report event: $output"
}

merge_brings_in() {
  run --separate-stderr fracta merge "$1"
  assert_status 0
  assert_equal "$(git show master:greeting.txt)" "hello world" "greeting on master"
}

say_resumes() {
  run --separate-stderr fracta say "$1" "$2"
  assert_status 0
  assert_json '.delivery == "resume"'
  wait_for 300 has_turn 0 7
  run --separate-stderr fracta wait "$1" --timeout 10m
  assert_status 0
  run --separate-stderr fracta get "$1"
}

batch_agent_ends() {
  run --separate-stderr fracta spawn "$1" --contract "Fix the typo in greeting.txt so that ./check.sh passes, then commit."
  assert_status 0
  assert_json ".agent == \"$1\" and .branch == \"feature/$1\""
  run --separate-stderr fracta wait "$1" --timeout 10m
  assert_status 0
  run --separate-stderr fracta get "$1"
  assert_status 0
}

batch_agent_completes() {
  batch_agent_ends "$1"
  assert_json ".agent.status == \"Completed\" and .agent.runtime == \"$2\"
    and .agent.last_output == \"Fixed the typo in greeting.txt; check.sh passes; committed.\"
    and (.agent.resume_token | $3)"
  RESUME_TOKEN=$(jq -r .agent.resume_token <<<"$output")
}

usage_recorded() {
  local task=$1 runtime=$2 agent metrics want
  run --separate-stderr fracta get "$task"
  assert_status 0
  assert_json ".agent | $3"
  agent=$(jq -c .agent <<<"$output")
  run --separate-stderr events_of "$task"
  assert_status 0
  jq -se --argjson a "$agent" 'map(select(.type == "lifecycle.completed")) | last | .payload
      | .session_id == $a.resume_token and .result == $a.last_output and .turns == $a.turns
        and .input_tokens == $a.input_tokens and .output_tokens == $a.output_tokens and .cost_usd == $a.cost_usd' \
    <<<"$output" >/dev/null || fail "lifecycle.completed lacks the results of $agent: $output"
  metrics=$(curl -sS "$CP_URL/metrics")
  want="fracta_agent_tokens_total{runtime=\"$runtime\",direction=\"input\"} $(jq .input_tokens <<<"$agent")"
  grep -qxF "$want" <<<"$metrics" || fail "metrics lack '$want': $(grep fracta_agent_ <<<"$metrics")"
  want="fracta_agent_tokens_total{runtime=\"$runtime\",direction=\"output\"} $(jq .output_tokens <<<"$agent")"
  grep -qxF "$want" <<<"$metrics" || fail "metrics lack '$want': $(grep fracta_agent_ <<<"$metrics")"
  if [[ $(jq .cost_usd <<<"$agent") == null ]]; then
    grep "^fracta_agent_cost_usd_total{runtime=\"$runtime\"}" <<<"$metrics" | grep -Eqv ' 0(\.0*)?$' &&
      fail "a cost in metrics for $runtime, which reported none: $(grep fracta_agent_ <<<"$metrics")"
  else
    grep -Eq "^fracta_agent_cost_usd_total\{runtime=\"$runtime\"\} 0\.[0-9]*[1-9]" <<<"$metrics" ||
      fail "metrics lack the $runtime cost: $(grep fracta_agent_ <<<"$metrics")"
  fi
  true
}

tool_denied_watched() {
  local denied
  run --separate-stderr fracta watch "$1"
  assert_status 0
  denied=$(jq -c --arg tool "$3" 'select(.type == "agent.tool_denied" and .payload.tool == $tool)' <<<"$output")
  [[ -n $denied ]] || fail "fracta watch shows no agent.tool_denied of $3: $output"
  assert_json ".subject == \"$1\" and .payload.runtime == \"$2\"" "$denied"
  jq -se '[.[].type] | index("agent.tool_denied") < index("lifecycle.completed")' <<<"$output" >/dev/null ||
    fail "agent.tool_denied is not before the end: $output"
}

resumed_with_earlier_turns() {
  model_turns 0 | tail -1 | jq -e --arg tool "$1" '.turn == 7
    and ([.body.messages[] | select(.role == "assistant") | .content[] | select(.type == "tool_use") | .name] | index($tool) != null)
    and (.body.messages | tostring | contains("check passed"))' >/dev/null ||
    fail "the resumed request lacks the earlier turns: $(model_turns 0 | tail -1 | jq -c '{turn, n: (.body.messages | length)}')"
}
