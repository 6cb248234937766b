# session.bash — helpers for the session-provider suites (fracta-spawn-local).
#
#   load ../lib/common
#   load ../lib/session
#   setup()    { session_setup; }
#   teardown() { session_teardown; }
#
# Every test gets (on top of common_setup):
#   - FRACTA_STATE_DIR=$BATS_TEST_TMPDIR/state, so sessions of different tests
#     never meet;
#   - WD, an empty working directory, and SLEEP_JSON, Gas City's conformance
#     config {"command":"sleep 300","work_dir":$WD};
#   - git isolated from the machine's configuration (GIT_CONFIG_GLOBAL,
#     GIT_CONFIG_NOSYSTEM);
#   - a teardown that stops every session under $FRACTA_STATE_DIR, then
#     checks that neither its supervisor nor any process of its session is
#     left. Anything left is killed (by pid, only processes of this test's
#     sessions) and written to $BATS_RUN_TMPDIR/session-leaks, which
#     `assert_no_session_leaks` (the suite's last test) reports.

# The binary under test. `run sl …` keeps its exit status; stdin is the run's.
sl() { "$SL" "$@"; }

session_setup() {
  common_setup || return 1
  require_cmd git perl jq || return 1
  SL="$FRACTA_BIN/fracta-spawn-local"
  [[ -x $SL ]] || { fail "$SL is not built (cmake --build build)"; return 1; }
  export FRACTA_STATE_DIR="$BATS_TEST_TMPDIR/state"
  export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
  WD="$BATS_TEST_TMPDIR/wd"
  mkdir -p "$WD"
  SLEEP_JSON=$(jq -nc --arg wd "$WD" '{command: "sleep 300", work_dir: $wd}')
}

session_teardown() {
  local d name sid sup
  for d in "$FRACTA_STATE_DIR"/*/; do
    [[ -d $d ]] || continue
    name=$(basename "$d")
    "$SL" stop "$name" </dev/null >/dev/null 2>&1 || true
    sid=$(jq -r '.pgid // 0' "$d/state.json" 2>/dev/null) || sid=0
    sup=$(jq -r '.supervisor_pid // 0' "$d/state.json" 2>/dev/null) || sup=0
    if [[ $sid =~ ^[0-9]+$ ]] && ((sid > 1)); then
      if ! wait_for_quiet 5 sid_empty "$sid"; then
        echo "$BATS_TEST_NAME: session '$name' left processes after stop: $(sid_pids "$sid" | tr '\n' ' ')" \
          >>"$BATS_RUN_TMPDIR/session-leaks"
        kill_sid "$sid"
      fi
    fi
    if [[ $sup =~ ^[0-9]+$ ]] && ((sup > 1)) && is_supervisor "$sup" "$name"; then
      if ! wait_for_quiet 5 not_supervisor "$sup" "$name"; then
        echo "$BATS_TEST_NAME: the supervisor of '$name' (pid $sup) outlived stop" >>"$BATS_RUN_TMPDIR/session-leaks"
        kill -KILL "$sup" 2>/dev/null || true
      fi
    fi
  done
  common_teardown
}

# wait_for_quiet SECONDS CMD… — wait_for without the failure message.
wait_for_quiet() {
  wait_for "$@" 2>/dev/null
}

# wait_until SECONDS 'bash condition' — poll the condition every 50 ms.
wait_until() {
  local limit=$1
  shift
  wait_for "$limit" eval "$*"
}

# ------------------------------------------------------------ processes --

# sid_pids SID — live (non-zombie) processes whose session id is SID, one per
# line. Reads /proc/PID/stat after the last ')' (comm may hold spaces):
# state ppid pgrp session …
sid_pids() {
  local sid=$1 f line rest
  local -a fields
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    rest=${line##*) }
    # shellcheck disable=SC2206
    fields=($rest)
    if [[ ${fields[3]} == "$sid" && ${fields[0]} != Z ]]; then
      f=${f#/proc/}
      echo "${f%/stat}"
    fi
  done
}

sid_count() {
  local n
  n=$(sid_pids "$1" | wc -l)
  echo $((n))
}

sid_empty() { [[ -z $(sid_pids "$1") ]]; }

# kill_sid SID — SIGKILL every process of a session this test started.
kill_sid() {
  local p
  for p in $(sid_pids "$1"); do kill -KILL "$p" 2>/dev/null || true; done
}

pid_alive() {
  [[ -e /proc/$1 ]] || return 1
  local state
  state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

cmdline_of() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"; }

# is_supervisor PID NAME — PID is alive and is `fracta-spawn-local supervise NAME …`.
is_supervisor() {
  pid_alive "$1" || return 1
  local cmd
  cmd=$(cmdline_of "$1") || return 1
  [[ $cmd == *fracta-spawn-local* && $cmd == *supervise* && $cmd == *"$2"* ]]
}
not_supervisor() { ! is_supervisor "$@"; }

# suite_leftovers — processes this bats run started through fracta-spawn-local
# that are still alive: supervisors mentioning the run's temp dir, and
# processes outside our own session whose FRACTA_STATE_DIR or working
# directory lies in it. Prints "PID CMDLINE" lines.
suite_leftovers() {
  local mysid dir p stat rest cmd env cwd
  local -a fields argv envv
  stat=$(<"/proc/$BASHPID/stat")
  rest=${stat##*) }
  # shellcheck disable=SC2206
  fields=($rest)
  mysid=${fields[3]}
  for dir in /proc/[0-9]*; do
    p=${dir#/proc/}
    [[ $p == "$$" || $p == "$BASHPID" ]] && continue
    { read -r stat <"$dir/stat"; } 2>/dev/null || continue
    rest=${stat##*) }
    # shellcheck disable=SC2206
    fields=($rest)
    [[ ${fields[0]} == Z ]] && continue
    { mapfile -d '' argv <"$dir/cmdline"; } 2>/dev/null || continue
    ((${#argv[@]})) || continue # kernel threads
    cmd=${argv[*]}
    { mapfile -d '' envv <"$dir/environ"; } 2>/dev/null || envv=()
    env=$'\n'$(printf '%s\n' "${envv[@]}")
    cwd=""
    if [[ ${fields[3]} != "$mysid" || $cmd == *supervise* ]]; then
      cwd=$(readlink "$dir/cwd" 2>/dev/null) || cwd=""
    fi
    if [[ $cmd == *fracta-spawn-local*supervise* ]] &&
      [[ $cmd == *"$BATS_RUN_TMPDIR"* || $env == *$'\n'"FRACTA_STATE_DIR=$BATS_RUN_TMPDIR"* || $cwd == "$BATS_RUN_TMPDIR"* ]]; then
      echo "$p $cmd"
    elif [[ ${fields[3]} != "$mysid" ]] &&
      [[ $env == *$'\n'"FRACTA_STATE_DIR=$BATS_RUN_TMPDIR"* || $cwd == "$BATS_RUN_TMPDIR"* ]]; then
      echo "$p $cmd"
    fi
  done
}

# ------------------------------------------------------------- sessions --

# start_session NAME JSON — start, asserting exit 0 and an empty stdout.
start_session() {
  run --separate-stderr sl start "$1" <<<"$2"
  assert_status 0 || return 1
  [[ -z $output ]] || { fail "start $1 printed to stdout: $output"; return 1; }
}

# is_running NAME — the provider says `true`.
is_running() {
  local out
  out=$("$SL" is-running "$1" </dev/null) || return 1
  [[ $out == true ]]
}
not_running() {
  local out
  out=$("$SL" is-running "$1" </dev/null) || return 1
  [[ $out == false ]]
}

# status_json NAME — `status NAME` (asserting exit 0).
status_json() {
  "$SL" status "$1" </dev/null
}

state_is() { [[ $(session_state "$1") == "$2" ]]; }

# state_field NAME KEY — a field of $FRACTA_STATE_DIR/NAME/state.json.
state_field() {
  jq -r --arg k "$2" '.[$k] // empty' "$FRACTA_STATE_DIR/$1/state.json"
}

# peek_has NAME TEXT — the whole output (peek 0) contains TEXT.
peek_has() {
  local out
  out=$("$SL" peek "$1" 0 </dev/null) || return 1
  [[ $out == *"$2"* ]]
}

# stop_ends_session NAME PGID — `stop NAME` exits 0 and leaves no process in
# the session PGID.
stop_ends_session() {
  run --separate-stderr "$SL" stop "$1"
  assert_status 0
  local left
  left=$(sid_pids "$2")
  [[ -z $left ]] || fail "$1: alive in session $2 after stop: $left"
}

# RFC 3339 (with optional fraction; Z or an offset).
is_rfc3339() {
  [[ $1 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$ ]]
}

# par OP STDIN NAME… — run `fracta-spawn-local OP NAME` for every NAME at
# once; results in $PAR/NAME.{out,err,rc}. (A NAME may be "" for a prefix.)
par() {
  local op=$1 input=$2 n i=0
  shift 2
  PAR="$BATS_TEST_TMPDIR/par-$op"
  rm -rf "$PAR"
  mkdir -p "$PAR"
  local -a pids=()
  for n in "$@"; do
    (
      rc=0
      "$SL" "$op" "$n" <<<"$input" >"$PAR/$i.out" 2>"$PAR/$i.err" || rc=$?
      echo "$rc" >"$PAR/$i.rc"
    ) &
    pids+=($!)
    i=$((i + 1))
  done
  wait "${pids[@]}"
}

# par_rc I — exit status of the I-th run of the last `par`; par_out I — its stdout.
par_rc() { cat "$PAR/$1.rc"; }
par_out() { cat "$PAR/$1.out"; }
par_err() { cat "$PAR/$1.err"; }

# ------------------------------------------------------------------ git --

# make_repo DIR — a repository with `main` (base.txt) and a checked-out
# branch `dev` one commit ahead (dev.txt), so "from base" is observable.
make_repo() {
  local dir=$1
  git_repo "$dir" || return 1
  git -C "$dir" checkout -qb dev
  echo dev >"$dir/dev.txt"
  git -C "$dir" add dev.txt
  git -C "$dir" commit -qm dev || return 1
}

# assert_no_session_leaks — nothing left by this bats run (see above).
assert_no_session_leaks() {
  local leaks left
  leaks=$(cat "$BATS_RUN_TMPDIR/session-leaks" 2>/dev/null) || leaks=""
  left=$(suite_leftovers) || left=""
  if [[ -n $leaks || -n $left ]]; then
    fail "processes leaked by the suite:" "$leaks" "$left"
    return 1
  fi
}
