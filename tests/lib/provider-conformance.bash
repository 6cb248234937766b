# provider-conformance.bash — the session contract (spec/exec-provider.md,
# "Session contract"), checked the same way against every session provider:
# fracta-spawn-local, fracta-spawn-k8s (on the API double) and a Gas
# City–style exec script (tests/fixtures/providers/minimal). A port of Gas
# City's runtimetest suite (RunLifecycleTests + RunSessionTests) with its
# Config {Command: "sleep 300", WorkDir: tmp} (reference/gascity.md §5.1).
#
# Load after common and session (and the provider's own helpers). The suite
# defines:
#   conf_provider OP ARG…   run the provider (stdin is the caller's)
#   CONF_SLEEP_JSON         a start JSON whose session stays up (sleep 300)
#   CONF_READER_JSON        one whose program reads its input and answers it
#                           (for nudge, which waits for the reaction)
#   conf_saying NAME TEXT   (optional) start session NAME whose output is the
#                           line TEXT, returning once peek could see it; by
#                           default CONF_SLEEP_JSON's session running
#                           `echo TEXT; exec sleep 300`
#   conf_live NAME          (optional) make the started session NAME take
#                           input (fracta-spawn-k8s: a real supervisor behind
#                           the pod proxy); by default nothing to do
#   CONF_OPS                what the provider does, of: status process-alive
#                           process-names (process-alive looks at the names)
#                           meta input (nudge, send-keys, interrupt)
#                           activity clear scrollback (peek is empty after
#                           clear-scrollback) copy-to
#   CONF_UNSUPPORTED        the ops it does not do (same words): each must
#                           exit 2 with no output, which callers read as
#                           "not supported"
# Every optional op is in one of the two lists (a check fails otherwise).
# A test calls one conf_check_* function:
#   @test "conformance: …" { conf_check_start; }
#
# shellcheck disable=SC2154  # status, output, stderr: set by bats' run --separate-stderr

# The ops every provider has (Gas City's exec contract cannot do without).
CONF_CORE_OPS="start stop is-running peek list-running"

conf_has() { [[ " $CONF_CORE_OPS ${CONF_OPS:-} " == *" $1 "* ]]; }

# conf_run OP ARG… — run the provider under bats' run, stdin from the caller
conf_run() { run --separate-stderr conf_provider "$@"; }

# conf_done WORD — the last run did an op of capability WORD: exit 0, or,
# for one the provider does not do, exit 2 with nothing on stdout.
conf_done() {
  if conf_has "$1"; then
    [[ $status -eq 0 ]] || fail "$1: expected exit 0, got $status (stdout '$output', stderr '$stderr')"
  elif [[ " ${CONF_UNSUPPORTED:-} " == *" $1 "* ]]; then
    [[ $status -eq 2 && -z $output ]] || fail "$1 (not supported): expected exit 2 and no output, got $status '$output'"
  else
    fail "the suite declares '$1' neither in CONF_OPS nor in CONF_UNSUPPORTED"
  fi
}

conf_live() { :; }

conf_saying() {
  conf_start "$1" "$(jq -c --arg t "$2" '.command = "echo \($t); exec sleep 300"' <<<"$CONF_SLEEP_JSON")"
  wait_for 10 conf_says "$1" "$2"
}

conf_start() {
  conf_run start "$1" <<<"${2:-$CONF_SLEEP_JSON}"
  [[ $status -eq 0 ]] || fail "start $1: exit $status: $stderr"
}

conf_is_running() {  # NAME EXPECTED
  conf_run is-running "$1"
  [[ $status -eq 0 && $output == "$2" ]] || fail "is-running $1: expected '$2', got exit $status '$output' ($stderr)"
}

# conf_says NAME TEXT — the session's whole output (peek 0) contains TEXT
conf_says() { [[ $(conf_provider peek "$1" 0 </dev/null) == *"$2"* ]]; }

conf_listed() {  # PREFIX EXPECTED (sorted, space-separated)
  conf_run list-running "$1"
  [[ $status -eq 0 ]] || fail "list-running '$1': exit $status: $stderr"
  assert_equal "$(sort <<<"$output" | tr '\n' ' ' | sed 's/ $//')" "$2" "list-running '$1'"
}

# ------------------------------------------------------------------ checks --

# start → is-running true right after (no polling); a duplicate start exits
# 1 with "already exists" and leaves the first session running.
conf_check_start() {
  conf_start conf-start
  conf_is_running conf-start true
  conf_run start conf-start <<<"$CONF_SLEEP_JSON"
  [[ $status -eq 1 ]] || fail "duplicate start: expected exit 1, got $status"
  [[ ${stderr,,} == *"already exists"* ]] || fail "duplicate start: stderr lacks 'already exists': $stderr"
  assert_equal "$output" "" "stdout of a failed start"
  conf_is_running conf-start true
}

# stop → is-running false; stop again, and of a name never started: exit 0.
conf_check_stop() {
  conf_start conf-stop
  conf_run stop conf-stop
  [[ $status -eq 0 ]] || fail "stop: exit $status: $stderr"
  conf_is_running conf-stop false
  conf_run stop conf-stop
  [[ $status -eq 0 ]] || fail "second stop: exit $status: $stderr"
  conf_run stop conf-never-started
  [[ $status -eq 0 ]] || fail "stop of a session never started: exit $status: $stderr"
}

# is-running of a session that never existed: false; its status (if the
# provider has the op): absent.
conf_check_unknown() {
  conf_is_running conf-unknown false
  conf_run status conf-unknown
  conf_done status
  if conf_has status; then assert_json '.name == "conf-unknown" and .state == "absent"'; fi
}

# list-running: raw names, filtered by prefix, stopped sessions dropped.
conf_check_list_running() {
  conf_start conf-list-a
  conf_start other-list-b
  conf_listed "" "conf-list-a other-list-b"
  conf_listed conf-list-a conf-list-a  # the full name as a prefix (what the Go suite does)
  conf_listed conf- conf-list-a
  conf_run stop conf-list-a
  [[ $status -eq 0 ]] || fail "stop: exit $status: $stderr"
  conf_listed "" other-list-b
  conf_listed conf- ""
}

# peek shows the session's output, the last N lines or all of it;
# get-last-activity is empty or RFC 3339; clear-scrollback empties what peek
# shows (where the provider keeps the scrollback itself).
conf_check_peek() {
  conf_saying conf-peek said-something
  conf_run peek conf-peek 10
  [[ $status -eq 0 ]] || fail "peek: exit $status: $stderr"
  assert_equal "$output" said-something "peek 10"
  conf_run peek conf-peek 0
  assert_equal "$output" said-something "peek 0"
  conf_live conf-peek
  conf_run get-last-activity conf-peek
  conf_done activity
  [[ -z $output ]] || is_rfc3339 "$output" || fail "get-last-activity is neither empty nor RFC 3339: '$output'"
  conf_run clear-scrollback conf-peek
  conf_done clear
  if conf_has scrollback; then
    conf_run peek conf-peek 10
    assert_equal "$output" "" "peek after clear-scrollback"
  fi
}

# process-alive: true for a process named on stdin (one per line, the last
# without a newline) inside the session; false for other names (when the
# provider looks at them), and after stop.
conf_check_process_alive() {
  conf_start conf-alive
  conf_live conf-alive
  conf_run process-alive conf-alive < <(printf 'not-there\nsleep')
  conf_done process-alive
  conf_has process-alive || return 0
  assert_equal "$output" true "process-alive sleep"
  if conf_has process-names; then
    conf_run process-alive conf-alive < <(printf 'some-process')
    assert_equal "$output" false "process-alive some-process"
    # A process of this test, but outside the session, does not count.
    conf_run process-alive conf-alive < <(printf 'bats\nbash')
    assert_equal "$output" false "process-alive on processes outside the session"
  fi
  conf_run stop conf-alive
  [[ $status -eq 0 ]] || fail "stop: exit $status: $stderr"
  conf_run process-alive conf-alive < <(printf 'sleep')
  [[ $status -eq 0 ]] || fail "process-alive after stop: exit $status"
  assert_equal "$output" false "process-alive sleep after stop"
}

# meta: round trip, unset is empty, overwrite, two keys, remove (idempotent).
conf_check_meta() {
  conf_start conf-meta
  conf_live conf-meta
  conf_run set-meta conf-meta GC_DRAIN < <(printf 'v1')
  conf_done meta
  conf_has meta || return 0
  conf_run get-meta conf-meta GC_DRAIN
  assert_equal "$output" v1 "round-trip"
  conf_run get-meta conf-meta GC_UNSET_KEY
  [[ $status -eq 0 && -z $output ]] || fail "unset key: exit $status '$output'"
  conf_run set-meta conf-meta GC_DRAIN < <(printf 'v2 with spaces')
  [[ $status -eq 0 ]] || fail "set-meta (overwrite): exit $status: $stderr"
  conf_run set-meta conf-meta GC_SESSION_ID < <(printf 'id-42')
  [[ $status -eq 0 ]] || fail "set-meta (a second key): exit $status: $stderr"
  conf_run get-meta conf-meta GC_DRAIN
  assert_equal "$output" "v2 with spaces" "overwrite"
  conf_run remove-meta conf-meta GC_DRAIN
  [[ $status -eq 0 ]] || fail "remove-meta: exit $status: $stderr"
  conf_run get-meta conf-meta GC_DRAIN
  assert_equal "$output" "" "after remove"
  conf_run get-meta conf-meta GC_SESSION_ID
  assert_equal "$output" id-42 "the other key survives remove"
  conf_run remove-meta conf-meta GC_DRAIN
  [[ $status -eq 0 ]] || fail "second remove-meta: exit $status: $stderr"
}

# send-keys, nudge and interrupt reach a live session and are no error on a
# missing one; nothing on stdout. get-last-activity of a missing session is
# empty.
conf_check_input() {
  local name op
  conf_start conf-keys "$CONF_READER_JSON"
  conf_live conf-keys
  for name in conf-keys conf-missing; do
    for op in "send-keys $name Enter" "nudge $name" "interrupt $name"; do
      # shellcheck disable=SC2086  # op is words
      conf_run $op < <(printf 'hello')
      conf_done input
      assert_equal "$output" "" "stdout of $op"
    done
  done
  conf_run get-last-activity conf-missing
  conf_done activity
  assert_equal "$output" "" "get-last-activity of a missing session"
}

# copy-to of a source that does not exist succeeds and copies nothing.
conf_check_copy_missing() {
  conf_start conf-copy
  conf_run copy-to conf-copy "/nonexistent-$RANDOM/file" dst.txt
  conf_done copy-to
}

# Names outside the contract's alphabet exit 100; unknown ops exit 2 with no
# output (callers read that as "not supported").
conf_check_bad_input() {
  local n
  for n in 'a b' 'a/b' 'x.y' 'café'; do
    conf_run start "$n" <<<"$CONF_SLEEP_JSON"
    [[ $status -eq 100 ]] || fail "start '$n': expected 100, got $status ($stderr)"
    assert_equal "$output" "" "stdout of start '$n'"
  done
  conf_run some-future-op some-name </dev/null
  [[ $status -eq 2 && -z $output ]] || fail "unknown op: expected exit 2 and no output, got $status '$output'"
  conf_run check-image busybox </dev/null
  [[ $status -eq 2 && -z $output ]] || fail "check-image: expected exit 2 and no output, got $status '$output'"
}

# Three names at once: start, is-running, list-running, stop, all concurrent.
conf_check_concurrent() {
  local names=(conc-1 conc-2 conc-3) i
  conf_par start "$CONF_SLEEP_JSON" "${names[@]}"
  conf_par is-running "" "${names[@]}"
  for i in 0 1 2; do assert_equal "$(cat "$CONF_PAR/$i.out")" true "is-running ${names[$i]}"; done
  conf_listed "" "conc-1 conc-2 conc-3"
  conf_par stop "" "${names[@]}"
  conf_par is-running "" "${names[@]}"
  for i in 0 1 2; do assert_equal "$(cat "$CONF_PAR/$i.out")" false "is-running ${names[$i]} after stop"; done
}

# conf_par OP INPUT NAME… — OP on every NAME at once; each must exit 0.
# Outputs in $CONF_PAR/<i>.out.
conf_par() {
  local op=$1 input=$2 n i=0 rc pids=()
  shift 2
  CONF_PAR="$BATS_TEST_TMPDIR/conf-par-$op"
  rm -rf "$CONF_PAR"
  mkdir -p "$CONF_PAR"
  for n in "$@"; do
    (
      rc=0
      conf_provider "$op" "$n" <<<"$input" >"$CONF_PAR/$i.out" 2>"$CONF_PAR/$i.err" || rc=$?
      echo "$rc" >"$CONF_PAR/$i.rc"
    ) &
    pids+=($!)
    i=$((i + 1))
  done
  wait "${pids[@]}"  # only these: the suite may have servers in the background
  for ((i = 0; i < $#; i++)); do
    rc=$(cat "$CONF_PAR/$i.rc")
    [[ $rc == 0 ]] || fail "$op #$i: exit $rc: $(cat "$CONF_PAR/$i.err")" || return 1
  done
}
