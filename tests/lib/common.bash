# common.bash — shared helpers for the bats suites.
#
#   load ../lib/common            (from tests/cli/*.bats or tests/e2e/*.bats)
#
# Environment (set by ctest, see tests/CMakeLists.txt):
#   FRACTA_BIN           directory holding the built binaries
#   FRACTA_SOURCE        repository root
#   FRACTA_TEST_PG_URL   libpq URL of the throwaway server (tests/lib/pg-fixture),
#                        postgresql://postgres@/postgres?host=DIR&port=PORT
#
# Every test gets:
#   - a scratch directory, $BATS_TEST_TMPDIR, as its working directory;
#   - a private XDG_STATE_HOME inside it, and no FRACTA_EVENTS_STORE or
#     FRACTA_CONFIG from the caller, so nothing outside the test is touched;
#   - `use_store sqlite|postgres`: a fresh, empty event store in $STORE_URL
#     (also exported as FRACTA_EVENTS_STORE); Postgres databases are dropped
#     in teardown;
#   - `start_bg CMD…`: background processes killed in teardown.
#
# A suite's setup/teardown call common_setup/common_teardown.
#
# shellcheck disable=SC2154  # status, output, stderr: set by bats' `run`

bats_require_minimum_version 1.5.0

# fail MESSAGE… — print to stderr (shown by bats on failure) and fail.
fail() {
  printf '%s\n' "$*" >&2
  return 1
}

# require_env VAR… — fail clearly if any variable is unset or empty.
require_env() {
  local v
  for v in "$@"; do
    [[ -n ${!v:-} ]] || fail "required environment variable $v is not set (run the suites through ctest / 'make test', which set it)"
  done
}

# require_cmd CMD… — fail clearly if a command is missing.
require_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || fail "required command '$c' is not installed (run 'make deps')"
  done
}

common_setup() {
  require_env FRACTA_BIN FRACTA_SOURCE
  require_cmd jq
  BG_PIDS=()
  TEST_PG_DB=""
  STORE_KIND=""
  STORE_URL=""
  unset FRACTA_EVENTS_STORE FRACTA_CONFIG
  export XDG_STATE_HOME="$BATS_TEST_TMPDIR/xdg-state"
  cd "$BATS_TEST_TMPDIR" || return 1
}

common_teardown() {
  local pid
  for pid in "${BG_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${BG_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  BG_PIDS=()
  if [[ -n $TEST_PG_DB ]]; then
    # FORCE: ends sessions a failed test may have left behind.
    psql "$FRACTA_TEST_PG_URL" -qAt -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS \"$TEST_PG_DB\" WITH (FORCE)" >/dev/null ||
      fail "could not drop test database $TEST_PG_DB"
    TEST_PG_DB=""
  fi
}

# pg_url_with_db URL DB — the libpq URL with its database name replaced:
#   postgresql://postgres@/postgres?host=D&port=P → postgresql://postgres@/DB?host=D&port=P
pg_url_with_db() {
  local url=$1 db=$2 scheme rest authority query=""
  [[ $url == postgres://* || $url == postgresql://* ]] || { fail "not a postgres URL: $url"; return 1; }
  scheme=${url%%://*}
  rest=${url#*://}
  if [[ $rest == *\?* ]]; then
    query="?${rest#*\?}"
    rest=${rest%%\?*}
  fi
  authority=${rest%%/*}
  printf '%s://%s/%s%s\n' "$scheme" "$authority" "$db" "$query"
}

# new_pg_database — create an empty database for this test; prints its URL.
# Sets TEST_PG_DB (dropped in teardown). Fails (never skips) without a server.
new_pg_database() {
  if [[ -z ${FRACTA_TEST_PG_URL:-} ]]; then
    fail "FRACTA_TEST_PG_URL is not set: the Postgres variants need a server." \
      "Run through ctest ('make test'), or start one with" \
      "'tests/lib/pg-fixture start /tmp/fracta-pg-x 24444' and set" \
      "FRACTA_TEST_PG_URL='postgresql://postgres@/postgres?host=/tmp/fracta-pg-x&port=24444'"
    return 1
  fi
  require_cmd psql || return 1
  local db
  db="t_$(date +%s%N)_$$_${RANDOM}"
  psql "$FRACTA_TEST_PG_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null ||
    { fail "cannot create a test database on $FRACTA_TEST_PG_URL"; return 1; }
  TEST_PG_DB=$db
  pg_url_with_db "$FRACTA_TEST_PG_URL" "$db"
}

# use_store sqlite|postgres — a fresh, empty event store for this test:
# sets STORE_KIND and STORE_URL and exports FRACTA_EVENTS_STORE=$STORE_URL.
use_store() {
  STORE_KIND=$1
  case $1 in
  sqlite) STORE_URL="sqlite:$BATS_TEST_TMPDIR/events.db" ;;
  postgres)
    new_pg_database >"$BATS_TEST_TMPDIR/.pg-url" || return 1
    STORE_URL=$(<"$BATS_TEST_TMPDIR/.pg-url")
    ;;
  *) fail "use_store: unknown store kind '$1'"; return 1 ;;
  esac
  export FRACTA_EVENTS_STORE=$STORE_URL
}

# store_is_untouched — true if the (fresh) store was never created: no sqlite
# file, no events table in the Postgres database, no ConfigMap in the k8s
# store's namespace (k8s_events_store).
store_is_untouched() {
  case $STORE_KIND in
  sqlite) [[ ! -e ${STORE_URL#sqlite:} ]] || fail "the store file ${STORE_URL#sqlite:} was created" ;;
  postgres)
    local absent
    absent=$(psql "$STORE_URL" -qAt -c "SELECT to_regclass('events') IS NULL") || return 1
    [[ $absent == t ]] || fail "the events table was created in $STORE_URL"
    ;;
  k8s)
    local n
    n=$(k8s_curl "$K8S_URL/api/v1/namespaces/${STORE_URL#k8s:}/configmaps" | jq '.items | length') || return 1
    [[ $n == 0 ]] || fail "the bad input wrote $n ConfigMap(s) to namespace ${STORE_URL#k8s:}"
    ;;
  esac
}

# own_pg DIR — a Postgres server of the test's own (tests/lib/pg-fixture) in
# DIR, on a free port (a taken one is retried): sets OWN_PG_PORT and
# OWN_PG_URL. Stop it with `pg-fixture stop DIR`.
own_pg() {
  local try port
  for try in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    port_taken "$port" && continue
    if (cd / && "$FRACTA_SOURCE/tests/lib/pg-fixture" start "$1" "$port" 2>"$BATS_TEST_TMPDIR/own-pg.log"); then
      OWN_PG_PORT=$port
      OWN_PG_URL="postgresql://postgres@/postgres?host=$1&port=$port"
      return 0
    fi
  done
  fail "no Postgres of the test's own in $1: $(cat "$BATS_TEST_TMPDIR/own-pg.log")"
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# git_repo DIR — a git repository on `main` with one commit (base.txt) and a
# committer of its own.
git_repo() {
  git init -q -b main "$1" || return 1
  git -C "$1" config user.name "fracta test"
  git -C "$1" config user.email "test@fracta.invalid"
  echo base >"$1/base.txt"
  git -C "$1" add base.txt
  git -C "$1" commit -qm base
}

# free_port — a TCP port on 127.0.0.1 that nothing listens on (now).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# session_state NAME — the .state of `fracta-spawn-local status NAME`, for the
# sessions in $FRACTA_STATE_DIR; fails when status does.
session_state() {
  local j
  j=$("$FRACTA_BIN/fracta-spawn-local" status "$1" </dev/null) || return 1
  jq -r .state <<<"$j"
}

# file_has FILE TEXT — FILE exists and holds TEXT (a fixed string).
file_has() { [[ -f $1 ]] && grep -qF -- "$2" "$1"; }

# start_bg CMD… — run a command in the background (stdin/stdout/stderr as
# redirected by the caller); its pid is in BG_PID and it is killed in teardown.
# CMD should be a binary, not a function, so that the pid is the program's own.
start_bg() {
  # <&0: without it, bash gives a background command /dev/null as stdin.
  "$@" <&0 3>&- &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# now_ns — wall clock in nanoseconds (microsecond resolution).
now_ns() {
  local t=${EPOCHREALTIME//[!0-9]/}
  echo $((10#$t * 1000))
}

# wait_for SECONDS CMD… — poll CMD until it succeeds; fail after SECONDS
# times $FRACTA_TEST_PATIENCE (default 4). For conditions that become true,
# never for fixed delays: the limit only stops a hung test, and a loaded
# machine (CI, `stress-ng`) may take many times as long as an idle one.
# Polls every 50 ms at first, backing off to 0.5 s, so that a long wait does
# not take the CPU from what it waits for.
wait_for() {
  local limit=$(($1 * ${FRACTA_TEST_PATIENCE:-4}))
  shift
  local deadline=$(($(now_ns) + limit * 1000000000)) pause=50
  until "$@"; do
    if (($(now_ns) > deadline)); then
      fail "timed out after ${limit}s waiting for: $*"
      return 1
    fi
    sleep "0.$(printf '%03d' "$pause")"
    ((pause = pause * 3 / 2, pause > 500)) && pause=500
  done
  return 0
}

# process_gone PID — the process has exited. A zombie has exited too: it
# only waits for its parent (or init, for an orphan) to collect its status.
process_gone() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  [[ ${stat##*) } == Z* ]]
}

# line_count FILE — number of complete lines in FILE (0 if missing).
line_count() {
  if [[ -f $1 ]]; then
    local n
    n=$(wc -l <"$1")
    echo $((n))
  else
    echo 0
  fi
}

# has_lines FILE N — FILE has at least N complete lines.
has_lines() {
  (($(line_count "$1") >= $2))
}

# assert_status N — after `run`: the exit status is N (prints output if not).
assert_status() {
  if [[ $status -ne $1 ]]; then
    fail "expected exit status $1, got $status" "stdout: ${output}" "stderr: ${stderr:-}"
    return 1
  fi
}

# assert_json EXPR [JSON] — jq -e EXPR holds on JSON (default: $output).
assert_json() {
  local expr=$1 json=${2-$output}
  if ! jq -e "$expr" >/dev/null 2>&1 <<<"$json"; then
    fail "jq condition failed: $expr" "on: $json"
    return 1
  fi
}

# assert_equal ACTUAL EXPECTED [WHAT]
assert_equal() {
  if [[ $1 != "$2" ]]; then
    fail "${3:-value}: expected '$2', got '$1'"
    return 1
  fi
}
