#!/usr/bin/env bats
# fracta: the front door (spec/control-plane.md, README "The binaries").
#
#   cli: …        options, help, usage errors (exit 100 before any request)
#   dispatch: …   verbs handed to sibling binaries, git style
#   client: …     the client verbs without a control plane: no project,
#                 nothing answering, auto-start of `fracta-cp start`
#   flow: …       against the real fracta-cp (auto-started by fracta itself),
#                 fracta-spawn-local and shell-runtime agents in a git project

# shellcheck disable=SC2154  # status, output, stderr: set by bats' `run`
# shellcheck disable=SC2030,SC2031  # each @test runs in its own subshell: exports stay in it
load ../lib/common
load ../lib/cp

setup() {
  common_setup
  FR="$FRACTA_BIN/fracta"
  [[ -x $FR ]] || fail "$FR is not built (cmake --build build)"
  unset FRACTA_CP_URL FRACTA_CP_TOKEN FRACTA_NO_AUTOSTART
  # Nothing listens on port 1: connections are refused at once.
  CLOSED=http://127.0.0.1:1
}

teardown() {
  cp_stop
  common_teardown
}

fr() { "$FR" "$@"; }

# assert_error TEXT — stderr is exactly one line, "fracta: error: TEXT…".
assert_error() {
  [[ $stderr == "fracta: error: $1"* ]] || fail "stderr: expected 'fracta: error: $1…', got: $stderr"
  [[ $stderr != *$'\n'* ]] || fail "stderr has more than one line: $stderr"
}

# refused TEXT ARGS… — `fracta ARGS…` is a usage error (exit 100) whose one
# stderr line starts "fracta: error: TEXT".
refused() {
  run --separate-stderr fr "${@:2}"
  assert_status 100
  assert_error "$1"
}

assert_no_stdout() {
  [[ -z $output ]] || fail "stdout should be empty, got: $output"
}

# lone_fracta DIR — a copy of fracta alone in DIR/bin (so that siblings are
# found only where the test puts them); prints its path.
lone_fracta() {
  mkdir -p "$1/bin"
  cp "$FR" "$1/bin/fracta"
  echo "$1/bin/fracta"
}

# project [YAML] — make the working directory a fracta project whose control
# plane would listen on a closed port.
project() {
  mkdir -p .fracta
  printf '%s\n' "${1:-control_plane_api: {listen: \"127.0.0.1:1\"\}}" >fracta.yaml
}

# ---------------------------------------------------------------------- cli --

@test "cli: --help lists every verb and the global options" {
  run --separate-stderr fr --help
  assert_status 0
  for verb in spawn list get say peek logs kill merge watch wait status init serve controlplane events reap; do
    grep -qE "^  $verb( |$)" <<<"$output" || fail "--help lacks the verb $verb: $output"
  done
  for opt in --config --format --help --version; do
    [[ $output == *"$opt"* ]] || fail "--help lacks $opt"
  done
}

@test "cli: --version names the program" {
  run --separate-stderr fr --version
  assert_status 0
  [[ $output =~ ^fracta\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "version: $output"
}

@test "cli: each client verb has its own --help" {
  for verb in spawn list get say peek logs kill merge watch wait status; do
    run --separate-stderr fr "$verb" --help
    assert_status 0
    [[ $output == "usage: fracta $verb"* ]] || fail "$verb --help: $output"
  done
  run --separate-stderr fr spawn --help
  for opt in --contract --contract-file --runtime --mode --model --tier --base-branch --priority \
    --label --env --parent --dispatch --wait --timeout --format --config; do
    [[ $output == *"$opt "* || $output == *"$opt"$'\n'* ]] || fail "spawn --help lacks $opt"
  done
}

@test "cli: no verb, an unknown verb, an unknown option: exit 100" {
  run --separate-stderr fr
  assert_status 100
  assert_no_stdout
  assert_error "no verb"

  run --separate-stderr fr frobnicate
  assert_status 100
  assert_no_stdout
  assert_error 'unknown verb "frobnicate"'

  refused "unknown option --bogus" --bogus list
  refused "list: unknown option --bogus" list --bogus
}

@test "cli: --format must be json or text, before or after the verb" {
  refused "--format: use json or text" --format yaml list
  refused "--format: use json or text" list --format yaml
}

@test "cli: bad arguments are usage errors before any request, even outside a project" {
  export FRACTA_CP_URL=$CLOSED
  refused "get: no TASK given" get
  refused 'get a/b: invalid task name "a/b"' get 'a/b'
  refused 'get -x: invalid task name' get -- -x
  refused 'get t1: unexpected argument "extra"' get t1 extra
  refused 'spawn t1: --mode: use batch or stream (got "fast")' spawn t1 --mode fast
  refused 'spawn t1: --tier: use heavy or medium or light' spawn t1 --tier huge
  refused 'spawn t1: --dispatch: use direct or queued' spawn t1 --dispatch later
  refused 'spawn t1: give --contract or --contract-file, not both' spawn t1 --contract x --contract-file f
  refused 'spawn t1: cannot read missing.txt' spawn t1 --contract-file missing.txt
  refused 'spawn t1: --label: use KEY=VALUE' spawn t1 --label nokey
  refused 'spawn t1: --priority: not a non-negative integer' spawn t1 --priority high
  refused 'spawn t1: --timeout needs --wait' spawn t1 --timeout 5s
  refused 'wait t1: --timeout: not a duration' wait t1 --timeout soon
  refused 'peek t1: --lines: not a non-negative integer' peek t1 -n many

  run --separate-stderr fr watch t1 --after-seq -1
  assert_status 100

  refused 'say t1: no message' say t1
  refused 'say t1: empty message' say t1 - </dev/null
}

# ----------------------------------------------------------------- dispatch --

@test "dispatch: events runs fracta-events with the rest of the command line" {
  [[ -x $FRACTA_BIN/fracta-events ]] || fail "fracta-events is not built"
  use_store sqlite
  run --separate-stderr fr events latest-seq
  assert_status 0
  assert_equal "$output" 0

  run --separate-stderr fr events record <<<'{"type":"test.one","actor":"bats","subject":"t1"}'
  assert_status 0
  run --separate-stderr fr events latest-seq
  assert_status 0
  assert_equal "$output" 1

  # The sibling's own exit status comes through: 2 for an unknown operation.
  run --separate-stderr fr events frobnicate
  assert_status 2
  [[ $stderr == "fracta-events: error: "* ]] || fail "stderr: $stderr"
}

@test "dispatch: a global --format is passed on, --config reaches the sibling as FRACTA_CONFIG" {
  use_store sqlite
  run --separate-stderr fr events record <<<'{"type":"test.two","actor":"bats","subject":"t2","message":"hello"}'
  assert_status 0
  run --separate-stderr fr --format text events query
  assert_status 0
  [[ $output == "1  "*"  test.two  bats  t2  hello" ]] || fail "text line: $output"

  # Without FRACTA_EVENTS_STORE, fracta-events takes the store from the file.
  unset FRACTA_EVENTS_STORE
  mkdir -p conf
  printf 'runtime: {state: {driver: sqlite, sqlite: {path: from-config.db}}}\n' >conf/my.yaml
  run --separate-stderr fr --config conf/my.yaml events ensure-running
  assert_status 0
  [[ -f conf/from-config.db ]] || fail "the store named by --config was not created"
}

@test "dispatch: siblings are found next to fracta first, then on PATH" {
  local lone
  lone=$(lone_fracta "$BATS_TEST_TMPDIR/lone")
  use_store sqlite

  # Not next to it, found on PATH.
  PATH="$FRACTA_BIN:$PATH" run --separate-stderr "$lone" events latest-seq
  assert_status 0
  assert_equal "$output" 0

  # Next to it wins over PATH.
  printf '#!/bin/sh\necho "next-to-fracta $*"\n' >"$BATS_TEST_TMPDIR/lone/bin/fracta-events"
  chmod +x "$BATS_TEST_TMPDIR/lone/bin/fracta-events"
  PATH="$FRACTA_BIN:$PATH" run --separate-stderr "$lone" events latest-seq
  assert_status 0
  assert_equal "$output" "next-to-fracta latest-seq"
}

@test "dispatch: each verb runs its sibling with its leading words" {
  local lone dir
  lone=$(lone_fracta "$BATS_TEST_TMPDIR/lone")
  dir=$BATS_TEST_TMPDIR/lone/bin
  for sibling in fracta-init fracta-gw fracta-cp fracta-events fracta-reap; do
    printf '#!/bin/sh\necho "%s $*"\n' "$sibling" >"$dir/$sibling"
    chmod +x "$dir/$sibling"
  done
  run --separate-stderr "$lone" init --mode local
  assert_status 0
  assert_equal "$output" "fracta-init --mode local"
  run --separate-stderr "$lone" serve
  assert_status 0
  assert_equal "$output" "fracta-gw stdio"
  run --separate-stderr "$lone" controlplane start
  assert_status 0
  assert_equal "$output" "fracta-cp start"
  run --separate-stderr "$lone" reap --dry-run
  assert_status 0
  assert_equal "$output" "fracta-reap --dry-run"
}

@test "dispatch: a sibling that is not installed exits 127" {
  local lone
  lone=$(lone_fracta "$BATS_TEST_TMPDIR/lone")
  for verb in init serve controlplane events reap; do
    PATH=/usr/bin:/bin run -127 --separate-stderr "$lone" "$verb"
    assert_status 127
    assert_no_stdout
  done
  PATH=/usr/bin:/bin run -127 --separate-stderr "$lone" init
  assert_error "init: fracta-init is not installed"
  PATH=/usr/bin:/bin run -127 --separate-stderr "$lone" serve
  assert_error "serve: fracta-gw is not installed"
}

# ------------------------------------------------------------------- client --

@test "client: outside a project, without FRACTA_CP_URL: exit 100 and say so" {
  for verb in "list" "get t1" "wait t1" "watch t1" "status" "spawn t1 --contract x"; do
    local words
    read -ra words <<<"$verb"
    run --separate-stderr fr "${words[@]}"
    assert_status 100
    assert_no_stdout
    assert_error "${verb%% *}"
    [[ $stderr == *"not a fracta project (no .fracta directory); run 'fracta init' first" ]] ||
      fail "$verb: stderr: $stderr"
  done

  # A file naming the control plane's URL needs no project either.
  printf 'control_plane_api: {url: "http://127.0.0.1:1"}\n' >elsewhere.yaml
  run --separate-stderr fr --config elsewhere.yaml status
  assert_status 111
  assert_json '.url == "http://127.0.0.1:1"'
}

@test "client: FRACTA_CP_URL at a closed port: exit 111, no project needed" {
  export FRACTA_CP_URL=$CLOSED FRACTA_NO_AUTOSTART=1
  for verb in "list" "get t1" "say t1 hello" "peek t1" "logs t1" "kill t1" "merge t1" \
    "wait t1 --timeout 1s" "watch t1" "spawn t1 --contract x"; do
    local words
    read -ra words <<<"$verb"
    run --separate-stderr fr "${words[@]}"
    assert_status 111
    assert_no_stdout
    assert_error "${words[0]}${words[1]:+ ${words[1]}}: "
    [[ $stderr == *"127.0.0.1:1"* ]] || fail "$verb: stderr does not name the endpoint: $stderr"
  done
}

@test "client: status reports a control plane that does not answer, and exits 111" {
  export FRACTA_CP_URL=$CLOSED
  run --separate-stderr fr status
  assert_status 111
  assert_json '.url == "http://127.0.0.1:1" and .healthy == false and .ready == false'
  assert_error "status: the control plane is not answering"

  run --separate-stderr fr status --format text
  assert_status 111
  assert_equal "$output" "control plane http://127.0.0.1:1: not answering"
}

@test "client: a project's endpoint comes from fracta.yaml, or from the daemon's recorded URL" {
  project 'control_plane_api: {url: "http://127.0.0.1:1/"}'
  run --separate-stderr fr status
  assert_status 111
  assert_json '.url == "http://127.0.0.1:1"'

  project 'control_plane_api: {listen: "127.0.0.1:1"}'
  run --separate-stderr fr status
  assert_json '.url == "http://127.0.0.1:1"'
  echo "http://127.0.0.1:2" >.fracta/controlplane.url
  run --separate-stderr fr status
  assert_json '.url == "http://127.0.0.1:2"'

  # From a subdirectory, and with --config naming another file.
  mkdir -p sub/deeper
  printf 'control_plane_api: {url: "http://127.0.0.1:3"}\n' >sub/other.yaml
  cd sub/deeper
  run --separate-stderr fr status
  assert_json '.url == "http://127.0.0.1:2"'
  run --separate-stderr fr --config ../other.yaml status
  assert_json '.url == "http://127.0.0.1:3"'
  run --separate-stderr fr status --config ../other.yaml
  assert_json '.url == "http://127.0.0.1:3"'
}

# A fracta-cp stand-in next to a copy of fracta: records how it was called
# and fails, so the test sees the auto-start without any server.
stub_cp() {
  local lone
  lone=$(lone_fracta "$BATS_TEST_TMPDIR/lone")
  cat >"$BATS_TEST_TMPDIR/lone/bin/fracta-cp" <<EOF
#!/bin/sh
echo "\$* cwd=\$PWD config=\${FRACTA_CONFIG:-}" >>"$BATS_TEST_TMPDIR/cp-calls"
echo "fracta-cp: error: cannot listen: address in use" >&2
exit 3
EOF
  chmod +x "$BATS_TEST_TMPDIR/lone/bin/fracta-cp"
  echo "$lone"
}

@test "client: nothing answering a local project starts fracta-cp in the project root, once" {
  local lone
  lone=$(stub_cp)
  project
  mkdir -p sub
  cd sub
  run --separate-stderr "$lone" list
  assert_status 111
  assert_no_stdout
  assert_error "list: GET http://127.0.0.1:1/api/v1/agents: "
  [[ $stderr == *"(auto-start: fracta-cp start exited 3: fracta-cp: error: cannot listen: address in use)" ]] ||
    fail "stderr: $stderr"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/cp-calls")" "start cwd=$BATS_TEST_TMPDIR config="

  # --config reaches it as FRACTA_CONFIG.
  rm "$BATS_TEST_TMPDIR/cp-calls"
  run --separate-stderr "$lone" --config ../fracta.yaml get t1
  assert_status 111
  assert_equal "$(cat "$BATS_TEST_TMPDIR/cp-calls")" "start cwd=$BATS_TEST_TMPDIR config=$BATS_TEST_TMPDIR/fracta.yaml"
}

@test "client: no auto-start with FRACTA_NO_AUTOSTART=1, an explicit URL, or for status" {
  local lone
  lone=$(stub_cp)
  project
  FRACTA_NO_AUTOSTART=1 run --separate-stderr "$lone" list
  assert_status 111
  [[ $stderr != *auto-start* ]] || fail "stderr: $stderr"

  FRACTA_CP_URL=$CLOSED run --separate-stderr "$lone" list
  assert_status 111

  run --separate-stderr "$lone" status
  assert_status 111

  project 'control_plane_api: {url: "http://127.0.0.1:1"}'
  run --separate-stderr "$lone" list
  assert_status 111

  [[ ! -e $BATS_TEST_TMPDIR/cp-calls ]] || fail "fracta-cp was started: $(cat "$BATS_TEST_TMPDIR/cp-calls")"
}

@test "client: auto-start without fracta-cp installed exits 127" {
  local lone
  lone=$(lone_fracta "$BATS_TEST_TMPDIR/lone")
  project
  PATH=/usr/bin:/bin run -127 --separate-stderr "$lone" list
  assert_status 127
  [[ $stderr == *"(auto-start: fracta-cp is not installed)" ]] || fail "stderr: $stderr"
}

# --------------------------------------------------------------------- flow --
# cp_project (tests/lib/cp.bash): a git project in $P, shell runtime, the API
# on a free port; teardown stops the daemon and any session left.

# json_lines — stdout as a JSON array of its lines.
json_lines() { jq -cs . <<<"$output"; }

@test "flow: fracta auto-starts the control plane, spawns, waits, lists, follows" {
  cp_project sqlite
  cd "$P"
  run --separate-stderr fr spawn t1 --contract 'echo hi' --label team=bats
  assert_status 0
  assert_json '.agent == "t1" and .status == "Queued" and .branch == "feature/t1" and .mission_id > 0'
  [[ -s .fracta/controlplane.url ]] || fail "no daemon was started"

  run --separate-stderr fr wait t1 --timeout 60s
  assert_status 0
  assert_json '.name == "t1" and .status == "Completed" and .last_output == "hi"'

  run --separate-stderr fr list --format text
  assert_status 0
  [[ ${lines[0]} =~ ^NAME\ +STATUS\ +RUNTIME\ +MODE\ +BRANCH\ +AGE\ +INTENT$ ]] || fail "header: ${lines[0]}"
  [[ ${lines[1]} =~ ^t1\ +Completed\ +shell\ +batch\ +feature/t1\ +[0-9]+s$ ]] || fail "row: ${lines[1]}"
  run --separate-stderr fr list --status Running
  assert_status 0
  assert_json '.agents == []'

  run --separate-stderr fr get t1
  assert_status 0
  assert_json '.agent.status == "Completed" and .agent.exit_code == 0'
  run --separate-stderr fr --format text get t1
  assert_status 0
  grep -qx 'status: Completed' <<<"$output" || fail "get --format text: $output"

  run --separate-stderr fr logs t1 --format text
  assert_status 0
  assert_equal "$output" "hi"

  # watch: the snapshot, then the events, ending by itself with the agent's end.
  run --separate-stderr fr watch t1
  assert_status 0
  assert_json '.[0].name == "t1" and .[0].status == "Completed"' "$(json_lines)"
  assert_json '[.[1:][].type] | index("lifecycle.running") != null and last == "lifecycle.completed"' "$(json_lines)"
  local running
  running=$(json_lines | jq -r '.[1:][] | select(.type == "lifecycle.running") | .seq')
  run --separate-stderr fr --format text watch t1 --after-seq "$running"
  assert_status 0
  [[ ${lines[0]} =~ ^t1\ +Completed\ +shell\ +batch\ +feature/t1$ ]] || fail "snapshot line: ${lines[0]}"
  [[ ${lines[-1]} =~ ^[0-9]+\ +[0-9T:.-]+Z\ +lifecycle.completed ]] || fail "last line: ${lines[-1]}"
  [[ $output != *lifecycle.running* ]] || fail "--after-seq showed an earlier event: $output"

  run --separate-stderr fr status
  assert_status 0
  assert_json '.healthy == true and .ready == true'
  assert_json ".url == \"$(<.fracta/controlplane.url)\""

  # The daemon fracta started is the project's: fracta-cp stops it.
  run --separate-stderr "$CP" stop
  assert_status 0
  FRACTA_NO_AUTOSTART=1 run --separate-stderr fr status
  assert_status 111
}

@test "flow: failures map to exit statuses with the API's message" {
  cp_project sqlite
  cp_start
  cd "$P"
  run --separate-stderr fr spawn bad --contract 'echo oops >&2; exit 3' --wait --timeout 60s
  assert_status 1
  assert_json '.status == "Failed" and .exit_code == 3' "$(json_lines | jq '.[1]')"
  assert_error "spawn bad: Failed: "
  run --separate-stderr fr wait bad
  assert_status 1
  assert_error "wait bad: Failed: "

  run --separate-stderr fr spawn bad --contract 'true'
  assert_status 1
  assert_no_stdout
  assert_error 'spawn bad: agent "bad" already exists'

  run --separate-stderr fr get nobody
  assert_status 1
  assert_no_stdout
  assert_error 'get nobody: agent "nobody" not found'

  run --separate-stderr fr spawn odd --runtime no-such-runtime --contract x
  assert_status 100
  assert_no_stdout

  run --separate-stderr fr spawn long --contract 'exec sleep 60'
  assert_status 0
  run --separate-stderr fr wait long --timeout 1s
  assert_status 111
  assert_no_stdout
  assert_error "wait long: timed out after 1s"
  run --separate-stderr fr kill long
  assert_status 0
  assert_json '.status == "Stopped"'
  run --separate-stderr fr wait long --timeout 30s
  assert_status 1
  assert_json '.status == "Stopped"'
  assert_error "wait long: Stopped"
}

@test "flow: merge, and a conflict exits 1 with the tree left clean" {
  cp_project sqlite
  cp_start
  cd "$P"
  run --separate-stderr fr spawn a --contract 'echo from-a >shared.txt && git add shared.txt && git commit -qm a' --wait
  assert_status 0
  run --separate-stderr fr spawn b --contract 'echo from-b >shared.txt && git add shared.txt && git commit -qm b' --wait
  assert_status 0
  run --separate-stderr fr merge a
  assert_status 0
  assert_json '.status == "merged"'
  grep -qx from-a shared.txt
  run --separate-stderr fr merge b
  assert_status 1
  assert_no_stdout
  assert_error "merge b: "
  assert_equal "$(git status --porcelain --untracked-files=no)" "" "tree after the failed merge"
}

@test "flow: say reaches a stream agent, peek shows it" {
  cp_project sqlite
  cp_start
  cd "$P"
  run --separate-stderr fr spawn talk --mode stream --contract ''
  assert_status 0
  wait_for 20 status_is talk Running
  # shellcheck disable=SC2016  # the agent's shell expands it
  run --separate-stderr fr say talk echo 'said-$((40+2))'
  assert_status 0
  assert_json '.status == "dispatched"'
  wait_for 10 peek_shows talk said-42
  run --separate-stderr fr --format text peek talk -n 20
  assert_status 0
  grep -qx said-42 <<<"$output" || fail "peek: $output"
  run --separate-stderr fr say talk - <<<"exit 0"
  assert_status 0
  run --separate-stderr fr wait talk --timeout 30s
  assert_status 0
}

peek_shows() { [[ $("$FR" --format text peek "$1" 2>/dev/null) == *"$2"* ]]; }

@test "flow: with a token, requests without it exit 100; FRACTA_CP_TOKEN lets them in" {
  cp_project sqlite
  FRACTA_CP_TOKEN=s3cret cp_start
  cd "$P"
  run --separate-stderr fr list
  assert_status 100
  assert_no_stdout
  assert_error "list: "
  [[ $stderr == *"FRACTA_CP_TOKEN"* ]] || fail "stderr: $stderr"
  FRACTA_CP_TOKEN=s3cret run --separate-stderr fr list
  assert_status 0
  assert_json '.agents == []'
}

# complete WORDS… — run the completion function on a command line (the last
# word is the one being completed); prints COMPREPLY, one per line.
complete_words() {
  bash -c 'source <("$1" completion bash) || exit 3
    shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    PATH=$(dirname "$FR"):$PATH _fracta; printf "%s\n" "${COMPREPLY[@]}"' _ "$FR" "$@"
}

@test "completion: bash completes verbs, each verb's options from its own table, and task names from the control plane" {
  run --separate-stderr fr completion bash
  assert_status 0
  bash -n <<<"$output" || fail "not valid bash"
  run complete_words fracta sp
  assert_equal "$output" spawn
  run complete_words fracta spawn --contr
  assert_equal "$output" $'--contract\n--contract-file'
  run complete_words fracta wait --ti
  assert_equal "$output" --timeout
  run --separate-stderr fr completion zsh
  assert_status 100

  cp_project sqlite
  cp_start
  cd "$P"
  run --separate-stderr fr spawn alpha-1 --contract true --wait
  assert_status 0
  run --separate-stderr fr spawn alpine --contract true --wait
  assert_status 0
  FR=$FR run complete_words fracta logs alp
  assert_equal "$output" $'alpha-1\nalpine'
  # verbs that take no task complete nothing there
  run complete_words fracta list al
  assert_equal "$output" ""
}
