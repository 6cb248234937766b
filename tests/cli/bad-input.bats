#!/usr/bin/env bats
# The bad-input matrix (issue 23): one table-driven test per binary. Every
# row is input the binary must refuse: malformed, oversized, NUL bytes,
# invalid UTF-8, unknown ops, invalid names, path traversal, a closed or full
# stdout, a full disk, a dead dependency. Each must answer with exactly one
# stderr line "<binary>: error: …", nothing on stdout, and the exit status
# its man page documents (EXIT STATUS: 1 failed, 2 not supported, 100 usage
# or invalid input, 111 temporary); and where the input was refused, the
# state it would have changed (the event store, the session state
# directory, the project) is byte-identical afterwards.
#
# A full disk is a file-size limit (ulimit -f, SIGXFSZ ignored so writes
# fail with EFBIG as on a full file system): mounting a small tmpfs needs
# privileges a test must not assume. A full stdout is /dev/full.

load ../lib/common

setup() {
  common_setup
  IN="$BATS_TEST_TMPDIR/in"
  mkdir -p "$IN"
  printf '{"type":' >"$IN/truncated"
  printf '{"type":"a\0b","command":"x\0y"}' >"$IN/nul"
  printf '{"type":"a.\xff\xfe","command":"sh\xc3("}' >"$IN/utf8"
  # 2 MiB of valid JSON: over every 1 MiB input cap.
  { printf '{"type":"big.event","message":"'; head -c 2097152 /dev/zero | tr '\0' x; printf '"}'; } >"$IN/big"
  printf '[1,2' >"$IN/array"
  : >"$IN/empty"
  echo '{}' >"$IN/object"
  echo '{"command":"true","workspace_files":{"../../escape":"x"}}' >"$IN/traversal"
  echo '{"command":"true","workspace_files":{"/etc/escape":"x"}}' >"$IN/absolute"
  echo '{"command":"true","copy_files":[{"src":"/etc/hostname","rel_dst":"../up"}]}' >"$IN/copy-up"
  echo '{"command":"true","mode":"turbo"}' >"$IN/mode"
  CASES=0
  FAILURES=()
  WATCH=()
}
teardown() { common_teardown; }

# snapshot DIR… — one line per file under DIR (path and sha256), sorted; the
# sqlite shared-memory index (-shm, rewritten by readers) left out.
snapshot() {
  find "$@" -type f ! -name '*-shm' -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum
}

# row WANT STDIN [full_disk] BIN ARG… — one case: run $FRACTA_BIN/BIN with
# STDIN (a file, or "-" for /dev/null) in the current directory (under
# full_disk: with a file-size limit of LIMIT_KB KiB); record a failure unless
# it exits WANT with one "BIN: error:" line on stderr and nothing on stdout,
# and what the array WATCH names (files, directories) is unchanged. OUT=closed /
# OUT=full: stdout closed, or /dev/full. ERR_AS=NAME: the error line is NAME's
# (fracta running a sibling binary in its place).
row() {
  local want=$1 stdin=$2 wrap=()
  shift 2
  [[ $1 == full_disk ]] && { wrap=(full_disk); shift; }
  local bin=$1
  shift
  [[ $stdin == - ]] && stdin=/dev/null
  local exe=("${wrap[@]}" "$FRACTA_BIN/$bin")
  local before="" after err="$BATS_TEST_TMPDIR/row.err" out="$BATS_TEST_TMPDIR/row.out" rc=0
  ((${#WATCH[@]})) && before=$(snapshot "${WATCH[@]}")
  case ${OUT:-} in
  closed) "${exe[@]}" "$@" <"$stdin" 2>"$err" >&- || rc=$? ;;
  full) "${exe[@]}" "$@" <"$stdin" 2>"$err" >/dev/full || rc=$? ;;
  *) "${exe[@]}" "$@" <"$stdin" 2>"$err" >"$out" || rc=$? ;;
  esac
  CASES=$((CASES + 1))
  local what="${wrap[*]}${wrap:+ }$bin $* <${stdin##*/}${OUT:+ (stdout $OUT)}"
  local lines
  lines=$(wc -l <"$err")
  if [[ $rc -ne $want ]]; then
    FAILURES+=("$what: exit $rc, expected $want; stderr: $(head -c 300 "$err")")
  elif [[ $lines -ne 1 ]] || ! grep -q "^${ERR_AS:-$bin}: error: ." "$err"; then
    FAILURES+=("$what: stderr is not one '${ERR_AS:-$bin}: error: …' line: $(head -c 300 "$err")")
  elif [[ -z ${OUT:-} && -s $out ]]; then
    FAILURES+=("$what: wrote to stdout: $(head -c 200 "$out")")
  fi
  if ((${#WATCH[@]})); then
    after=$(snapshot "${WATCH[@]}")
    [[ $before == "$after" ]] || FAILURES+=("$what: changed ${WATCH[*]}: $(diff <(echo "$before") <(echo "$after") | head -5)")
  fi
}

# full_disk CMD… — CMD with a file-size limit of LIMIT_KB (default 0) KiB.
# Its stderr goes through a pipe, which the limit does not cover, so that
# the error line reaches a file.
full_disk() {
  local rc
  {
    (
      trap '' XFSZ
      ulimit -f "${LIMIT_KB:-0}"
      exec "$@"
    ) 2>&1 >&3 3>&- | cat >&2
    rc=${PIPESTATUS[0]}
  } 3>&1
  return "$rc"
}

# ops_of BIN — the operations BIN's --help lists, one a line.
ops_of() {
  "$FRACTA_BIN/$1" --help | sed -n '/^operations:/,/^options:/p' | grep -oP '^  \K[a-z][a-z-]*'
}

# every_op BIN N ROW_FN — call ROW_FN OP for each operation BIN's --help
# lists, so that an operation added later gets a row or fails the matrix; at
# least N of them (a --help whose layout changed must not leave none).
every_op() {
  local op n=0
  for op in $(ops_of "$1"); do
    "$3" "$op"
    n=$((n + 1))
  done
  ((n >= $2)) || FAILURES+=("$1 --help listed $n operations (expected at least $2)")
}

# matrix_done MIN — the rows ran (at least MIN) and none failed.
matrix_done() {
  echo "# $CASES cases" >&3
  ((CASES >= $1)) || fail "only $CASES cases ran (expected at least $1)"
  if ((${#FAILURES[@]})); then
    printf '%s\n' "${FAILURES[@]}" >&2
    fail "${#FAILURES[@]} of $CASES cases failed"
  fi
}

@test "fracta-events: the bad-input matrix" {
  use_store sqlite
  echo '{"type":"matrix.before","message":"the one event"}' | "$FRACTA_BIN/fracta-events" record
  local db=${STORE_URL#sqlite:}
  WATCH=("$db" "$db-wal")
  row 100 "$IN/truncated" fracta-events record
  row 100 "$IN/big" fracta-events record
  row 100 "$IN/nul" fracta-events record
  row 100 "$IN/utf8" fracta-events record
  row 100 "$IN/empty" fracta-events record
  row 100 "$IN/array" fracta-events record
  echo '{"message":"no type"}' >"$IN/untyped"
  row 100 "$IN/untyped" fracta-events record
  echo '{"type":"a.b","ts":"yesterday"}' >"$IN/badts"
  row 100 "$IN/badts" fracta-events record
  { printf '{"type":"wide.event","message":"'; head -c 70000 /dev/zero | tr '\0' y; printf '"}'; } >"$IN/wide"
  row 100 "$IN/wide" fracta-events record
  row 100 "$IN/truncated" fracta-events list
  row 100 "$IN/utf8" fracta-events list
  row 100 "$IN/big" fracta-events list
  row 2 - fracta-events frobnicate
  row 100 - fracta-events watch not-a-seq
  row 100 - fracta-events record extra-arg
  row 100 - fracta-events --no-such-option latest-seq
  row 100 - fracta-events --format yaml latest-seq
  row 100 - fracta-events --store mysql://db/x latest-seq
  row 100 - fracta-events --store "$(printf 'sqlite:/tmp/a\x01b')" record
  row 100 - fracta-events query --since not-a-time
  row 100 - fracta-events tail -n -3
  OUT=closed row 1 "$IN/empty" fracta-events list
  OUT=full row 1 "$IN/empty" fracta-events list
  OUT=full row 1 - fracta-events latest-seq
  # a dead dependency: Postgres that does not answer
  row 111 "$IN/empty" fracta-events --store 'postgresql://postgres@127.0.0.1:1/none?connect_timeout=5' list
  # a full disk under the store: the record is refused whole
  echo '{"type":"matrix.full","message":"'"$(head -c 8192 /dev/zero | tr '\0' z)"'"}' >"$IN/fill"
  LIMIT_KB=$(( ($(stat -c %s "$db") + 1023) / 1024 )) row 111 "$IN/fill" full_disk fracta-events record
  every_op fracta-events 7 events_op_row
  matrix_done 33
  # the store still holds exactly the one event
  run --separate-stderr "$FRACTA_BIN/fracta-events" list </dev/null
  assert_status 0
  assert_json 'length == 1 and .[0].type == "matrix.before"'
}

# events_op_row OP — one refused input for every operation.
events_op_row() {
  case $1 in
  record | list) row 100 "$IN/truncated" fracta-events "$1" ;;
  watch) row 100 - fracta-events "$1" -1 ;;
  query) row 100 - fracta-events "$1" --limit many ;;
  tail) row 100 - fracta-events "$1" -n many ;;
  *) row 100 - fracta-events "$1" extra-arg ;;
  esac
}

# bad_start_json BIN OP — the rows of a start JSON every provider refuses.
bad_start_json() {
  local f
  for f in truncated big nul utf8 array traversal absolute copy-up mode; do
    row 100 "$IN/$f" "$1" "$2" s1
  done
}

is_exited() { [[ $(session_state "$1") == exited ]]; }
logged() { [[ -n $("$FRACTA_BIN/fracta-spawn-local" logs "$1" </dev/null) ]]; }

@test "fracta-spawn-local: the bad-input matrix" {
  export FRACTA_STATE_DIR="$BATS_TEST_TMPDIR/sessions"
  mkdir -p work
  # one session that has ended: its state must not move under refused input
  jq -nc --arg wd "$PWD/work" '{command: "echo its output", work_dir: $wd}' | "$FRACTA_BIN/fracta-spawn-local" start done1
  wait_for 30 is_exited done1
  wait_for 30 logged done1
  WATCH=("$FRACTA_STATE_DIR")
  bad_start_json fracta-spawn-local start
  echo '{"command":["not","a","string"]}' >"$IN/types"
  row 100 "$IN/types" fracta-spawn-local start s1
  # nothing on stdin is not {}: a caller killed before it wrote must not leave a shell
  row 100 "$IN/empty" fracta-spawn-local start s1
  local name
  for name in '../etc' 'a/b' '.hidden' "$(printf 'ctl\x01')" "$(printf 'bad\xff')" "$(head -c 300 /dev/zero | tr '\0' n)" ''; do
    row 100 "$IN/empty" fracta-spawn-local start "$name"
  done
  row 100 - fracta-spawn-local status '../done1'
  row 100 - fracta-spawn-local copy-to done1 /etc/hostname ../../escape
  row 100 - fracta-spawn-local copy-to done1 /etc/hostname /abs
  row 100 - fracta-spawn-local peek done1 not-a-number
  row 100 - fracta-spawn-local wait done1 soon
  row 100 - fracta-spawn-local set-meta done1
  row 100 - fracta-spawn-local start
  echo "a nudge" >"$IN/text"
  row 100 "$IN/text" fracta-spawn-local nudge done1 --timeout never
  row 100 - fracta-spawn-local --no-such-option status done1
  row 2 - fracta-spawn-local frobnicate done1
  row 2 - fracta-spawn-local check-image alpine
  OUT=closed row 1 - fracta-spawn-local status done1
  OUT=full row 1 - fracta-spawn-local list 'done'
  OUT=full row 1 - fracta-spawn-local logs done1
  every_op fracta-spawn-local 23 local_op_row
  matrix_done 53
}

# local_op_row OP — one bad-input row for each operation: a name that climbs
# out of the state directory (the arguments after it are enough for every
# operation's arity), or for the operations without one (list, watch), a full stdout
# (list-running prints only running sessions: one runs for its row).
local_op_row() {
  case $1 in
  list | watch) OUT=full row 1 - fracta-spawn-local "$1" done1 ;;
  list-running)
    # in a state directory of its own, away from the watched one
    local FRACTA_STATE_DIR=$BATS_TEST_TMPDIR/running
    echo '{"command":"sleep 600"}' | "$FRACTA_BIN/fracta-spawn-local" start running1
    OUT=full row 1 - fracta-spawn-local "$1" running
    "$FRACTA_BIN/fracta-spawn-local" stop running1
    ;;
  check-image) row 2 - fracta-spawn-local "$1" alpine ;;
  supervise) row 100 - fracta-spawn-local "$1" '../done1' -- true ;;
  *) row 100 - fracta-spawn-local "$1" '../done1' key value ;;
  esac
}

@test "fracta-spawn-k8s: the bad-input matrix" {
  # A cluster that is not there: nothing a refused input could change, and
  # the dead dependency for the rows that pass the checks.
  {
    printf '%s\n' "apiVersion: v1" "kind: Config" "current-context: c" "clusters:" "- name: k"
    printf '%s\n' "  cluster: {server: 'http://127.0.0.1:1'}" "users:" "- name: u" "  user: {token: t}"
    printf '%s\n' "contexts:" "- name: c" "  context: {cluster: k, user: u, namespace: agents}"
  } >kubeconfig
  export KUBECONFIG=$PWD/kubeconfig
  printf '%s\n' "apiVersion: v1" "kind: Config" "clusters: [" >bad-kubeconfig
  sed 's|namespace: agents}|namespace: agents}|; s|user: {token: t}|user: {token: t, tokenFile: /dev/zero}|; s|server: .http://127.0.0.1:1.|&, certificate-authority: /dev/zero|' kubeconfig >zero-kubeconfig
  bad_start_json fracta-spawn-k8s render
  echo '{"command":"true","kubernetes":{"image":5}}' >"$IN/image"
  row 100 "$IN/image" fracta-spawn-k8s render s1
  row 100 "$IN/truncated" fracta-spawn-k8s start s1
  local name
  for name in '../etc' 'a/b' "$(printf 'ctl\x01')" "$(printf 'bad\xff')" "$(head -c 300 /dev/zero | tr '\0' n)"; do
    row 100 "$IN/empty" fracta-spawn-k8s start "$name"
  done
  echo value >"$IN/value"
  row 100 "$IN/value" fracta-spawn-k8s set-meta s1 'bad key!'
  row 100 - fracta-spawn-k8s peek s1 not-a-number
  row 100 - fracta-spawn-k8s --namespace Bad_NS status s1
  FRACTA_K8S_NAMESPACE=a.b row 100 - fracta-spawn-k8s status s1
  row 100 - fracta-spawn-k8s --context nope status s1
  row 100 - fracta-spawn-k8s --kubeconfig bad-kubeconfig status s1
  row 100 - fracta-spawn-k8s --kubeconfig zero-kubeconfig status s1
  row 100 - fracta-spawn-k8s --no-such-option status s1
  row 2 - fracta-spawn-k8s frobnicate s1
  row 100 - fracta-spawn-k8s attach s1 --detach-key x
  row 111 - fracta-spawn-k8s attach s1
  row 2 - fracta-spawn-k8s check-image alpine
  OUT=closed row 1 "$IN/object" fracta-spawn-k8s render s1
  OUT=full row 1 "$IN/object" fracta-spawn-k8s render s1
  row 100 "$IN/empty" fracta-spawn-k8s render s1
  row 111 - fracta-spawn-k8s status s1
  row 111 - fracta-spawn-k8s list-running s
  every_op fracta-spawn-k8s 22 k8s_op_row
  matrix_done 53
}

# k8s_op_row OP — an invalid object name for every operation that takes one
# (refused before any API call), and the dead cluster for the listings.
k8s_op_row() {
  case $1 in
  list | list-running | watch) row 111 - fracta-spawn-k8s "$1" s ;;
  check-image) row 2 - fracta-spawn-k8s "$1" alpine ;;
  *) row 100 - fracta-spawn-k8s "$1" '../etc' key value ;;
  esac
}

@test "fracta-init: the bad-input matrix" {
  git_repo proj
  cd proj
  WATCH=("$PWD")
  row 100 - fracta-init --scaffold moon
  row 100 - fracta-init --print moon
  row 100 - fracta-init
  row 100 - fracta-init --scaffold local --print k8s
  row 100 - fracta-init --scaffold local --format yaml
  row 100 - fracta-init --scaffold local --dir /nonexistent/dir
  row 100 - fracta-init --scaffold local --source /nonexistent/dir
  row 100 - fracta-init --scaffold k8s --namespace Bad_NS
  row 100 - fracta-init --scaffold k8s --namespace "$(printf 'ns\x01')"
  row 100 - fracta-init --scaffold k8s --image "$(printf 'bad\nimage')"
  row 100 - fracta-init --scaffold k8s --image 'image:'
  row 100 - fracta-init --scaffold local --no-such-option
  row 100 - fracta-init --scaffold local extra-argument
  OUT=closed row 1 - fracta-init --print k8s
  OUT=full row 1 - fracta-init --print docker-compose
  # a full disk: nothing written, not even a temporary file
  row 1 - full_disk fracta-init --scaffold local
  # local mode outside git (100) leaves that directory as it was
  mkdir ../plain
  cd ../plain
  WATCH=("$PWD")
  row 100 - fracta-init --scaffold local
  cd ../proj
  matrix_done 17
  # the scaffold still works here afterwards
  run --separate-stderr "$FRACTA_BIN/fracta-init" --scaffold local
  assert_status 0
}

@test "fracta-reap: the bad-input matrix" {
  git_repo proj
  cd proj
  mkdir .fracta
  printf 'agents: {default_runtime: shell\n' >bad.yaml
  printf 'agents: {default_runtime: "sh\xffell"}\n' >utf8.yaml
  printf 'agents: {default_runtime: "a\\0b"}\n' >nul.yaml
  printf 'agents: {default_runtime: shell}\nreaper: {interval: soon}\n' >types.yaml
  printf 'runtime: {state: {driver: postgres, postgres: {dsn: "postgresql://postgres@127.0.0.1:1/x?connect_timeout=5"}}}\nagents: {default_runtime: shell}\n' >dead.yaml
  { printf 'agents: {default_runtime: shell}\n#'; head -c 5000000 /dev/zero | tr '\0' c; echo; } >big.yaml
  WATCH=("$PWD/.fracta")
  row 100 - fracta-reap --config bad.yaml --once
  row 100 - fracta-reap --config utf8.yaml --once
  row 100 - fracta-reap --config nul.yaml --once
  row 100 - fracta-reap --config types.yaml --once
  row 100 - fracta-reap --config big.yaml --once
  row 100 - fracta-reap --config /nonexistent/fracta.yaml --once
  row 100 - fracta-reap --config /dev/zero --once
  row 100 - fracta-reap --every soon
  row 100 - fracta-reap --grace -5s
  row 100 - fracta-reap --once --every 1s
  row 100 - fracta-reap --format yaml
  row 100 - fracta-reap frobnicate
  row 100 - fracta-reap --no-such-option
  row 111 - fracta-reap --config dead.yaml --once
  matrix_done 14
}

# bad_project — a git project in $PWD/proj (cd there) with a fracta.yaml,
# bad variants of it, and one whose control plane and store are dead.
bad_project() {
  git_repo proj
  cd proj || return 1
  mkdir .fracta
  printf '%s\n' 'agents: {default_runtime: shell}' 'control_plane_api: {listen: "127.0.0.1:0"}' \
    'gateway: {listen: "127.0.0.1:0"}' >fracta.yaml
  printf 'agents: {default_runtime: shell\n' >bad.yaml
  printf 'agents: {default_runtime: "sh\xffell"}\n' >utf8.yaml
  printf 'agents: {default_runtime: shell}\nruntime: {queue: {workers: many}}\n' >types.yaml
  printf 'agents: {default_runtime: shell}\nfrobnicate: [\0]\n' >nul.yaml
  { printf 'agents: {default_runtime: shell}\n#'; head -c 5000000 /dev/zero | tr '\0' c; echo; } >big.yaml
  printf '%s\n' 'agents: {default_runtime: shell}' 'control_plane_api: {listen: "127.0.0.1:1"}' \
    'runtime: {state: {driver: postgres, postgres: {dsn: "postgresql://postgres@127.0.0.1:1/x?connect_timeout=5"}}}' >dead.yaml
  WATCH=("$PWD/.fracta")
}

@test "fracta-cp: the bad-input matrix" {
  bad_project
  local f
  for f in bad utf8 types nul big; do
    row 100 - fracta-cp --config "$f.yaml" run --workers 0
  done
  row 100 - fracta-cp --config /dev/zero status
  row 100 - fracta-cp --config /nonexistent/fracta.yaml status
  row 100 - fracta-cp frobnicate
  row 100 - fracta-cp
  row 100 - fracta-cp status extra-argument
  row 100 - fracta-cp --format yaml status
  row 100 - fracta-cp run --listen 'not an address'
  row 100 - fracta-cp run --listen '0.0.0.0:0'
  row 100 - fracta-cp run --workers -1
  row 100 - fracta-cp run --ready-fd abc
  row 100 - fracta-cp run --drain-timeout forever
  row 100 - fracta-cp start --timeout forever
  row 100 - fracta-cp --no-such-option status
  # a dead dependency: the store's Postgres does not answer
  row 111 - fracta-cp --config dead.yaml run --listen 127.0.0.1:0 --workers 0
  every_op fracta-cp 4 cp_op_row
  matrix_done 23
}

# cp_op_row OP — one refused input for every operation.
cp_op_row() {
  case $1 in
  run) row 100 - fracta-cp "$1" --listen 127.0.0.1:0 --workers many ;;
  start | stop) row 100 - fracta-cp "$1" --timeout -5s ;;
  *) row 100 - fracta-cp "$1" extra-argument ;;
  esac
}

@test "fracta-gw: the bad-input matrix" {
  bad_project
  local f
  for f in bad utf8 types nul big; do
    row 100 - fracta-gw --config "$f.yaml" serve
  done
  row 100 - fracta-gw --config /dev/zero stdio
  row 100 - fracta-gw --config /nonexistent/fracta.yaml serve
  row 100 - fracta-gw frobnicate
  row 100 - fracta-gw
  row 100 - fracta-gw serve extra-argument
  row 100 - fracta-gw serve --listen 'not an address'
  row 100 - fracta-gw serve --listen '0.0.0.0:0'
  row 100 - fracta-gw serve --ready-fd abc
  row 100 - fracta-gw --no-such-option serve
  every_op fracta-gw 2 gw_op_row
  matrix_done 16
}

gw_op_row() { row 100 - fracta-gw "$1" --no-such-option; }

@test "fracta: the bad-input matrix" {
  bad_project
  local f name
  for f in bad utf8 types nul big; do
    row 100 - fracta --config "$f.yaml" list
  done
  row 100 - fracta frobnicate
  row 100 - fracta spawn
  for name in '../x' 'a/b' '-dash' "$(printf 'ctl\x01')" "$(printf 'bad\xff')" "$(head -c 100 /dev/zero | tr '\0' n)"; do
    row 100 - fracta spawn "$name"
  done
  every_op fracta 18 front_op_row
  row 100 - fracta say '../etc' hello
  row 100 - fracta say t1
  row 100 - fracta peek t1 -n abc
  row 100 - fracta wait t1 --timeout never
  row 100 - fracta watch t1 --after-seq -1
  row 100 - fracta list --status Bogus
  row 100 - fracta completion fish
  row 100 - fracta --format yaml list
  # a dead dependency: no control plane answers, and the one fracta starts
  # for the project cannot open its store (it logs why: not refused input)
  WATCH=()
  row 111 - fracta --config dead.yaml list
  row 111 - fracta --config dead.yaml get t1
  matrix_done 41
}

# front_op_row VERB — one refused input for every verb: a task name that
# climbs out of the project, or for the verbs that take none, a bad option.
# The verbs fracta runs a sibling binary for answer with that binary's line.
front_op_row() {
  case $1 in
  list) row 100 - fracta "$1" --status Bogus ;;
  status) row 100 - fracta "$1" extra-argument ;;
  completion) row 100 - fracta "$1" fish ;;
  init) ERR_AS=fracta-init row 100 - fracta "$1" --scaffold moon ;;
  serve) ERR_AS=fracta-gw row 100 - fracta "$1" extra-argument ;;
  controlplane) ERR_AS=fracta-cp row 100 - fracta "$1" frobnicate ;;
  events) ERR_AS=fracta-events row 100 - fracta "$1" watch -1 ;;
  reap) ERR_AS=fracta-reap row 100 - fracta "$1" --every soon ;;
  attach) ERR_AS=fracta-spawn-local row 100 - fracta "$1" '../etc' ;;
  *) row 100 - fracta "$1" '../etc' ;;
  esac
}
