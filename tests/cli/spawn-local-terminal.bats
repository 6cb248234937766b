#!/usr/bin/env bats
# fracta-spawn-local as a Gas City user meets it (issue 24): a start JSON
# without "mode" is a terminal session, no command is the user's shell,
# nudges are serialized and confirmed, state is found from anywhere in a
# project and kept per project, and a terminal attaches to a session.
#
#   gc-json: …   Gas City's start JSON (no mode): a pty, input delivered
#   nudge: …     clear, text, submit; confirmed by the program's reaction
#   state: …     the state root from nested directories; two projects
#   attach: …    driven in a tmux pane (send-keys / capture-pane)

load ../lib/common
load ../lib/session

setup() {
  session_setup
  # Where sessions would go if no project were found: inside the test.
  export XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/xdg-run"
  mkdir -p "$XDG_RUNTIME_DIR"
  TMUX_SOCKET=""
}

teardown() {
  [[ -z $TMUX_SOCKET ]] || tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null || true
  local root
  for root in "${EXTRA_ROOTS[@]}"; do
    FRACTA_STATE_DIR=$root session_teardown_root
  done
  session_teardown
}

EXTRA_ROOTS=()

# session_teardown_root — stop every session under $FRACTA_STATE_DIR (the
# suite's other state roots, one at a time).
session_teardown_root() {
  local d
  for d in "$FRACTA_STATE_DIR"/*/; do
    [[ -d $d ]] || continue
    "$SL" stop "$(basename "$d")" </dev/null >/dev/null 2>&1 || true
  done
}

# A program that reads lines from its terminal and answers each.
ECHO_LOOP='while IFS= read -r l; do echo "got:[$l]"; done'

gc_json() { # COMMAND [NUDGE] — a start JSON as Gas City writes it: no mode
  jq -nc --arg wd "$WD" --arg c "$1" --arg n "${2-}" \
    '{work_dir: $wd, command: $c, env: {GC_AGENT: "mayor"}} + (if $n == "" then {} else {nudge: $n} end)'
}

# ------------------------------------------------------------- gc-json --

@test "gc-json: no mode → the command's stdin is a terminal; startup nudge, nudge and send-keys Enter reach it" {
  start_session gcj "$(gc_json "if [ -t 0 ]; then echo tty:yes; else echo tty:no; fi; $ECHO_LOOP" first-nudge)"
  wait_for 10 peek_has gcj "tty:" || fail "no output: $(sl peek gcj 0)"
  peek_has gcj "tty:yes" || fail "stdin is not a terminal: $(sl peek gcj 0)"
  assert_equal "$(state_field gcj mode)" stream "mode recorded for a start without one"
  # start returns after the startup nudge was confirmed: it is already read.
  wait_for 10 peek_has gcj "got:[first-nudge]" || fail "startup nudge not read: $(sl peek gcj 0)"

  run --separate-stderr sl nudge gcj < <(printf 'second nudge')
  assert_status 0
  wait_for 10 peek_has gcj "got:[second nudge]" || fail "nudge not read: $(sl peek gcj 0)"

  run --separate-stderr sl send-keys gcj Enter
  assert_status 0
  wait_for 10 peek_has gcj "got:[]" || fail "send-keys Enter did not arrive: $(sl peek gcj 0)"
}

@test "gc-json: an explicit mode batch keeps pipes (stdin /dev/null), as fracta-cp asks" {
  start_session gcb "$(jq -nc --arg wd "$WD" '{mode: "batch", work_dir: $wd,
    command: "if [ -t 0 ]; then echo tty:yes; else echo tty:no; fi"}')"
  run --separate-stderr sl wait gcb 30
  assert_status 0
  assert_json '.output_tail | contains("tty:no")'
  # A nudge to a session without a terminal cannot be confirmed: refused.
  start_session gcb2 "$(jq -nc --arg wd "$WD" '{mode: "batch", work_dir: $wd, command: "sleep 300"}')"
  run --separate-stderr sl nudge gcb2 < <(printf 'hello')
  [[ $status -ne 0 ]] || fail "nudge to a batch session exited 0"
  [[ $stderr == *"no terminal"* ]] || fail "stderr: $stderr"
}

@test "gc-json: no command → \$SHELL in the pty, running right after start, reading nudges" {
  # a HOME of the test's own: the machine's ~/.bashrc (pyenv init, say) is
  # not what this test is about, and can keep an interactive bash busy
  SHELL=/bin/bash HOME=$BATS_TEST_TMPDIR run --separate-stderr sl start sh-bash < <(jq -nc --arg wd "$WD" '{work_dir: $wd}')
  assert_status 0
  run --separate-stderr sl is-running sh-bash
  assert_equal "$output" true "is-running right after start"
  run --separate-stderr sl process-alive sh-bash < <(printf 'bash')
  assert_equal "$output" true "bash runs in the session"
  run --separate-stderr sl nudge sh-bash < <(printf 'echo "shell=[$0] tty=[$(tty)]"')
  assert_status 0
  wait_for 10 peek_has sh-bash "shell=[/bin/bash] tty=[/dev/pts/" || fail "peek: $(sl peek sh-bash 0)"
}

@test "gc-json: no command and no \$SHELL → /bin/sh" {
  run --separate-stderr env -u SHELL "$SL" start sh-plain < <(jq -nc --arg wd "$WD" '{work_dir: $wd}')
  assert_status 0
  run --separate-stderr sl is-running sh-plain
  assert_equal "$output" true "is-running right after start"
  run --separate-stderr sl nudge sh-plain < <(printf 'echo "shell=[$0]"')
  assert_status 0
  wait_for 10 peek_has sh-plain "shell=[/bin/sh]" || fail "peek: $(sl peek sh-plain 0)"
}

# --------------------------------------------------------------- nudge --

@test "nudge: the input line is cleared before the text" {
  start_session clr "$(gc_json "$ECHO_LOOP")"
  # Half a line typed (by a person, a stray key): the nudge must not append to it.
  run --separate-stderr sl send-keys clr "stray text "
  assert_status 0
  run --separate-stderr sl nudge clr < <(printf 'clean')
  assert_status 0
  wait_for 10 peek_has clr "got:[" || fail "peek: $(sl peek clr 0)"
  peek_has clr "got:[clean]" || fail "the line was not cleared first: $(sl peek clr 0)"
}

# The bytes a program in raw mode receives, one line of hex per read; it
# says "raw-ready" once in raw mode (typed before that, C-u would be the
# line discipline's kill character, never read).
RAW_READER='stty raw -echo; exec perl -e '\''$|=1; print "raw-ready\r\n"; while (sysread(STDIN, $b, 4096)) { print "read:", unpack("H*", $b), "\r\n" }'\'''

# raw_ready NAME — the RAW_READER of session NAME is in raw mode.
raw_ready() { "$SL" peek "$1" 0 </dev/null | grep -q '^raw-ready'; }

@test "nudge: clear, text, then the runtime's submit sequence from the start request (Esc Enter)" {
  start_session raw-default "$(gc_json "$RAW_READER")"
  wait_for 10 raw_ready raw-default
  run --separate-stderr sl nudge raw-default < <(printf 'hi')
  assert_status 0
  # C-u, "hi", then Enter (CR) — possibly over several reads.
  wait_for 10 peek_joined_has raw-default "1568690d" || fail "peek: $(sl peek raw-default 0)"

  start_session raw-codex "$(jq -nc --arg wd "$WD" --arg c "$RAW_READER" \
    '{work_dir: $wd, command: $c, submit_keys: ["Escape", "Enter"], clear_keys: ["C-a", "C-k"]}')"
  wait_for 10 raw_ready raw-codex
  run --separate-stderr sl nudge raw-codex < <(printf 'hi')
  assert_status 0
  wait_for 10 peek_joined_has raw-codex "010b68691b0d" || fail "peek: $(sl peek raw-codex 0)"
}

@test "nudge: a Gas City start takes the submit sequence of its runtime from the nearest fracta.yaml" {
  local C=$BATS_TEST_TMPDIR/city
  mkdir -p "$C/rig"
  printf '#!/bin/sh\n%s\n' "$RAW_READER" >"$C/fake-codex"
  chmod +x "$C/fake-codex"
  printf 'agents:\n  agent_runtimes:\n    codex: {program: %s/fake-codex, submit_keys: [Escape, Enter]}\n' "$C" >"$C/fracta.yaml"
  # gc's start: its command names the program, work_dir is inside the city.
  start_session cfg-codex "$(jq -nc --arg wd "$C/rig" --arg c "$C/fake-codex --yolo" '{work_dir: $wd, command: $c}')"
  wait_for 10 raw_ready cfg-codex
  run --separate-stderr sl nudge cfg-codex < <(printf 'hi')
  assert_status 0
  wait_for 10 peek_joined_has cfg-codex "1568691b0d" || fail "peek: $(sl peek cfg-codex 0)"
}

# peek_joined_has NAME HEX — the hex of every read: line, concatenated, holds HEX.
peek_joined_has() {
  local out
  out=$("$SL" peek "$1" 0 </dev/null) || return 1
  [[ $(sed -n 's/^read://p' <<<"$out" | tr -d '\n') == *"$2"* ]]
}

@test "nudge: a program that never reads makes nudge fail within its timeout; --no-wait does not wait" {
  start_session deaf "$(gc_json 'sleep 300')"
  run --separate-stderr sl nudge deaf --timeout 2 < <(printf 'anyone?')
  assert_status 111
  [[ $stderr == *"nudge deaf: no reaction within 2s: the program did not read the nudge"* ]] || fail "stderr: $stderr"
  assert_equal "$output" "" "stdout"
  run --separate-stderr sl nudge deaf --no-wait < <(printf 'anyone?')
  assert_status 0
}

@test "nudge: a session whose command ends before reading the nudge is not running: exit 0, before the timeout" {
  start_session ending "$(gc_json 'sleep 2')"
  run --separate-stderr sl nudge ending --timeout 60 < <(printf 'too late')
  assert_status 0
  assert_equal "$stderr" "" "stderr"
  wait_for 10 state_is ending exited || fail "the session still runs: $(sl status ending)"
}

@test "nudge: a program that reads but shows nothing is not a reaction" {
  start_session mute "$(gc_json 'stty -echo; while read -r l; do :; done')"
  wait_for 10 state_is mute running
  run --separate-stderr sl nudge mute --timeout 2 < <(printf 'hello')
  assert_status 111
  [[ $stderr == *"read the nudge but showed nothing"* ]] || fail "stderr: $stderr"
}

@test "nudge: bad options exit 100; an absent session is not an error" {
  start_session opts "$(gc_json "$ECHO_LOOP")"
  run --separate-stderr sl nudge opts --timeout 0 < <(printf 'x')
  assert_status 100
  run --separate-stderr sl nudge opts --bogus < <(printf 'x')
  assert_status 100
  run --separate-stderr sl nudge nobody-here < <(printf 'x')
  assert_status 0
}

@test "nudge: 20 concurrent nudges to one session each arrive once, whole, never interleaved" {
  local log=$BATS_TEST_TMPDIR/lines
  start_session many "$(gc_json "while IFS= read -r l; do printf '%s\n' \"\$l\" >>'$log'; echo \"ok:\${#l}\"; done")"
  local i pids=() texts=()
  for i in $(seq 1 20); do
    # Long enough that an interleaving would show: 300 characters each.
    texts+=("nudge-$i-$(printf "%0300d" "$i" | tr 0 "$((i % 10))")")
  done
  for i in "${!texts[@]}"; do
    ("$SL" nudge many --timeout 60 <<<"${texts[$i]}" >"$BATS_TEST_TMPDIR/n$i.out" 2>&1
     echo $? >"$BATS_TEST_TMPDIR/n$i.rc") &
    pids+=($!)
  done
  wait "${pids[@]}"
  for i in "${!texts[@]}"; do
    assert_equal "$(cat "$BATS_TEST_TMPDIR/n$i.rc")" 0 "nudge $i ($(cat "$BATS_TEST_TMPDIR/n$i.out"))"
  done
  wait_for 20 has_lines "$log" 20 || fail "lines: $(line_count "$log")"
  assert_equal "$(line_count "$log")" 20 "lines received"
  for i in "${!texts[@]}"; do
    assert_equal "$(grep -cxF -- "${texts[$i]}" "$log")" 1 "copies of nudge $i"
  done
}

@test "nudge: nudge.delivered and nudge.failed events" {
  use_store sqlite
  start_session ev "$(gc_json "$ECHO_LOOP")"
  run --separate-stderr sl nudge ev < <(printf 'hello')
  assert_status 0
  start_session ev-deaf "$(gc_json 'sleep 300')"
  run --separate-stderr sl nudge ev-deaf --timeout 1 < <(printf 'hello')
  assert_status 111
  run --separate-stderr "$FRACTA_BIN/fracta-events" list <<<'{"type":"nudge.delivered"}'
  assert_status 0
  assert_json 'length == 1 and .[0].subject == "ev" and .[0].actor == "fracta-spawn-local" and .[0].payload.session == "ev"'
  # The text stays out of the log; its digest and the typing order are in.
  assert_json ".[0].payload.text_sha256 == \"$(printf hello | sha256sum | cut -c1-16)\" and .[0].payload.ordinal == 1"
  [[ $output != *'"hello"'* ]] || fail "the nudge's text is in the event: $output"
  run --separate-stderr "$FRACTA_BIN/fracta-events" list <<<'{"type":"nudge.failed"}'
  assert_status 0
  assert_json 'length == 1 and .[0].subject == "ev-deaf" and (.[0].message | contains("did not read"))'
}

# --------------------------------------------------------------- state --

@test "state: from a nested directory of a project, start/status/list see the project's sessions" {
  unset FRACTA_STATE_DIR
  local P=$BATS_TEST_TMPDIR/project
  mkdir -p "$P/.fracta" "$P/rig/a/b"
  EXTRA_ROOTS+=("$P/.fracta/sessions")
  (cd "$P/rig/a/b" && "$SL" start nested <<<"$(gc_json "$ECHO_LOOP")") || fail "start from a nested directory"
  [[ -d $P/.fracta/sessions/nested ]] || fail "state not in the project: $(find "$BATS_TEST_TMPDIR" -name nested -type d)"
  [[ ! -e $XDG_RUNTIME_DIR/fracta/sessions/nested ]] || fail "state went to the fallback root"
  run --separate-stderr bash -c "cd '$P' && '$SL' status nested"
  assert_json '.state == "running"'
  run --separate-stderr bash -c "cd '$P/rig/a' && '$SL' list ''"
  assert_json 'map(.name) == ["nested"]'
  run --separate-stderr bash -c "cd '$P/rig' && '$SL' is-running nested"
  assert_equal "$output" true
}

@test "state: two projects with the same session name never see each other's; a Gas City city is a project" {
  unset FRACTA_STATE_DIR
  local A=$BATS_TEST_TMPDIR/city-a B=$BATS_TEST_TMPDIR/proj-b
  mkdir -p "$A/rigs/x" "$B/.fracta" "$B/sub"
  : >"$A/city.toml"
  EXTRA_ROOTS+=("$A/.gc/fracta/sessions" "$B/.fracta/sessions")
  (cd "$A/rigs/x" && "$SL" start mayor <<<"$(gc_json 'echo city-a; sleep 300')") || fail "start in city a"
  (cd "$B/sub" && "$SL" start mayor <<<"$(gc_json 'echo proj-b; sleep 300')") || fail "start in project b"
  [[ -d $A/.gc/fracta/sessions/mayor && -d $B/.fracta/sessions/mayor ]] || fail "state roots: $(find "$BATS_TEST_TMPDIR" -name mayor -type d)"
  (cd "$A" && wait_for 10 peek_has mayor city-a) || fail "city a sees: $(cd "$A" && "$SL" peek mayor 0)"
  (cd "$B" && wait_for 10 peek_has mayor proj-b) || fail "project b sees: $(cd "$B" && "$SL" peek mayor 0)"
  run bash -c "cd '$A' && '$SL' stop mayor"
  assert_status 0
  run bash -c "cd '$A' && '$SL' is-running mayor"
  assert_equal "$output" false "city a after its stop"
  run bash -c "cd '$B' && '$SL' is-running mayor"
  assert_equal "$output" true "project b after city a's stop"
}

# -------------------------------------------------------------- attach --

# tmux on a server of its own; `tmx` is tmux against it.
tmx() { tmux -L "$TMUX_SOCKET" "$@"; }
pane_has() { [[ $(tmx capture-pane -p -t att -S -100) == *"$1"* ]]; }

# attach_in_tmux NAME [COLS ROWS] — a pane running `attach NAME`, then
# printing "attach-exit:<status>" (the pane stays for capture-pane).
attach_in_tmux() {
  require_cmd tmux || return 1
  TMUX_SOCKET="fracta-test-$$-$BATS_TEST_NUMBER"
  tmx -f /dev/null new-session -d -s att -x "${2:-100}" -y "${3:-30}" \
    "FRACTA_STATE_DIR='$FRACTA_STATE_DIR' '$SL' attach $1; echo attach-exit:\$?; exec sleep 300" || return 1
}

ATTACH_PROGRAM='while IFS= read -r l; do case $l in size) echo "size:[$(stty size)]";; quit) echo bye; exit 7;; *) echo "got:[$l]";; esac; done'

@test "attach: typed text reaches the program, its output shows, the detach key returns, the session runs on" {
  start_session att-a "$(gc_json "echo ready-for-attach; $ATTACH_PROGRAM")"
  wait_for 10 peek_has att-a ready-for-attach
  attach_in_tmux att-a
  # The recent output is shown on attach.
  wait_for 10 pane_has "ready-for-attach" || fail "pane: $(tmx capture-pane -p -t att)"
  tmx send-keys -t att "typed-in-tmux" Enter
  wait_for 10 pane_has "got:[typed-in-tmux]" || fail "pane: $(tmx capture-pane -p -t att)"
  peek_has att-a "got:[typed-in-tmux]" || fail "the session's own log: $(sl peek att-a 0)"
  # Output the program writes for another reason shows too.
  run --separate-stderr sl nudge att-a < <(printf 'from-a-nudge')
  assert_status 0
  wait_for 10 pane_has "got:[from-a-nudge]" || fail "pane: $(tmx capture-pane -p -t att)"

  tmx send-keys -t att 'C-\'
  wait_for 10 pane_has "attach-exit:0" || fail "detach: $(tmx capture-pane -p -t att)"
  pane_has "[detached from att-a]" || fail "pane: $(tmx capture-pane -p -t att)"
  run --separate-stderr sl is-running att-a
  assert_equal "$output" true "is-running after detach"
}

@test "attach: the window size is forwarded, and changes follow" {
  start_session att-w "$(gc_json "$ATTACH_PROGRAM")"
  wait_for 10 state_is att-w running
  attach_in_tmux att-w 91 27
  tmx send-keys -t att "size" Enter
  wait_for 10 pane_has "size:[27 91]" || fail "pane: $(tmx capture-pane -p -t att); log: $(sl peek att-w 0)"
  tmx resize-window -t att -x 75 -y 22
  tmx send-keys -t att "size" Enter
  wait_for 10 pane_has "size:[22 75]" || fail "pane: $(tmx capture-pane -p -t att); log: $(sl peek att-w 0)"
}

@test "attach: when the session ends, attach exits with its status; the front door attaches too" {
  start_session att-x "$(gc_json "$ATTACH_PROGRAM")"
  wait_for 10 state_is att-x running
  require_cmd tmux
  TMUX_SOCKET="fracta-test-$$-$BATS_TEST_NUMBER"
  # `fracta attach TASK`: the front door hands over to fracta-spawn-local.
  tmx -f /dev/null new-session -d -s att -x 100 -y 30 \
    "FRACTA_STATE_DIR='$FRACTA_STATE_DIR' '$FRACTA_BIN/fracta' attach att-x; echo attach-exit:\$?; exec sleep 300"
  tmx send-keys -t att "hello" Enter
  wait_for 10 pane_has "got:[hello]" || fail "pane: $(tmx capture-pane -p -t att)"
  tmx send-keys -t att "quit" Enter
  wait_for 10 pane_has "attach-exit:7" || fail "pane: $(tmx capture-pane -p -t att)"
  pane_has "bye" || fail "pane: $(tmx capture-pane -p -t att)"
}

@test "attach: an absent session, a batch session and a bad detach key are errors" {
  run --separate-stderr sl attach nobody-here </dev/null
  assert_status 1
  [[ $stderr == *'no session "nobody-here"'* ]] || fail "stderr: $stderr"
  start_session att-b "$(jq -nc --arg wd "$WD" '{mode: "batch", work_dir: $wd, command: "sleep 300"}')"
  run --separate-stderr sl attach att-b </dev/null
  assert_status 100
  [[ $stderr == *"no terminal"* ]] || fail "stderr: $stderr"
  start_session att-k "$(gc_json 'sleep 300')"
  run --separate-stderr sl attach att-k --detach-key x </dev/null
  assert_status 100
}

@test "suite: no supervisor or session process of this suite is left" {
  assert_no_session_leaks
}
