#!/usr/bin/env bats
# fracta-events: the events contract (spec/exec-provider.md, "Events contract"
# and "Common rules"), run against both stores. Each contract is a function
# `contract_*`; the @test lines below run it once per store:
#
#   @test "sqlite: …"   { use_store sqlite;   contract_…; }
#   @test "postgres: …" { use_store postgres; contract_…; }
#
# use_store gives the test a fresh, empty store in $STORE_URL and exports it
# as FRACTA_EVENTS_STORE (tests/lib/common.bash).

# shellcheck disable=SC2154  # status, output, lines, stderr, stderr_lines: set by bats' `run`
load ../lib/common

setup() {
  common_setup
  EV="$FRACTA_BIN/fracta-events"
  [[ -x $EV ]] || fail "$EV is not built (cmake --build build)"
}

teardown() {
  common_teardown
}

# The binary under test. `run ev …` keeps its exit status; stdin is the run's.
ev() { "$EV" "$@"; }

# record JSON — append one event (asserting success).
record() {
  run --separate-stderr ev record <<<"$1"
  assert_status 0 || return 1
  [[ -z $output ]] || fail "record printed to stdout: $output"
}

# list_seqs [FILTER] — the seqs of `list FILTER` as a compact JSON array.
list_seqs() {
  run --separate-stderr ev list <<<"${1-}"
  assert_status 0 || return 1
  jq -c '[.[].seq]' <<<"$output"
}

# assert_list FILTER EXPECTED_SEQS — list with FILTER returns exactly these seqs.
assert_list() {
  local got
  got=$(list_seqs "$1") || return 1
  assert_equal "$got" "$2" "list $1"
}

latest_seq() {
  run --separate-stderr ev latest-seq
  assert_status 0 || return 1
  echo "$output"
}

# ---------------------------------------------------------------- contracts --

contract_seq_starts_at_1_no_gaps() {
  # Empty store.
  run --separate-stderr ev list <<<'{}'
  assert_status 0
  assert_equal "$output" "[]" "list on an empty store"
  run --separate-stderr ev latest-seq
  assert_status 0
  assert_equal "$output" "0" "latest-seq on an empty store"

  local i
  for i in 1 2 3 4 5; do record "{\"type\":\"t$i\",\"actor\":\"a\"}"; done

  run --separate-stderr ev list <<<'{}'
  assert_status 0
  assert_json '[.[].seq] == [1,2,3,4,5]'
  assert_json '[.[].type] == ["t1","t2","t3","t4","t5"]'
  local last
  last=$(jq '.[-1].seq' <<<"$output")
  run --separate-stderr ev latest-seq
  assert_status 0
  assert_equal "$output" "5" "latest-seq"
  assert_equal "$output" "$last" "latest-seq vs last listed seq"

  # ensure-running on an existing store changes nothing and prints nothing.
  run --separate-stderr ev ensure-running
  assert_status 0
  assert_equal "$output" "" "ensure-running stdout"
  assert_equal "$(latest_seq)" "5" "latest-seq after ensure-running"
}

contract_ensure_running_creates_store() {
  run --separate-stderr ev ensure-running
  assert_status 0
  assert_equal "$output" "" "ensure-running stdout"
  if [[ $STORE_KIND == sqlite ]]; then
    [[ -f ${STORE_URL#sqlite:} ]] || fail "ensure-running did not create ${STORE_URL#sqlite:}"
  fi
  assert_equal "$(latest_seq)" "0" "latest-seq after ensure-running"
}

contract_fields_round_trip() {
  record '{"type":"lifecycle.started","actor":"worker","subject":"t1","message":"hello \"world\" ü",
           "payload":{"category":"c","attrs":{"n":1,"list":[1,"two",null]}},
           "seq":999,"unknown_field":{"x":1}}'
  record '{"type":"session.woke","actor":"","subject":"","message":"","payload":null}'
  run --separate-stderr ev list <<<'{}'
  assert_status 0
  assert_json 'length == 2'
  assert_json '.[0] | .seq == 1 and .type == "lifecycle.started" and .actor == "worker"
               and .subject == "t1" and .message == "hello \"world\" ü"
               and .payload == {"category":"c","attrs":{"n":1,"list":[1,"two",null]}}
               and has("unknown_field") == false'
  assert_json '.[1] | .seq == 2 and .type == "session.woke" and .actor == ""'
}

# RFC 3339, nanoseconds, UTC.
NOW_TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$'

# assert_ts_in TS FROM TO — TS is in fracta's format and, to the second,
# between FROM and TO (epoch seconds read before the record and after it):
# stamped by the clock when it was written, however long that took.
assert_ts_in() {
  [[ $1 =~ $NOW_TS_RE ]] || { fail "ts '$1' is not RFC 3339 UTC with 9 fraction digits"; return 1; }
  local then_s
  then_s=$(date -u -d "$1" +%s) || return 1
  ((then_s >= $2 && then_s <= $3)) || fail "ts '$1' is not between $(date -u -d "@$2" +%FT%TZ) and $(date -u -d "@$3" +%FT%TZ)"
}

contract_ts() {
  local from to
  from=$(date -u +%s)
  record '{"type":"missing-ts"}'
  record '{"type":"go-zero-ts","ts":"0001-01-01T00:00:00Z"}'
  record '{"type":"explicit-ts","ts":"2021-03-04T05:06:07.123456789+02:00"}'
  record '{"type":"empty-ts","ts":""}'
  to=$(date -u +%s)
  run --separate-stderr ev list <<<'{}'
  assert_status 0
  assert_ts_in "$(jq -r '.[0].ts' <<<"$output")" "$from" "$to"
  assert_ts_in "$(jq -r '.[1].ts' <<<"$output")" "$from" "$to"
  assert_equal "$(jq -r '.[2].ts' <<<"$output")" "2021-03-04T05:06:07.123456789+02:00" "explicit ts"
  assert_ts_in "$(jq -r '.[3].ts' <<<"$output")" "$from" "$to"
}

contract_list_filters() {
  # 1 and 2 at explicit UTC times; 3 at 13:00+02:00 = 11:00Z (sorts after
  # 12:00Z as text, before it as time).
  record '{"type":"x","actor":"y","subject":"t1","ts":"2024-01-01T10:00:00Z"}'
  record '{"type":"x","actor":"z","subject":"t2","ts":"2024-01-01T12:00:00Z"}'
  record '{"type":"w","actor":"y","subject":"t1","ts":"2024-01-01T13:00:00+02:00"}'

  # Since compares parsed times, inclusive.
  assert_list '{"since":"2024-01-01T12:30:00+01:00"}' '[2]'
  assert_list '{"since":"2024-01-01T11:59:59.999999999Z"}' '[2]'
  assert_list '{"since":"2024-01-01T12:00:00Z"}' '[2]'
  assert_list '{"since":"2024-01-01T12:00:00.000000001Z"}' '[]'
  assert_list '{"since":"2024-01-01T10:30:00Z"}' '[2,3]'
  assert_list '{"Type":"","Actor":"","Since":"2024-01-01T12:30:00+01:00","AfterSeq":0}' '[2]'

  # 4 and 5 at now.
  record '{"type":"x","actor":"y","subject":"t1"}'
  record '{"type":"x","actor":"y"}'

  # Gas City's exact zero filter, an empty object and empty stdin: everything.
  assert_list '{"Type":"","Actor":"","Since":"0001-01-01T00:00:00Z","AfterSeq":0}' '[1,2,3,4,5]'
  assert_list '{}' '[1,2,3,4,5]'
  assert_list '' '[1,2,3,4,5]'
  # snake_case.
  assert_list '{"type":"x"}' '[1,2,4,5]'
  assert_list '{"actor":"y"}' '[1,3,4,5]'
  assert_list '{"after_seq":3}' '[4,5]'
  assert_list '{"type":"x","actor":"y","after_seq":1}' '[4,5]'
  # Go field names, every key present.
  assert_list '{"Type":"x","Actor":"y","Since":"0001-01-01T00:00:00Z","AfterSeq":1}' '[4,5]'
  assert_list '{"Type":"x","Actor":"","Since":"2024-01-01T12:30:00+01:00","AfterSeq":0}' '[2,4,5]'
  # fracta's additions.
  assert_list '{"subject":"t1"}' '[1,3,4]'
  assert_list '{"limit":2}' '[1,2]'
  assert_list '{"after_seq":1,"limit":2}' '[2,3]'
  # No match.
  assert_list '{"type":"nope"}' '[]'
  assert_list '{"after_seq":5}' '[]'
  run --separate-stderr ev list <<<'{"actor":"nobody"}'
  assert_status 0
  assert_equal "$output" "[]" "list with a no-match filter"
}

contract_watch_replays_then_streams() {
  record '{"type":"a","message":"1"}'
  record '{"type":"a","message":"2"}'
  record '{"type":"a","message":"3"}'
  record '{"type":"a","message":"4"}'

  start_bg "$EV" watch 2 >watch.out 2>watch.err
  # Ready once the replay (seq 3, 4) is out: it listens before it replays.
  wait_for 10 has_lines watch.out 2

  # Each new event reaches the watcher (how fast is tests/bench's business).
  local i expected=2
  for i in 5 6 7; do
    # No trailing newline on this payload.
    printf '%s' "{\"type\":\"b\",\"message\":\"$i\"}" >event.json
    run --separate-stderr ev record <event.json
    assert_status 0
    expected=$((expected + 1))
    wait_for 60 has_lines watch.out "$expected"
  done

  kill -0 "$BG_PID" || fail "the watcher exited: $(cat watch.err)"
  # Every line a JSON object; seqs 3..7 in order, no repeats; nothing else.
  run jq -s -c '[.[].seq]' watch.out
  assert_status 0
  assert_equal "$output" "[3,4,5,6,7]" "watched seqs"
  run jq -s -c '[.[].message]' watch.out
  assert_equal "$output" '["3","4","5","6","7"]' "watched messages"
  assert_equal "$(line_count watch.out)" "5" "watch output lines"
  [[ ! -s watch.err ]] || fail "watch wrote to stderr: $(cat watch.err)"
}

contract_cli_surface() {
  run --separate-stderr ev frobnicate
  assert_status 2
  assert_equal "$output" "" "stdout of an unknown op"
  assert_equal "${#stderr_lines[@]}" "1" "stderr lines of an unknown op"

  run --separate-stderr ev
  assert_status 100
  assert_equal "$output" "" "stdout without an op"
  [[ -n $stderr ]] || fail "no diagnostic without an op"

  run --separate-stderr ev --no-such-flag latest-seq
  assert_status 100
  assert_equal "$output" "" "stdout with an unknown flag"

  run --separate-stderr ev --help
  assert_status 0
  local op
  for op in ensure-running record list latest-seq watch query tail; do
    grep -qE "^ +$op( |$)" <<<"$output" || fail "--help does not list '$op'"
  done

  run --separate-stderr ev --version
  assert_status 0
  [[ $output =~ ^fracta-events\ [0-9] ]] || fail "--version printed '$output'"
}

# write_bad_inputs — the stdin files of run_bad_inputs, in ./bad/.
write_bad_inputs() {
  mkdir -p bad
  printf '%s' '{bad' >bad/malformed.json
  printf '%s' '[1]' >bad/array.json
  printf '%s' '"x"' >bad/string.json
  printf '%s' '{"actor":"a"}' >bad/no-type.json
  printf '%s' '{"type":"","actor":"a"}' >bad/empty-type.json
  printf '%s' '{"type":7}' >bad/number-type.json
  printf '%s' '{"type":"a","ts":"yesterday"}' >bad/bad-ts.json
  printf '%s' '{"type":"a","ts":"2024-13-01T00:00:00Z"}' >bad/bad-month.json
  {
    printf '%s' '{"type":"big","message":"'
    head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' a
    printf '%s' '"}'
  } >bad/2mib.json
  # Under the 1 MiB input cap, but its line would exceed the 64 KiB limit.
  {
    printf '%s' '{"type":"wide","message":"'
    head -c $((100 * 1024)) /dev/zero | tr '\0' a
    printf '%s' '"}'
  } >bad/100kib.json
  printf '%s' '{"type":"ok"}' >bad/good.json
  printf '%s' '{"Type":"","Actor":"","Since":"0001-01-01T00:00:00Z","AfterSeq":-1}' >bad/filter-negative.json
  printf '%s' '{"since":"yesterday"}' >bad/filter-since.json
  printf '%s' '[]' >bad/filter-array.json
}

# run_bad_inputs CHECK — run every case below (STDIN-FILE|ARGS), asserting
# exit 100, empty stdout and exactly one "fracta-events: error:" line on
# stderr; then run CHECK (a function) to see that the store is unchanged.
run_bad_inputs() {
  local check=$1 file args
  while IFS='|' read -r -u 4 file args; do
    # shellcheck disable=SC2086  # args is a word list
    run --separate-stderr ev $args <"bad/$file"
    if [[ $status -ne 100 ]]; then
      fail "$args < $file: expected exit 100, got $status (stderr: $stderr)"
      return 1
    fi
    [[ -z $output ]] || { fail "$args < $file: printed to stdout: $output"; return 1; }
    if [[ ${#stderr_lines[@]} -ne 1 || ${stderr_lines[0]} != "fracta-events: error: "* ]]; then
      fail "$args < $file: expected one 'fracta-events: error:' line on stderr, got: $stderr"
      return 1
    fi
    "$check" || { fail "after: $args < $file"; return 1; }
  done 4<<'EOF'
malformed.json|record
array.json|record
string.json|record
no-type.json|record
empty-type.json|record
number-type.json|record
bad-ts.json|record
bad-month.json|record
2mib.json|record
100kib.json|record
good.json|--store mysql://x record
good.json|--store sqlite: record
good.json|--format yaml record
good.json|record extra-arg
filter-negative.json|list
filter-since.json|list
filter-array.json|list
2mib.json|list
good.json|watch notanumber
good.json|query --since yesterday
good.json|query --limit many
EOF
}

contract_bad_input_fresh_store() {
  write_bad_inputs
  run_bad_inputs store_is_untouched
}

contract_bad_input_leaves_store_unchanged() {
  write_bad_inputs
  record '{"type":"first"}'
  record '{"type":"second"}'
  run --separate-stderr ev list <<<'{}'
  assert_status 0
  EVENTS_BEFORE=$output
  run_bad_inputs same_events_as_before
}

same_events_as_before() {
  [[ $(latest_seq) == 2 ]] || { fail "latest-seq changed to $(latest_seq)"; return 1; }
  run --separate-stderr ev list <<<'{}'
  [[ $output == "$EVENTS_BEFORE" ]] || fail "the events changed: $output"
}

# concurrent_records PROCS EACH — PROCS writer processes at once, each
# recording EACH events {"type":"load","actor":"pP","message":"pP-I"}, one
# process per record; fails if a writer failed or wrote to stderr.
concurrent_records() {
  local procs=$1 each=$2 p i pids=()
  for ((p = 1; p <= procs; p++)); do
    (
      for ((i = 1; i <= each; i++)); do
        "$EV" record <<<"{\"type\":\"load\",\"actor\":\"p$p\",\"message\":\"p$p-$i\"}" ||
          { echo "p$p-$i: exit $?" >>load.failures; exit 1; }
      done
    ) 3>&- 2>>load.err &
    pids+=($!)
  done
  local failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
  [[ $failed -eq 0 ]] || fail "$failed writer(s) failed: $(head -5 load.failures) $(head -5 load.err)"
  [[ ! -s load.err ]] || fail "writers wrote to stderr: $(head -5 load.err)"
}

# watched_in_order PID TOTAL — the watcher PID (writing watch.out) prints
# seqs 1..TOTAL, in order, once each, and is still running.
watched_in_order() {
  local watcher=$1 total=$2
  wait_for 60 has_lines watch.out "$total"
  kill -0 "$watcher" || fail "the watcher exited: $(cat watch.err)"
  run jq -s "[.[].seq] == [range(1; $total + 1)]" watch.out
  assert_status 0
  assert_equal "$output" "true" "watched seqs are 1..$total in order"
  assert_equal "$(line_count watch.out)" "$total" "watch output lines"
}

# 8 writer processes × FRACTA_TEST_LOAD_EACH records (default 500: the 4000 of
# the contract; every record is a process start, so this is the suite's
# slowest test — lower it for quick local runs).
contract_concurrent_record_and_watch() {
  local procs=${FRACTA_TEST_LOAD_PROCS:-8} each=${FRACTA_TEST_LOAD_EACH:-500}
  # The first event makes the watcher provably live before the load starts.
  record '{"type":"ready","actor":"test","message":"ready"}'
  start_bg "$EV" watch 0 >watch.out 2>watch.err
  local watcher=$BG_PID
  wait_for 10 has_lines watch.out 1

  concurrent_records "$procs" "$each"

  local total=$((procs * each + 1))
  run --separate-stderr ev list <<<'{}'
  assert_status 0
  local events=$output
  assert_json "length == $total" "$events"
  assert_json "[.[].seq] == [range(1; $total + 1)]" "$events"
  assert_json '[.[1:][].message] | unique | length == '"$((procs * each))" "$events"
  assert_json '[.[1:][] | select(.type != "load" or (.message | split("-")[0]) != .actor)] == []' "$events"
  assert_equal "$(latest_seq)" "$total" "latest-seq"

  watched_in_order "$watcher" "$total"
}

contract_concurrent_first_use() {
  # 8 writers race to create and migrate the store: all succeed, seqs 1..8.
  local p pids=() failed=0
  for p in 1 2 3 4 5 6 7 8; do
    "$EV" record <<<"{\"type\":\"first\",\"actor\":\"p$p\"}" 3>&- 2>>first.err &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
  [[ $failed -eq 0 ]] || fail "$failed of 8 first writers failed: $(cat first.err)"
  [[ ! -s first.err ]] || fail "first writers wrote to stderr: $(cat first.err)"
  run --separate-stderr ev list <<<'{}'
  assert_status 0
  assert_json '[.[].seq] == [range(1; 9)]'
  assert_json '[.[].actor] | unique | length == 8'
}

# sqlite_hold_write_lock DB — another process (the sqlite3 shell) takes the
# database's write lock, BEGIN IMMEDIATE, and keeps it until
# sqlite_release_write_lock. Only the file is touched, not fracta's schema.
sqlite_hold_write_lock() {
  require_cmd sqlite3 || return 1
  mkfifo holder.in
  exec {HOLDER_FD}<>holder.in
  start_bg sqlite3 "$1" <holder.in >holder.out 2>&1
  HOLDER_PID=$BG_PID
  printf '%s\n' 'BEGIN IMMEDIATE;' "SELECT 'held';" >&"$HOLDER_FD"
  wait_for 10 grep -qx held holder.out
}

sqlite_release_write_lock() {
  # .quit, not EOF: processes started since hold the FIFO open too.
  printf '%s\n' 'COMMIT;' '.quit' >&"$HOLDER_FD"
  wait_for 10 process_gone "$HOLDER_PID"
  exec {HOLDER_FD}>&-
  wait "$HOLDER_PID" || fail "the sqlite3 lock holder failed: $(cat holder.out)"
}

# waiting_on_or_gone PID FILE — PID has FILE open and sleeps (a busy
# handler's back-off), or PID has exited.
waiting_on_or_gone() {
  kill -0 "$1" 2>/dev/null || return 0
  [[ $(cat "/proc/$1/wchan" 2>/dev/null) == *nanosleep* ]] || return 1
  local fd
  for fd in /proc/"$1"/fd/*; do
    [[ $(readlink "$fd" 2>/dev/null) == "$2" ]] && return 0
  done
  return 1
}

# A record that meets another writer's lock waits for it (busy timeout), on
# an existing store and on its first use alike. $1: existing|fresh.
contract_record_waits_for_a_writer() {
  local db=${STORE_URL#sqlite:}
  if [[ $1 == existing ]]; then
    run --separate-stderr ev ensure-running
    assert_status 0
  fi
  sqlite_hold_write_lock "$db"
  start_bg "$EV" record <<<'{"type":"patient"}' >record.out 2>record.err
  local rec=$BG_PID
  # It meets the lock and waits: seen asleep (busy handler) with the store
  # open. Had it given up instead, it would be gone.
  wait_for 60 waiting_on_or_gone "$rec" "$db"
  kill -0 "$rec" 2>/dev/null || fail "record gave up while another writer held the lock: $(cat record.err)"
  sqlite_release_write_lock
  local rc=0
  wait "$rec" || rc=$?
  [[ $rc -eq 0 ]] || fail "record exited $rc while another writer held the lock, instead of waiting: $(cat record.err)"
  run --separate-stderr ev list <<<'{}'
  assert_status 0
  assert_json '[.[].type] == ["patient"]'
}

contract_query_and_tail() {
  record '{"type":"x","actor":"a","subject":"t1","message":"one"}'
  record '{"type":"y","actor":"a","subject":"t2"}'
  record '{"type":"x","actor":"b","subject":"t1"}'
  record '{"type":"x","actor":"b","subject":"t3"}'
  record '{"type":"y","actor":"b"}'

  # NDJSON: one object per line.
  run --separate-stderr ev query --subject t1
  assert_status 0
  assert_equal "${#lines[@]}" "2" "query --subject t1 lines"
  assert_json '.' "${lines[0]}"
  assert_equal "$(jq -sc '[.[].seq]' <<<"$output")" "[1,3]" "query --subject t1"
  assert_equal "$(jq -r .message <<<"${lines[0]}")" "one" "message"

  run --separate-stderr ev query --type x --limit 2
  assert_status 0
  assert_equal "$(jq -sc '[.[].seq]' <<<"$output")" "[3,4]" "query --type x --limit 2 (newest 2, ascending)"

  run --separate-stderr ev query --actor b --type y
  assert_status 0
  assert_equal "$(jq -sc '[.[].seq]' <<<"$output")" "[5]" "query --actor b --type y"

  run --separate-stderr ev query --since 1h
  assert_status 0
  assert_equal "$(jq -sc '[.[].seq]' <<<"$output")" "[1,2,3,4,5]" "query --since 1h"
  run --separate-stderr ev query --since 2000-01-01T00:00:00Z
  assert_status 0
  assert_equal "$(jq -sc '[.[].seq]' <<<"$output")" "[1,2,3,4,5]" "query --since 2000-01-01T00:00:00Z"
  run --separate-stderr ev query --since 2999-01-01T00:00:00Z
  assert_status 0
  assert_equal "$output" "" "query --since the future"
  run --separate-stderr ev query --after-seq 3
  assert_status 0
  assert_equal "$(jq -sc '[.[].seq]' <<<"$output")" "[4,5]" "query --after-seq 3"

  run --separate-stderr ev query --since yesterday
  assert_status 100
  assert_equal "$output" "" "stdout of a bad --since"
  assert_equal "${#stderr_lines[@]}" "1" "stderr lines of a bad --since"

  # tail: the last N, for people (not JSON), oldest first.
  run --separate-stderr ev tail -n 3
  assert_status 0
  assert_equal "${#lines[@]}" "3" "tail -n 3 lines"
  local line
  for line in "${lines[@]}"; do
    [[ $line != [\{\[]* ]] || fail "tail printed JSON: $line"
  done
  [[ ${lines[0]} =~ ^3[[:space:]] && ${lines[2]} =~ ^5[[:space:]] ]] || fail "tail -n 3 is not seqs 3..5: $output"
  [[ ${lines[0]} == *x* && ${lines[1]} == *x* && ${lines[2]} == *y* ]] || fail "tail lines lack the types: $output"

  run --separate-stderr ev --format text list <<<'{}'
  assert_status 0
  assert_equal "${#lines[@]}" "5" "--format text list lines"
  for line in "${lines[@]}"; do
    [[ $line != [\{\[]* ]] || fail "--format text list printed JSON: $line"
  done
  [[ ${lines[0]} =~ ^1[[:space:]] && ${lines[0]} == *one* ]] || fail "first text line: ${lines[0]}"
}

# A project with fracta.yaml whose runtime.state is the store under test
# (sqlite: the relative path .fracta/state.db; postgres: the DSN).
# Sets PROJECT; expect_in_project_store checks an event landed there.
make_project() {
  PROJECT=$BATS_TEST_TMPDIR/project
  mkdir -p "$PROJECT/sub/dir"
  if [[ $STORE_KIND == sqlite ]]; then
    printf 'runtime:\n  state:\n    driver: sqlite\n    sqlite: {path: .fracta/state.db}\n' >"$PROJECT/fracta.yaml"
    PROJECT_STORE="sqlite:$PROJECT/.fracta/state.db"
  else
    printf "runtime:\n  state:\n    driver: postgres\n    postgres: {dsn: '%s'}\n" "$STORE_URL" >"$PROJECT/fracta.yaml"
    PROJECT_STORE=$STORE_URL
  fi
}

# store_seq URL — latest-seq of the store at URL.
store_seq() {
  run --separate-stderr ev --store "$1" latest-seq
  assert_status 0 || return 1
  echo "$output"
}

# events.retention of the fracta.yaml that chose the store: each record
# keeps the newest N; seq keeps counting; a watcher behind the window exits 1
# with the expired line, one at its edge goes on with no gap.
contract_retention() {
  make_project
  printf 'events:\n  retention: 5\n' >>"$PROJECT/fracta.yaml"
  unset FRACTA_EVENTS_STORE
  cd "$PROJECT/sub/dir" || return 1
  local i
  for i in $(seq 1 12); do record "{\"type\":\"r$i\"}"; done
  assert_list '{}' '[8,9,10,11,12]'
  assert_equal "$(latest_seq)" "12" "latest-seq"

  run --separate-stderr ev watch 3
  assert_status 1
  assert_equal "$output" "" "stdout"
  assert_equal "$stderr" "fracta-events: error: watch 3: expired: the events after seq 3 were removed by events.retention (oldest kept: 8); start again from latest-seq"

  local first
  first=$(ev watch 7 | head -n 1 | jq .seq) || return 1
  assert_equal "$first" "8" "the first event a watcher at the window's edge gets"

  # The same store named by FRACTA_EVENTS_STORE: no fracta.yaml read, no retention.
  export FRACTA_EVENTS_STORE=$PROJECT_STORE
  for i in 13 14 15; do record "{\"type\":\"r$i\"}"; done
  assert_list '{}' '[8,9,10,11,12,13,14,15]'

  unset FRACTA_EVENTS_STORE
  printf 'events:\n  retention: -1\n' >"$PROJECT/fracta.yaml"
  run --separate-stderr ev latest-seq
  assert_status 100
  assert_equal "${#stderr_lines[@]}" "1" "stderr lines"
  [[ $stderr == *"events.retention: must be a non-negative integer"* ]] || fail "unexpected error: $stderr"
}

contract_store_precedence() {
  make_project
  local decoy_env="sqlite:$BATS_TEST_TMPDIR/decoy-env.db"
  cd "$PROJECT/sub/dir" || return 1

  # --store beats FRACTA_EVENTS_STORE and fracta.yaml.
  export FRACTA_EVENTS_STORE=$decoy_env
  run --separate-stderr ev --store "$STORE_URL" record <<<'{"type":"via-flag"}'
  assert_status 0
  assert_equal "$(store_seq "$STORE_URL")" "1" "events in --store"
  [[ ! -e $BATS_TEST_TMPDIR/decoy-env.db ]] || fail "--store did not beat FRACTA_EVENTS_STORE"
  if [[ $STORE_KIND == sqlite ]]; then
    [[ ! -e $PROJECT/.fracta/state.db ]] || fail "--store did not beat fracta.yaml"
  fi

  # FRACTA_EVENTS_STORE beats fracta.yaml.
  export FRACTA_EVENTS_STORE=$STORE_URL
  if [[ $STORE_KIND == postgres ]]; then
    # Point fracta.yaml elsewhere so the two can be told apart.
    printf 'runtime:\n  state:\n    driver: sqlite\n    sqlite: {path: .fracta/state.db}\n' >"$PROJECT/fracta.yaml"
  fi
  run --separate-stderr ev record <<<'{"type":"via-env"}'
  assert_status 0
  assert_equal "$(store_seq "$STORE_URL")" "2" "events in FRACTA_EVENTS_STORE"
  [[ ! -e $PROJECT/.fracta/state.db ]] || fail "FRACTA_EVENTS_STORE did not beat fracta.yaml"

  # fracta.yaml beats the default.
  unset FRACTA_EVENTS_STORE
  make_project
  run --separate-stderr ev record <<<'{"type":"via-yaml"}'
  assert_status 0
  [[ -z $stderr ]] || fail "unexpected stderr: $stderr"
  [[ ! -e $XDG_STATE_HOME/fracta/events.db ]] || fail "fracta.yaml did not beat the default store"
  if [[ $STORE_KIND == sqlite ]]; then
    [[ -f $PROJECT/.fracta/state.db ]] || fail "no $PROJECT/.fracta/state.db"
    assert_equal "$(store_seq "$PROJECT_STORE")" "1" "events in the project store"
  else
    assert_equal "$(store_seq "$STORE_URL")" "3" "events in fracta.yaml's postgres store"
  fi
  run --separate-stderr ev list <<<'{}'
  assert_status 0
  assert_json '.[-1].type == "via-yaml"'
}

contract_unknown_config_key_warns() {
  make_project
  printf 'frobnicate: 1\n' >>"$PROJECT/fracta.yaml"
  unset FRACTA_EVENTS_STORE
  cd "$PROJECT/sub" || return 1
  run --separate-stderr ev record <<<'{"type":"a"}'
  assert_status 0
  assert_equal "${#stderr_lines[@]}" "1" "stderr lines"
  [[ ${stderr_lines[0]} == "fracta-events: warning: "*fracta.yaml*frobnicate* ]] ||
    fail "expected a warning naming the key, got: $stderr"
  assert_equal "$(store_seq "$PROJECT_STORE")" "1" "events in the project store"
}

# -------------------------------------------------------------------- tests --

@test "sqlite: seq starts at 1 with no gaps; latest-seq matches list" { use_store sqlite; contract_seq_starts_at_1_no_gaps; }
@test "postgres: seq starts at 1 with no gaps; latest-seq matches list" { use_store postgres; contract_seq_starts_at_1_no_gaps; }

@test "sqlite: ensure-running creates an empty store" { use_store sqlite; contract_ensure_running_creates_store; }
@test "postgres: ensure-running creates an empty store" { use_store postgres; contract_ensure_running_creates_store; }

@test "sqlite: event fields round-trip; unknown fields and input seq ignored" { use_store sqlite; contract_fields_round_trip; }
@test "postgres: event fields round-trip; unknown fields and input seq ignored" { use_store postgres; contract_fields_round_trip; }

@test "sqlite: missing or Go-zero ts becomes now; explicit ts kept verbatim" { use_store sqlite; contract_ts; }
@test "postgres: missing or Go-zero ts becomes now; explicit ts kept verbatim" { use_store postgres; contract_ts; }

@test "sqlite: list filters (Go names, snake_case, since as time, subject, limit)" { use_store sqlite; contract_list_filters; }
@test "postgres: list filters (Go names, snake_case, since as time, subject, limit)" { use_store postgres; contract_list_filters; }

@test "sqlite: watch N replays seq > N, then streams new events" { use_store sqlite; contract_watch_replays_then_streams; }
@test "postgres: watch N replays seq > N, then streams new events" { use_store postgres; contract_watch_replays_then_streams; }

@test "sqlite: unknown op exits 2 silently; no op 100; --help lists ops; --version" { use_store sqlite; contract_cli_surface; }
@test "postgres: unknown op exits 2 silently; no op 100; --help lists ops; --version" { use_store postgres; contract_cli_surface; }

@test "sqlite: bad input exits 100 with one stderr line and creates no store" { use_store sqlite; contract_bad_input_fresh_store; }
@test "postgres: bad input exits 100 with one stderr line and creates no store" { use_store postgres; contract_bad_input_fresh_store; }

@test "sqlite: bad input leaves an existing store unchanged" { use_store sqlite; contract_bad_input_leaves_store_unchanged; }
@test "postgres: bad input leaves an existing store unchanged" { use_store postgres; contract_bad_input_leaves_store_unchanged; }

@test "sqlite: concurrent records get seqs 1..N, a live watcher sees them all in order" { use_store sqlite; contract_concurrent_record_and_watch; }
@test "postgres: concurrent records get seqs 1..N, a live watcher sees them all in order" { use_store postgres; contract_concurrent_record_and_watch; }

@test "sqlite: 8 concurrent first writers create the store once" { use_store sqlite; contract_concurrent_first_use; }
@test "postgres: 8 concurrent first writers create the store once" { use_store postgres; contract_concurrent_first_use; }

@test "sqlite: record waits for another writer's lock (existing store)" { use_store sqlite; contract_record_waits_for_a_writer existing; }
@test "sqlite: record waits for another writer's lock (first use of the store)" { use_store sqlite; contract_record_waits_for_a_writer fresh; }

@test "sqlite: query filters as NDJSON; tail and --format text print lines" { use_store sqlite; contract_query_and_tail; }
@test "postgres: query filters as NDJSON; tail and --format text print lines" { use_store postgres; contract_query_and_tail; }

@test "sqlite: --store beats FRACTA_EVENTS_STORE beats fracta.yaml beats the default" { use_store sqlite; contract_store_precedence; }
@test "postgres: --store beats FRACTA_EVENTS_STORE beats fracta.yaml beats the default" { use_store postgres; contract_store_precedence; }

@test "sqlite: events.retention keeps the newest N; a watcher behind them gets expired" { use_store sqlite; contract_retention; }
@test "postgres: events.retention keeps the newest N; a watcher behind them gets expired" { use_store postgres; contract_retention; }

@test "sqlite: an unknown key in fracta.yaml is a warning" { use_store sqlite; contract_unknown_config_key_warns; }
@test "postgres: an unknown key in fracta.yaml is a warning" { use_store postgres; contract_unknown_config_key_warns; }

# ------------------------------------------------------ store-independent --

@test "unreachable postgres exits 111 with one stderr line" {
  local url
  for url in 'postgresql://postgres@127.0.0.1:1/x' 'postgres://postgres@127.0.0.1:1/x?connect_timeout=5'; do
    run --separate-stderr ev --store "$url" latest-seq
    assert_status 111
    assert_equal "$output" "" "stdout"
    assert_equal "${#stderr_lines[@]}" "1" "stderr lines"
    run --separate-stderr ev --store "$url" record <<<'{"type":"a"}'
    assert_status 111
    assert_equal "${#stderr_lines[@]}" "1" "stderr lines of record"
  done
}

@test "default store is sqlite:\$XDG_STATE_HOME/fracta/events.db" {
  # $BATS_TEST_TMPDIR has no fracta.yaml above it (common_setup unset the env).
  local dir
  dir=$BATS_TEST_TMPDIR
  while [[ $dir != / ]]; do
    [[ ! -e $dir/fracta.yaml ]] || fail "$dir/fracta.yaml exists: cannot test the default store here"
    dir=$(dirname "$dir")
  done
  [[ ! -e /fracta.yaml ]] || fail "/fracta.yaml exists"
  run --separate-stderr ev record <<<'{"type":"default"}'
  assert_status 0
  [[ -f $XDG_STATE_HOME/fracta/events.db ]] || fail "no $XDG_STATE_HOME/fracta/events.db"
  assert_equal "$(store_seq "sqlite:$XDG_STATE_HOME/fracta/events.db")" "1" "events in the default store"
}

@test "a YAML syntax error in fracta.yaml exits 100 naming fracta.yaml:LINE:COL" {
  mkdir -p project/sub
  printf 'runtime:\n  state:\n    driver: sqlite: x\n' >project/fracta.yaml
  cd project/sub || return 1
  run --separate-stderr ev record <<<'{"type":"a"}'
  assert_status 100
  assert_equal "$output" "" "stdout"
  assert_equal "${#stderr_lines[@]}" "1" "stderr lines"
  [[ $stderr =~ fracta\.yaml:3:[0-9]+: ]] || fail "expected fracta.yaml:3:COL in: $stderr"
  [[ ! -e ../.fracta ]] || fail "a store was created despite the bad config"
}
