#!/usr/bin/env bats
# fracta-spawn-local: the session contract (spec/exec-provider.md, "Session
# contract", "fracta's extra ops", "The session supervisor").
#
#   conformance: …  tests/lib/provider-conformance.bash, shared with
#                   fracta-spawn-k8s and the exec fixture (Gas City's
#                   runtimetest suite)
#   contract: …     names, bad input, unsupported ops, env, restart
#   stream/signals  nudge and send-keys reach stdin, interrupt hits the whole
#                   group, start's hooks run in order, stop leaves nothing
#   batch: …        wait, lost supervisors, exit status kept for later
#   git: …          worktrees
#   workspace: …    workspace_files and copy_files
#
# Every test has its own FRACTA_STATE_DIR; teardown stops every session and
# records anything left behind, which the last test reports.

load ../lib/common
load ../lib/session
load ../lib/provider-conformance

setup() {
  session_setup
  CONF_SLEEP_JSON=$SLEEP_JSON
  CONF_READER_JSON=$(jq -nc --arg wd "$WD" '{work_dir: $wd, command: "while read -r l; do echo \"got:$l\"; done"}')
}

teardown() {
  session_teardown
}

# ---------------------------------------------------------- conformance --
# tests/lib/provider-conformance.bash: the checks every provider passes.

conf_provider() { "$SL" "$@"; }

# peek_is TASK N TEXT — `peek TASK N` succeeds and prints exactly TEXT
peek_is() {
  run --separate-stderr sl peek "$1" "$2"
  assert_status 0
  assert_equal "$output" "$3" "peek $2 of $1"
}
CONF_OPS="status process-alive process-names meta input activity clear scrollback copy-to"

@test "conformance: start → is-running true; a duplicate start exits 1 with 'already exists'" { conf_check_start; }
@test "conformance: stop → is-running false; stop is idempotent" { conf_check_stop; }
@test "conformance: is-running on an unknown session is false, its status absent" { conf_check_unknown; }
@test "conformance: list-running finds the session, filters by prefix, drops stopped ones" { conf_check_list_running; }
@test "conformance: peek, get-last-activity, clear-scrollback" { conf_check_peek; }
@test "conformance: process-alive finds a named process inside the session, false after stop" { conf_check_process_alive; }
@test "conformance: meta round-trip, unset is empty, remove, overwrite, two keys" { conf_check_meta; }
@test "conformance: send-keys, nudge and interrupt succeed on a live and on a missing session" { conf_check_input; }
@test "conformance: copy-to of a missing source succeeds" { conf_check_copy_missing; }
@test "conformance: bad names exit 100; unknown ops and check-image exit 2" { conf_check_bad_input; }
@test "conformance: concurrent start, is-running, list-running, stop on 3 names" { conf_check_concurrent; }

# ------------------------------------------------------------- contract --

@test "contract: two concurrent starts of one name — exactly one wins, the others say 'already exists'" {
  par start "$SLEEP_JSON" race race race
  local i wins=0 losses=0
  for i in 0 1 2; do
    case $(par_rc $i) in
    0) wins=$((wins + 1)) ;;
    1)
      losses=$((losses + 1))
      [[ $(par_err $i) == *"already exists"* ]] || fail "losing start #$i: stderr lacks 'already exists': $(par_err $i)"
      ;;
    *) fail "start #$i: exit $(par_rc $i): $(par_err $i)" ;;
    esac
  done
  assert_equal "$wins/$losses" "1/2" "wins/losses"
  is_running race || fail "race is not running"
}

@test "contract: forget refuses a running session, removes an ended one, and is a no-op when absent" {
  run --separate-stderr sl start fg <<<"$SLEEP_JSON"
  assert_status 0
  run --separate-stderr sl forget fg
  assert_status 1
  [[ $stderr == *"is running"* ]] || fail "stderr: $stderr"
  [[ -d $FRACTA_STATE_DIR/fg ]] || fail "state removed from a running session"
  run --separate-stderr sl stop fg
  assert_status 0
  run --separate-stderr sl forget fg
  assert_status 0
  [[ ! -e $FRACTA_STATE_DIR/fg ]] || fail "state left"
  run --separate-stderr sl status fg
  assert_json '.state == "absent"'
  run --separate-stderr sl forget fg
  assert_status 0
}

@test "contract: raw names with '--', '__' and upper case work and are listed raw" {
  start_session My_City--agent__x "$SLEEP_JSON"
  run --separate-stderr sl is-running My_City--agent__x
  assert_equal "$output" true
  run --separate-stderr sl list-running ""
  assert_status 0
  assert_equal "$output" My_City--agent__x "list-running ''"
  run --separate-stderr sl list-running My_City--
  assert_equal "$output" My_City--agent__x "list-running My_City--"
  run --separate-stderr sl list-running my_city
  assert_equal "$output" "" "list-running is case-sensitive"
}

@test "contract: invalid names exit 100 and create nothing" {
  local bad
  for bad in "a/b" "a.b" "" "../escape" "a b" "-x/../y"; do
    run --separate-stderr sl start "$bad" <<<"$SLEEP_JSON"
    [[ $status -eq 100 ]] || fail "start '$bad': expected 100, got $status ($stderr)"
    assert_equal "$output" "" "stdout of start '$bad'"
    [[ $stderr == "fracta-spawn-local: error: "* ]] || fail "start '$bad': stderr not in the house format: $stderr"
    run --separate-stderr sl is-running "$bad"
    [[ $status -eq 100 ]] || fail "is-running '$bad': expected 100, got $status"
    run --separate-stderr sl stop "$bad"
    [[ $status -eq 100 ]] || fail "stop '$bad': expected 100, got $status"
  done
  [[ -z $(ls -A "$FRACTA_STATE_DIR" 2>/dev/null) ]] || fail "state dir not empty: $(ls -A "$FRACTA_STATE_DIR")"
  [[ ! -e $BATS_TEST_TMPDIR/escape ]] || fail "a session directory escaped the state root"
}

@test "contract: bad start JSON exits 100 and creates nothing; unknown keys are ignored" {
  local bad
  for bad in '{"command":' '[]' '"sleep 300"' '{"command":5}' '{"env":{"A":1}}' \
    '{"mode":"interactive"}' '{"pre_start":"echo hi"}' '{"ready_delay_ms":-1}'; do
    run --separate-stderr sl start bad-json <<<"$bad"
    [[ $status -eq 100 ]] || fail "start with $bad: expected 100, got $status ($stderr)"
    assert_equal "$output" "" "stdout of start with $bad"
    [[ -n $stderr ]] || fail "start with $bad: empty stderr"
    run --separate-stderr sl status bad-json
    assert_status 0
    assert_json '.state == "absent"' || fail "after start with $bad"
  done
  # Unknown keys are ignored, and the payload needs no trailing newline.
  run --separate-stderr sl start bad-json < <(printf '%s' "$(jq -c '. + {"future_key": {"x": [1]}}' <<<"$SLEEP_JSON")")
  assert_status 0
  is_running bad-json || fail "not running after a start with unknown keys"
}

@test "contract: a start JSON over 1 MiB is bad input (100)" {
  head -c 1100000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big.txt"
  jq -nc --rawfile v "$BATS_TEST_TMPDIR/big.txt" --arg wd "$WD" \
    '{command: "sleep 300", work_dir: $wd, env: {BIG: $v}}' >"$BATS_TEST_TMPDIR/big.json"
  run --separate-stderr sl start too-big <"$BATS_TEST_TMPDIR/big.json"
  assert_status 100
  not_running too-big || fail "a session started"
}

@test "contract: a start killed by its caller (SIGKILL, as on a timeout) leaves the name usable" {
  local T=$BATS_TEST_TMPDIR
  local json
  json=$(jq -nc --arg wd "$WD" --arg t "$T" '{work_dir: $wd, command: "sleep 300",
    pre_start: ["echo $$ >" + $t + "/pre.pid; exec sleep 30"]}')
  start_bg "$SL" start killed-start <<<"$json" >"$T/start.out" 2>"$T/start.err"
  local starter=$BG_PID
  wait_for 10 test -s "$T/pre.pid"
  kill -KILL "$starter"
  wait "$starter" 2>/dev/null || true
  # The pre_start grandchild lives on (Go kills only the direct child); it must
  # not hold the name.
  local pre
  pre=$(<"$T/pre.pid")
  run --separate-stderr sl start killed-start <<<"$SLEEP_JSON"
  kill -KILL "$pre" 2>/dev/null || true
  assert_status 0
  is_running killed-start || fail "not running"
}

@test "contract: usage errors exit 100; check-image and unknown ops exit 2" {
  run --separate-stderr sl
  assert_status 100
  run --separate-stderr sl start
  assert_status 100
  run --separate-stderr sl check-image docker.io/library/busybox:latest
  assert_status 2
  assert_equal "$output" "" "stdout of check-image"
  # Gas City treats exit 2 as "not supported, succeed with empty output".
  run --separate-stderr sl some-future-op some-name </dev/null
  assert_status 2
  assert_equal "$output" "" "stdout of an unknown op"
}

@test "contract: peek with a line count that is not a number exits 100" {
  start_session peek-bad "$SLEEP_JSON"
  local bad
  for bad in not-a-number 5x ""; do
    run --separate-stderr sl peek peek-bad "$bad"
    [[ $status -eq 100 ]] || fail "peek peek-bad '$bad': expected 100, got $status (stdout '$output')"
  done
}

@test "contract: long names (64 and 200 characters) work, control socket included" {
  local n64 n200
  n64=$(printf 'a%.0s' {1..64})
  n200=$(printf 'b%.0s' {1..200})
  local json
  json=$(jq -nc --arg wd "$WD" '{mode: "stream", work_dir: $wd,
    command: "while read -r l; do echo \"got:$l\"; done"}')
  for n in "$n64" "$n200"; do
    start_session "$n" "$json"
    is_running "$n" || fail "${#n}-char name: not running"
    run --separate-stderr sl nudge "$n" < <(printf 'hi-long')
    assert_status 0
    wait_for 10 peek_has "$n" "got:hi-long" || fail "${#n}-char name: nudge never arrived"
    run --separate-stderr sl list-running "${n:0:10}"
    assert_equal "$output" "$n" "list-running of the ${#n}-char name"
  done
}

@test "contract: start after stop of the same name starts a fresh session" {
  start_session again "$SLEEP_JSON"
  local first
  first=$(state_field again pgid)
  run --separate-stderr sl stop again
  assert_status 0
  start_session again "$SLEEP_JSON"
  is_running again || fail "not running after the second start"
  [[ $(state_field again pgid) != "$first" ]] || fail "the second start reports the first session's pgid"

  # And after a batch session ended by itself.
  start_session done-once "$(jq -nc --arg wd "$WD" '{work_dir: $wd, command: "exit 0"}')"
  run --separate-stderr sl wait done-once 30
  assert_status 0
  start_session done-once "$SLEEP_JSON"
  is_running done-once || fail "not running after a start over an ended session"
}

@test "contract: a failing pre_start aborts the start (exit 1) and leaves no session" {
  local json
  json=$(jq -nc --arg wd "$WD" '{work_dir: $wd, pre_start: ["echo pre-ran >pre.txt", "exit 3"], command: "touch ran; sleep 300"}')
  run --separate-stderr sl start pre-fails <<<"$json"
  assert_status 1
  [[ $stderr == "fracta-spawn-local: error: "* ]] || fail "stderr: $stderr"
  [[ ! -e $WD/ran ]] || fail "the command ran after a failed pre_start"
  not_running pre-fails || fail "running after a failed pre_start"
  run --separate-stderr sl status pre-fails
  assert_json '.state == "absent"'
  # The name is free again.
  start_session pre-fails "$SLEEP_JSON"
}

@test "contract: env, secret_env and work_dir reach the command; secrets stay off command lines" {
  local json
  json=$(jq -nc --arg wd "$WD" '{work_dir: $wd,
    env: {FOO: "bar baz"},
    secret_env: {SEC_TOKEN: "s3cr3t-value"},
    command: "printf \"env:%s|%s|%s\\n\" \"$FOO\" \"$SEC_TOKEN\" \"$(pwd -P)\"; exec sleep 300"}')
  start_session envy "$json"
  wait_for 10 peek_has envy "env:" || fail "no output: $(sl peek envy 0)"
  run --separate-stderr sl peek envy 0
  assert_equal "$output" "env:bar baz|s3cr3t-value|$(cd "$WD" && pwd -P)" "the command's view"
  local sup p
  sup=$(state_field envy supervisor_pid)
  [[ -n $sup ]] || fail "no supervisor_pid in state.json"
  [[ $(cmdline_of "$sup") != *s3cr3t* ]] || fail "the secret is on the supervisor's command line: $(cmdline_of "$sup")"
  for p in $(sid_pids "$(state_field envy pgid)"); do
    [[ $(cmdline_of "$p") != *s3cr3t* ]] || fail "the secret is on a command line: $(cmdline_of "$p")"
  done
}

@test "contract: secret_refs (a Kubernetes Secret's key) are refused: a local session cannot read a Secret" {
  local json
  json=$(jq -nc --arg wd "$WD" '{work_dir: $wd, command: "exec sleep 300", secret_refs: {K: {secret: "team", key: "k"}}}')
  run --separate-stderr sl start refs <<<"$json"
  assert_status 100
  assert_equal "$stderr" 'fracta-spawn-local: error: "secret_refs": a local session cannot read a Kubernetes Secret (use secret_env)'
  run --separate-stderr sl is-running refs </dev/null
  assert_equal "$output" false "is-running after the refusal"
}

@test "contract: the caller's open file descriptors do not leak into the supervisor or the session" {
  local held=$BATS_TEST_TMPDIR/held-by-caller
  local json
  json=$(jq -nc --arg wd "$WD" '{work_dir: $wd, command: "exec sleep 300"}')
  run --separate-stderr sl start fds 5>"$held" 7<"$held" <<<"$json"
  assert_status 0
  # Look at the command from outside: its own descriptors are exactly 0, 1, 2.
  local leader fds
  leader=$(state_field fds pgid)
  runs_sleep() { [[ $(readlink /proc/"$1"/exe 2>/dev/null) == "$(readlink -f "$(command -v sleep)")" ]]; }
  wait_for 10 runs_sleep "$leader"
  fds=$(cd /proc/"$leader"/fd && ls | sort -n | tr '\n' ' ')
  assert_equal "$fds" "0 1 2 " "the command's open descriptors"
  local p f holders=""
  for p in "$(state_field fds supervisor_pid)" $(sid_pids "$(state_field fds pgid)"); do
    for f in /proc/"$p"/fd/*; do
      [[ $(readlink "$f" 2>/dev/null) == "$held" ]] && holders+="$p:${f##*/} "
    done
  done
  [[ -z $holders ]] || fail "the caller's file is held by (pid:fd) $holders"
}

@test "contract: status and list give JSON; status of an absent session is 'absent'" {
  start_session lst-a "$SLEEP_JSON"
  start_session lst-b "$(jq -c '. + {mode: "stream"}' <<<"$SLEEP_JSON")"
  start_session other "$SLEEP_JSON"

  run --separate-stderr sl status lst-a
  assert_status 0
  assert_json '.name == "lst-a" and .state == "running" and .mode == "stream"'
  assert_equal "$(jq -r .work_dir <<<"$output")" "$WD" "status .work_dir"
  is_rfc3339 "$(jq -r .started_at <<<"$output")" || fail "started_at: $output"
  assert_equal "$(jq -r .ref <<<"$output")" "$(state_field lst-a pgid)" "status .ref vs state.json .pgid"
  assert_json 'has("exit_code") | not'

  run --separate-stderr sl list lst-
  assert_status 0
  assert_json 'type == "array" and length == 2'
  assert_json '[.[].name] | sort == ["lst-a", "lst-b"]'
  assert_json 'all(.[]; .state == "running")'
  assert_json '(.[] | select(.name == "lst-b") | .mode) == "stream"'

  run --separate-stderr sl list ""
  assert_status 0
  assert_json 'length == 3'

  run --separate-stderr sl status never-was
  assert_status 0
  assert_json '.name == "never-was" and .state == "absent"'
}

# ------------------------------------------------------ stream / signals --

@test "stream: nudge text reaches the session's stdin" {
  local json
  json=$(jq -nc --arg wd "$WD" '{mode: "stream", work_dir: $wd,
    command: "while read -r l; do echo \"got:$l\"; done"}')
  start_session echo-nudge "$json"
  run --separate-stderr sl nudge echo-nudge < <(printf 'hello nudge')
  assert_status 0
  wait_for 10 peek_has echo-nudge "got:hello nudge" || fail "peek: $(sl peek echo-nudge 0)"
  run --separate-stderr sl get-last-activity echo-nudge
  assert_status 0
  is_rfc3339 "$output" || fail "get-last-activity after input: '$output'"
}

@test "stream: send-keys types literal text and Enter; peek drops carriage returns" {
  local json
  json=$(jq -nc --arg wd "$WD" '{mode: "stream", work_dir: $wd,
    command: "echo line-1; echo line-2; echo line-3; while read -r l; do echo \"got:$l\"; done"}')
  start_session keys "$json"
  wait_for 10 peek_has keys line-3 || fail "no output: $(sl peek keys 0)"
  peek_is keys 2 $'line-2\nline-3'
  run --separate-stderr sl send-keys keys abc Enter
  assert_status 0
  wait_for 10 peek_has keys "got:abc" || fail "peek: $(sl peek keys 0)"
}

@test "batch: peek returns the last N lines; N <= 0 means all" {
  local json
  json=$(jq -nc --arg wd "$WD" '{work_dir: $wd,
    command: "for i in 1 2 3 4 5; do echo line-$i; done; exec sleep 300"}')
  start_session peeky "$json"
  wait_for 10 peek_has peeky line-5 || fail "no output: $(sl peek peeky 0)"
  peek_is peeky 2 $'line-4\nline-5'
  peek_is peeky 0 $'line-1\nline-2\nline-3\nline-4\nline-5'
  peek_is peeky -1 $'line-1\nline-2\nline-3\nline-4\nline-5'
  run --separate-stderr sl get-last-activity peeky
  assert_status 0
  is_rfc3339 "$output" || fail "get-last-activity after output: '$output'"
}

# A parent shell and a child process each trap SIGINT. (A background job of a
# non-interactive sh starts with SIGINT ignored and cannot trap it — POSIX —
# so the child is perl, which can.)
INT_COMMAND='trap "echo got-int-parent" INT; perl -e '"'"'$| = 1; $SIG{INT} = sub { print "got-int-child\n"; exit 0 }; print "child-ready\n"; sleep 1 while 1'"'"' & echo parent-ready; while :; do sleep 0.1; done'

interrupt_reaches_group() {
  local name=$1
  wait_for 10 peek_has "$name" child-ready || fail "child never ready: $(sl peek "$name" 0)"
  wait_for 10 peek_has "$name" parent-ready || fail "parent never ready: $(sl peek "$name" 0)"
  run --separate-stderr sl interrupt "$name"
  assert_status 0
  wait_for 10 peek_has "$name" got-int-child || fail "the child got no SIGINT: $(sl peek "$name" 0)"
  wait_for 10 peek_has "$name" got-int-parent || fail "the parent got no SIGINT: $(sl peek "$name" 0)"
  # Ctrl-C is not stop: the trapping parent is still there.
  is_running "$name" || fail "the session ended on interrupt"
}

@test "signals: interrupt delivers SIGINT to the whole process group (batch)" {
  start_session int-batch "$(jq -nc --arg wd "$WD" --arg c "$INT_COMMAND" '{work_dir: $wd, command: $c}')"
  interrupt_reaches_group int-batch
}

@test "signals: interrupt delivers SIGINT to the whole process group (stream)" {
  start_session int-stream "$(jq -nc --arg wd "$WD" --arg c "$INT_COMMAND" '{mode: "stream", work_dir: $wd, command: $c}')"
  interrupt_reaches_group int-stream
}

@test "signals: interrupt works even when the caller of start ignores SIGINT" {
  # nohup'd or backgrounded callers pass SIGINT ignored; the session must not inherit that.
  local json
  json=$(jq -nc --arg wd "$WD" --arg c "$INT_COMMAND" '{work_dir: $wd, command: $c}')
  run --separate-stderr perl -e '$SIG{INT} = "IGNORE"; exec @ARGV or exit 127' "$SL" start int-ign <<<"$json"
  assert_status 0
  interrupt_reaches_group int-ign
}

@test "signals: start runs pre_start, session_setup, session_setup_script, then types the nudge" {
  local T=$BATS_TEST_TMPDIR ord=$BATS_TEST_TMPDIR/order
  printf '#!/bin/sh\necho session_setup_script >>"%s"\n' "$ord" >"$T/setup.sh"
  chmod +x "$T/setup.sh"
  local json
  json=$(jq -nc --arg wd "$WD" --arg ord "$ord" --arg script "$T/setup.sh" '{
    mode: "stream", work_dir: $wd,
    command: ("echo command >>\"" + $ord + "\"; while read -r l; do echo \"input:$l\" >>\"" + $ord + "\"; echo \"got:$l\"; done"),
    pre_start: ["echo pre_start >>\"" + $ord + "\""],
    session_setup: ["echo session_setup >>\"" + $ord + "\""],
    session_setup_script: $script,
    nudge: "the-nudge"}')
  start_session hooks "$json"
  wait_for 10 file_has "$ord" "input:the-nudge" || fail "the nudge never arrived; order: $(cat "$ord" 2>/dev/null)"
  wait_for 10 peek_has hooks "got:the-nudge" || fail "peek: $(sl peek hooks 0)"

  local -A at=()
  local i=0 line
  while IFS= read -r line; do
    at[$line]=$i
    i=$((i + 1))
  done <"$ord"
  local order
  order=$(tr '\n' ' ' <"$ord")
  [[ -n ${at[pre_start]-} && -n ${at[command]-} && -n ${at[session_setup]-} && -n ${at[session_setup_script]-} ]] ||
    fail "a step did not run; order: $order"
  local pre=${at[pre_start]} cmd=${at[command]} setup=${at[session_setup]} script=${at[session_setup_script]}
  local nudge=${at[input:the-nudge]}
  ((pre == 0)) || fail "pre_start is not first: $order"
  ((pre < cmd)) || fail "pre_start after the command: $order"
  ((setup < script)) || fail "session_setup_script before session_setup: $order"
  ((script < nudge)) || fail "the nudge before session_setup_script: $order"
  assert_equal "$(grep -c 'input:the-nudge' "$ord")" 1 "the nudge is typed once"
}

@test "signals: session_setup_script may live in a directory with spaces" {
  local dir="$BATS_TEST_TMPDIR/my city/scripts"
  mkdir -p "$dir"
  printf '#!/bin/sh\necho setup-ran >"%s/setup-ran"\n' "$WD" >"$dir/setup.sh"
  chmod +x "$dir/setup.sh"
  start_session spaced "$(jq -nc --arg wd "$WD" --arg s "$dir/setup.sh" '{work_dir: $wd, command: "sleep 300", session_setup_script: $s}')"
  [[ -z $stderr ]] || fail "start warned: $stderr"
  [[ -f $WD/setup-ran ]] || fail "the setup script did not run"
}

@test "signals: stop leaves no process of the session's group alive" {
  start_session grp "$(jq -nc --arg wd "$WD" '{work_dir: $wd, command: "sleep 300 & sleep 301 & wait"}')"
  local pgid ref
  pgid=$(state_field grp pgid)
  [[ $pgid =~ ^[0-9]+$ ]] && ((pgid > 1)) || fail "state.json .pgid: '$pgid'"
  ref=$(status_json grp | jq -r .ref)
  assert_equal "$ref" "$pgid" "status .ref vs state.json .pgid"
  # The command is its own session leader: sid = pgid = its pid.
  wait_for 10 eval '(( $(sid_count '"$pgid"') >= 3 ))' || fail "session $pgid holds: $(sid_pids "$pgid")"

  stop_ends_session grp "$pgid"
  not_running grp || fail "is-running is not false after stop"
}

@test "signals: stop KILLs a group that ignores SIGTERM after the grace period" {
  start_session stubborn "$(jq -nc --arg wd "$WD" '{work_dir: $wd, command: "trap \"\" TERM; sleep 300 & sleep 301 & wait; wait"}')"
  local pgid
  pgid=$(state_field stubborn pgid)
  wait_for 10 eval '(( $(sid_count '"$pgid"') >= 3 ))' || fail "session $pgid holds: $(sid_pids "$pgid")"
  stop_ends_session stubborn "$pgid"
}

@test "signals: processes the command leaves behind are gone once the session has ended and is stopped" {
  start_session straggler "$(jq -nc --arg wd "$WD" '{work_dir: $wd,
    command: "sleep 300 </dev/null >/dev/null 2>&1 & echo leader-done"}')"
  local pgid
  pgid=$(state_field straggler pgid)
  run --separate-stderr sl wait straggler 30
  assert_status 0
  assert_json '.state == "exited" and .exit_code == 0'
  stop_ends_session straggler "$pgid"
}

# ---------------------------------------------------------------- batch --

@test "batch: wait returns the exit code and the output tail" {
  local json
  json=$(jq -nc --arg wd "$WD" '{work_dir: $wd, command: "echo out-1; echo err-1 >&2; echo out-2; exit 7"}')
  start_session job "$json"
  run --separate-stderr sl wait job 30
  assert_status 0
  assert_json '.name == "job" and .state == "exited" and .exit_code == 7'
  assert_json '.output_tail | contains("out-1") and contains("err-1") and contains("out-2")'
  is_rfc3339 "$(jq -r .started_at <<<"$output")" || fail "started_at: $output"
  is_rfc3339 "$(jq -r .ended_at <<<"$output")" || fail "ended_at: $output"
  # Waiting again gives the same answer.
  local first=$output
  run --separate-stderr sl wait job 30
  assert_status 0
  assert_equal "$output" "$first" "a second wait"
  run --separate-stderr sl is-running job
  assert_equal "$output" false "is-running after the end"
}

@test "batch: stdin is /dev/null" {
  start_session stdin-null "$(jq -nc --arg wd "$WD" '{mode: "batch", work_dir: $wd, command: "cat; echo cat-done"}')"
  run --separate-stderr sl wait stdin-null 30
  assert_status 0
  assert_json '.state == "exited" and .exit_code == 0 and (.output_tail | contains("cat-done"))'
}

@test "batch: wait on a session still running at the timeout exits 111" {
  start_session long "$SLEEP_JSON"
  run --separate-stderr sl wait long 1
  assert_status 111
  assert_equal "$output" "" "stdout of a timed-out wait"
  is_running long || fail "wait's timeout ended the session"
}

@test "batch: a stopped session waits as 'killed'" {
  start_session stopped "$SLEEP_JSON"
  run --separate-stderr sl stop stopped
  assert_status 0
  run --separate-stderr sl wait stopped 10
  assert_status 0
  assert_json '.name == "stopped" and .state == "killed"'
}

@test "batch: kill -9 of the supervisor is reported as lost, never as running" {
  start_session orphan "$SLEEP_JSON"
  local sup pgid
  sup=$(state_field orphan supervisor_pid)
  pgid=$(state_field orphan pgid)
  is_supervisor "$sup" orphan || fail "state.json .supervisor_pid $sup is not 'fracta-spawn-local supervise orphan …': $(cmdline_of "$sup")"
  kill -KILL "$sup"
  wait_for 10 not_supervisor "$sup" orphan

  wait_for 10 state_is orphan lost || fail "status: $(status_json orphan)"
  run --separate-stderr sl is-running orphan
  assert_status 0
  assert_equal "$output" false "is-running of a lost session"
  run --separate-stderr sl list-running ""
  assert_equal "$output" "" "list-running with a lost session"
  run --separate-stderr sl wait orphan 5
  assert_status 0
  assert_json '.name == "orphan" and .state == "lost"'
  run --separate-stderr sl list ""
  assert_json '.[0].state == "lost"'

  # stop still ends what the lost supervisor left running.
  stop_ends_session orphan "$pgid"
}

@test "batch: the exit status of a session that ended while nobody waited is reported later" {
  start_session quiet "$(jq -nc --arg wd "$WD" '{work_dir: $wd, command: "echo done-output; exit 3"}')"
  local sup
  sup=$(state_field quiet supervisor_pid)
  # Nobody waits: the session ends and its supervisor goes away.
  wait_for 10 state_is quiet exited || fail "status: $(status_json quiet)"
  wait_for 10 not_supervisor "$sup" quiet || fail "the supervisor $sup outlives its session"

  run --separate-stderr sl status quiet
  assert_status 0
  assert_json '.state == "exited" and .exit_code == 3'
  is_rfc3339 "$(jq -r .ended_at <<<"$output")" || fail "ended_at: $output"
  run --separate-stderr sl wait quiet 5
  assert_status 0
  assert_json '.state == "exited" and .exit_code == 3 and (.output_tail | contains("done-output"))'
  run --separate-stderr sl logs quiet
  assert_status 0
  assert_equal "$output" done-output "logs"
  run --separate-stderr sl is-running quiet
  assert_equal "$output" false
  run --separate-stderr sl list-running ""
  assert_equal "$output" "" "list-running"
}

@test "batch: output.log is size-capped and keeps the newest output" {
  start_session loud "$(jq -nc --arg wd "$WD" '{work_dir: $wd,
    command: "i=0; while [ $i -lt 12 ]; do head -c 1048576 /dev/zero | tr \"\\0\" x; echo; i=$((i+1)); done; echo last-line"}')"
  run --separate-stderr sl wait loud 60
  assert_status 0
  assert_json '.exit_code == 0 and (.output_tail | endswith("last-line\n"))'
  local size
  size=$(stat -c %s "$FRACTA_STATE_DIR/loud/output.log")
  ((size <= 8 * 1024 * 1024)) || fail "output.log holds $size bytes for 12 MiB of output"
  run --separate-stderr sl peek loud 1
  assert_equal "$output" last-line "peek 1"
}

@test "batch: logs --follow streams new output" {
  local json
  json=$(jq -nc --arg wd "$WD" --arg f "$BATS_TEST_TMPDIR/go" \
    '{work_dir: $wd, command: ("echo first; while [ ! -e " + $f + " ]; do sleep 0.05; done; echo second; exec sleep 300")}')
  start_session follow "$json"
  start_bg "$SL" logs follow --follow >"$BATS_TEST_TMPDIR/follow.out" 2>"$BATS_TEST_TMPDIR/follow.err"
  wait_for 10 file_has "$BATS_TEST_TMPDIR/follow.out" first || fail "follow: $(cat "$BATS_TEST_TMPDIR/follow.out")"
  touch "$BATS_TEST_TMPDIR/go"
  wait_for 10 file_has "$BATS_TEST_TMPDIR/follow.out" second || fail "follow: $(cat "$BATS_TEST_TMPDIR/follow.out")"
}

# ------------------------------------------------------------------ git --

@test "git: the session runs in a fresh worktree on feature/<name> from base" {
  local repo=$BATS_TEST_TMPDIR/repo
  make_repo "$repo"
  local main_sha
  main_sha=$(git -C "$repo" rev-parse main)
  local json
  json=$(jq -nc --arg repo "$repo" '{mode: "batch", git: {repo: $repo, base: "main"},
    workspace_files: {"CLAUDE.md": "notes\n"},
    command: "git rev-parse --abbrev-ref HEAD; git rev-parse HEAD; pwd -P; ls; git status --porcelain --untracked-files=no | wc -l"}')
  start_session task-1 "$json"
  run --separate-stderr sl wait task-1 30
  assert_status 0
  assert_json '.state == "exited" and .exit_code == 0'
  local tail wt
  tail=$(jq -r .output_tail <<<"$output")
  wt=$(cd "$repo" && pwd -P)/.worktrees/task-1
  assert_equal "$(sed -n 1p <<<"$tail")" feature/task-1 "branch"
  assert_equal "$(sed -n 2p <<<"$tail")" "$main_sha" "HEAD (from main, not the checked-out dev)"
  assert_equal "$(sed -n 3p <<<"$tail")" "$wt" "work dir (default <repo>/.worktrees/<name>)"
  grep -qx base.txt <<<"$tail" || fail "base.txt missing: $tail"
  grep -qx CLAUDE.md <<<"$tail" || fail "workspace file missing in the worktree: $tail"
  ! grep -qx dev.txt <<<"$tail" || fail "dev.txt present: the worktree is not from main: $tail"
  assert_equal "$(sed -n '$p' <<<"$tail")" 0 "tracked changes in the fresh worktree"

  git -C "$repo" worktree list --porcelain | grep -qx "worktree $wt" || fail "not a worktree of $repo: $(git -C "$repo" worktree list)"
  assert_equal "$(git -C "$repo" rev-parse feature/task-1)" "$main_sha" "feature/task-1"
  assert_equal "$(git -C "$repo" rev-parse --abbrev-ref HEAD)" dev "the repo's own checkout is untouched"
  run --separate-stderr sl status task-1
  assert_equal "$(jq -r .work_dir <<<"$output")" "$wt" "status .work_dir"
}

@test "git: explicit work_dir and branch" {
  local repo=$BATS_TEST_TMPDIR/repo wt=$BATS_TEST_TMPDIR/wt-custom
  make_repo "$repo"
  local json
  json=$(jq -nc --arg repo "$repo" --arg wt "$wt" '{work_dir: $wt,
    git: {repo: $repo, base: "main", branch: "feature/custom-x"},
    command: "git rev-parse --abbrev-ref HEAD; pwd -P"}')
  start_session task-2 "$json"
  run --separate-stderr sl wait task-2 30
  assert_status 0
  assert_json '.exit_code == 0'
  assert_equal "$(jq -r .output_tail <<<"$output")" "feature/custom-x"$'\n'"$wt" "branch and work dir"
  git -C "$repo" worktree list --porcelain | grep -qx "worktree $wt" || fail "not a worktree: $(git -C "$repo" worktree list)"
}

@test "git: two sessions on one repository at once" {
  local repo=$BATS_TEST_TMPDIR/repo
  make_repo "$repo"
  local json
  json=$(jq -nc --arg repo "$repo" '{git: {repo: $repo, base: "main"}, command: "sleep 300"}')
  par start "$json" task-a task-b
  [[ $(par_rc 0) == 0 ]] || fail "start task-a: exit $(par_rc 0): $(par_err 0)"
  [[ $(par_rc 1) == 0 ]] || fail "start task-b: exit $(par_rc 1): $(par_err 1)"
  is_running task-a || fail "task-a not running"
  is_running task-b || fail "task-b not running"
  local n
  for n in task-a task-b; do
    assert_equal "$(git -C "$repo/.worktrees/$n" rev-parse --abbrev-ref HEAD)" "feature/$n" "$n's branch"
  done
  assert_equal "$(git -C "$repo" worktree list --porcelain | grep -c '^worktree ')" 3 "worktrees (repo + 2)"
}

@test "git: stop keeps the worktree and its branch (the reaper removes them)" {
  local repo=$BATS_TEST_TMPDIR/repo
  make_repo "$repo"
  local json wt
  json=$(jq -nc --arg repo "$repo" '{git: {repo: $repo, base: "main"},
    command: "echo work >result.txt; exec sleep 300"}')
  start_session task-k "$json"
  wt=$repo/.worktrees/task-k
  wait_for 10 test -f "$wt/result.txt"
  run --separate-stderr sl stop task-k
  assert_status 0
  not_running task-k || fail "still running"
  [[ -f $wt/base.txt && -f $wt/result.txt ]] || fail "the worktree lost its files: $(ls -A "$wt" 2>&1)"
  git -C "$repo" worktree list --porcelain | grep -qx "worktree $(cd "$wt" && pwd -P)" ||
    fail "no longer a worktree: $(git -C "$repo" worktree list)"
  git -C "$repo" rev-parse --verify -q feature/task-k >/dev/null || fail "branch feature/task-k is gone"

  # A new start of the same task resumes in the kept worktree.
  start_session task-k "$(jq -nc --arg repo "$repo" '{git: {repo: $repo, base: "main"}, command: "cat result.txt; exec sleep 300"}')"
  wait_for 10 peek_has task-k work || fail "the second run did not see the kept work: $(sl peek task-k 0)"
}

@test "git: a base that does not exist fails the start and leaves nothing running" {
  local repo=$BATS_TEST_TMPDIR/repo
  make_repo "$repo"
  run --separate-stderr sl start task-nobase < <(jq -nc --arg repo "$repo" '{git: {repo: $repo, base: "no-such-branch"}, command: "sleep 300"}')
  assert_status 1
  [[ -n $stderr ]] || fail "no diagnostic"
  not_running task-nobase || fail "running after a failed start"
  run --separate-stderr sl list-running ""
  assert_equal "$output" "" "list-running"
}

# ------------------------------------------------------------ workspace --

@test "workspace: workspace_files and copy_files are in place before the command starts" {
  printf 'copied\n' >"$BATS_TEST_TMPDIR/src.txt"
  local json
  json=$(jq -nc --arg wd "$WD" --arg src "$BATS_TEST_TMPDIR/src.txt" '{work_dir: $wd,
    workspace_files: {".mcp.json": "{\"mcpServers\":{}}", "sub/dir/CLAUDE.md": "line one\nline two\n"},
    copy_files: [{src: $src, rel_dst: "in/copied.txt"}],
    command: "cat .mcp.json; echo; cat sub/dir/CLAUDE.md in/copied.txt"}')
  start_session ws "$json"
  run --separate-stderr sl wait ws 30
  assert_status 0
  assert_json '.exit_code == 0'
  assert_equal "$(jq -r .output_tail <<<"$output")" $'{"mcpServers":{}}\nline one\nline two\ncopied' "what the command saw"
  cmp -s "$WD/sub/dir/CLAUDE.md" <(printf 'line one\nline two\n') || fail "CLAUDE.md: $(od -c "$WD/sub/dir/CLAUDE.md")"
  cmp -s "$WD/.mcp.json" <(printf '{"mcpServers":{}}') || fail ".mcp.json: $(od -c "$WD/.mcp.json")"
}

@test "workspace: copy-to copies a file and a directory into a live session's workdir" {
  start_session cp "$SLEEP_JSON"
  printf 'one\n' >"$BATS_TEST_TMPDIR/f.txt"
  mkdir -p "$BATS_TEST_TMPDIR/tree/deep"
  printf 'two\n' >"$BATS_TEST_TMPDIR/tree/deep/g.txt"
  run --separate-stderr sl copy-to cp "$BATS_TEST_TMPDIR/f.txt" sub/f.txt
  assert_status 0
  cmp -s "$WD/sub/f.txt" "$BATS_TEST_TMPDIR/f.txt" || fail "sub/f.txt: $(ls -laR "$WD")"
  run --separate-stderr sl copy-to cp "$BATS_TEST_TMPDIR/tree" tree
  assert_status 0
  cmp -s "$WD/tree/deep/g.txt" "$BATS_TEST_TMPDIR/tree/deep/g.txt" || fail "tree: $(ls -laR "$WD")"
}

@test "workspace: copy-to refuses destinations outside the workdir (100)" {
  start_session cp-out "$SLEEP_JSON"
  printf 'x\n' >"$BATS_TEST_TMPDIR/f.txt"
  run --separate-stderr sl copy-to cp-out "$BATS_TEST_TMPDIR/f.txt" ../escaped.txt
  assert_status 100
  run --separate-stderr sl copy-to cp-out "$BATS_TEST_TMPDIR/f.txt" "$BATS_TEST_TMPDIR/abs.txt"
  assert_status 100
  [[ ! -e $BATS_TEST_TMPDIR/escaped.txt && ! -e $BATS_TEST_TMPDIR/abs.txt ]] || fail "copy-to wrote outside the workdir"
}

# refused NAME FILES_JSON — start with these workspace_files exits 100, and
# neither a session nor ok.txt appears.
refused() {
  local name=$1 files=$2
  run --separate-stderr sl start "$name" < <(jq -nc --arg wd "$WD" --argjson f "$files" '{work_dir: $wd, workspace_files: $f, command: "touch ran; sleep 300"}')
  [[ $status -eq 100 ]] || { fail "workspace_files $files: expected 100, got $status ($stderr)"; return 1; }
  [[ $stderr == "fracta-spawn-local: error: "* ]] || { fail "stderr: $stderr"; return 1; }
  [[ ! -e $WD/ok.txt ]] || { fail "workspace_files $files: ok.txt was written"; return 1; }
  [[ ! -e $WD/ran ]] || { fail "workspace_files $files: the command ran"; return 1; }
  not_running "$name" || { fail "workspace_files $files: a session is running"; return 1; }
}

@test "workspace: paths with '..' are refused (100) and nothing is written" {
  local bad
  for bad in "../escape.txt" "sub/../../escape.txt" ".." "sub/.." "a/../b.txt"; do
    refused dots "$(jq -nc --arg p "$bad" '{"ok.txt": "x", ($p): "y"}')"
    [[ ! -e $BATS_TEST_TMPDIR/escape.txt ]] || fail "'$bad' escaped the workdir"
  done
  [[ -z $(ls -A "$WD") ]] || fail "the workdir is not empty: $(ls -A "$WD")"
  # The refusals left no stale state: the name is still free.
  start_session dots "$SLEEP_JSON"
}

@test "workspace: a refused start writes nothing — not even copy_files or the overlay" {
  local out=$BATS_TEST_TMPDIR/outside
  mkdir -p "$out" "$BATS_TEST_TMPDIR/overlay"
  ln -s "$out" "$WD/link-dir"
  printf 'c\n' >"$BATS_TEST_TMPDIR/c.txt"
  printf 'o\n' >"$BATS_TEST_TMPDIR/overlay/overlaid.txt"
  run --separate-stderr sl start refused-all < <(jq -nc --arg wd "$WD" --arg c "$BATS_TEST_TMPDIR/c.txt" --arg o "$BATS_TEST_TMPDIR/overlay" '{
    work_dir: $wd, command: "sleep 300", overlay_dir: $o,
    copy_files: [{src: $c, rel_dst: "copied.txt"}],
    workspace_files: {"ok.txt": "x", "link-dir/evil.txt": "y"}}')
  assert_status 100
  [[ ! -e $out/evil.txt ]] || fail "written through the symlink"
  assert_equal "$(cd "$WD" && ls -A)" link-dir "the workdir after a refused start"
}

@test "workspace: a refused or failed start keeps the result of the session that ended before" {
  start_session kept "$(jq -nc --arg wd "$WD" '{work_dir: $wd, command: "echo first-run; exit 3"}')"
  wait_for 10 state_is kept exited || fail "status: $(status_json kept)"
  ln -s "$BATS_TEST_TMPDIR" "$WD/link-out"
  run --separate-stderr sl start kept < <(jq -nc --arg wd "$WD" '{work_dir: $wd, command: "sleep 300", workspace_files: {"link-out/x": "y"}}')
  assert_status 100
  run --separate-stderr sl start kept < <(jq -nc --arg wd "$WD" '{work_dir: $wd, command: "sleep 300", pre_start: ["exit 1"]}')
  assert_status 1
  run --separate-stderr sl wait kept 5
  assert_status 0
  assert_json '.state == "exited" and .exit_code == 3 and (.output_tail | contains("first-run"))'
}

@test "workspace: absolute paths are refused (100) and nothing is written" {
  refused abs "$(jq -nc --arg p "$BATS_TEST_TMPDIR/abs.txt" '{"ok.txt": "x", ($p): "y"}')"
  [[ ! -e $BATS_TEST_TMPDIR/abs.txt ]] || fail "the absolute path was written"
  refused abs '{"ok.txt": "x", "/etc/fracta-test-must-not-exist": "y"}'
  [[ ! -e /etc/fracta-test-must-not-exist ]] || { rm -f /etc/fracta-test-must-not-exist; fail "wrote /etc/fracta-test-must-not-exist"; }
  [[ -z $(ls -A "$WD") ]] || fail "the workdir is not empty: $(ls -A "$WD")"
}

@test "workspace: writing through a symlink that leaves the workdir is refused (100), nothing written" {
  local out=$BATS_TEST_TMPDIR/outside
  mkdir -p "$out"
  printf 'orig' >"$out/target.txt"
  ln -s "$out" "$WD/link-dir"
  ln -s "$out/target.txt" "$WD/link-file"
  ln -s "$out/new.txt" "$WD/link-dangling"
  ln -s ../outside "$WD/link-rel"

  refused sym-dir '{"ok.txt": "x", "link-dir/evil.txt": "y"}'
  refused sym-deep '{"ok.txt": "x", "link-dir/a/b/evil.txt": "y"}'
  refused sym-file '{"ok.txt": "x", "link-file": "y"}'
  refused sym-dangling '{"ok.txt": "x", "link-dangling": "y"}'
  refused sym-rel '{"ok.txt": "x", "link-rel/evil.txt": "y"}'

  [[ ! -e $out/evil.txt && ! -e $out/a && ! -e $out/new.txt ]] || fail "written outside: $(ls -AR "$out")"
  assert_equal "$(<"$out/target.txt")" orig "the symlink's target"
}

# ------------------------------------------------------------- last --

@test "suite: no supervisor or session process of this suite is left" {
  assert_no_session_leaks
}

@test "git: a dozen sessions started at once in one repository all get their worktrees" {
  local repo="$BATS_TEST_TMPDIR/repo" i
  make_repo "$repo"
  for i in $(seq 12); do
    (
      sl start "w$i" <<<"{\"command\":\"true\",\"git\":{\"repo\":\"$repo\"}}" >"$BATS_TEST_TMPDIR/w$i.out" 2>&1
      echo $? >"$BATS_TEST_TMPDIR/w$i.rc"
    ) &
  done
  wait
  for i in $(seq 12); do
    assert_equal "$(cat "$BATS_TEST_TMPDIR/w$i.rc")" 0 "start w$i: $(cat "$BATS_TEST_TMPDIR/w$i.out")"
  done
  assert_equal "$(git -C "$repo" worktree list | wc -l)" 13 "worktrees"
}
