#!/usr/bin/env bats
# fracta-reap's modes: --every (a pass every DURATION until SIGTERM, which
# ends it with 0) and --format text (action task reason), on real sessions
# of the real local provider.

load ../lib/common
load ../lib/cp

setup() {
  common_setup
  require_cmd git jq
  REAP="$FRACTA_BIN/fracta-reap"
  SL="$FRACTA_BIN/fracta-spawn-local"
}
teardown() {
  cp_stop
  common_teardown
}

has_line() { grep -qxF "$2" "$1" 2>/dev/null; }

@test "--every: a pass every interval, each finding what appeared since; SIGTERM ends it with 0" {
  cp_project sqlite "reaper: {interval: 1h}"
  cp_start
  stray s1
  cd "$P"
  start_bg "$REAP" --every 200ms --format text >"$BATS_TEST_TMPDIR/reap.out" 2>"$BATS_TEST_TMPDIR/reap.err"
  local reaper=$BG_PID
  cd "$BATS_TEST_TMPDIR"
  wait_for 30 has_line "$BATS_TEST_TMPDIR/reap.out" 'orphan s1 no agent "s1"'
  # a stray that appears after the first pass is found by a later one
  stray s2
  wait_for 30 has_line "$BATS_TEST_TMPDIR/reap.out" 'orphan s2 no agent "s2"'
  assert_equal "$(session_state s1) $(session_state s2)" "absent absent" "the strays after the passes"
  kill -0 "$reaper" || fail "the reaper exited between passes: $(cat "$BATS_TEST_TMPDIR/reap.err")"
  kill -TERM "$reaper"
  local rc=0
  wait "$reaper" || rc=$?
  assert_equal "$rc" 0 "exit status after SIGTERM (stderr: $(cat "$BATS_TEST_TMPDIR/reap.err"))"
  # each action was done (and printed) exactly once
  assert_equal "$(cat "$BATS_TEST_TMPDIR/reap.out")" $'orphan s1 no agent "s1"\norphan s2 no agent "s2"' "the reaper's output"
  assert_equal "$(sqlite3 "$P/.fracta/state.db" "SELECT COUNT(*) FROM events WHERE type = 'reaper.orphan'")" 2 "reaper.orphan events"
}

@test "--format text: one 'action task reason' line per action, the same plan as json; a skip shows '-' for the task" {
  require_cmd flock
  cp_project sqlite "reaper: {interval: 1h}"
  cp_start
  stray s1
  cd "$P"
  run --separate-stderr "$REAP" --dry-run --format json
  assert_status 0
  assert_equal "$output" '{"action":"orphan","task":"s1","reason":"no agent \"s1\""}' "json plan"
  run --separate-stderr "$REAP" --dry-run --format text
  assert_status 0
  assert_equal "$output" 'orphan s1 no agent "s1"' "text plan"
  assert_equal "$(session_state s1)" running "after the dry runs"
  run --separate-stderr flock --nonblock "$P/.fracta/state.db.reap.lock" "$REAP" --once --format text
  assert_status 0
  assert_equal "$output" 'skip - another reaper holds the lock' "skipped pass"
  run --separate-stderr "$REAP" --format text
  assert_status 0
  assert_equal "$output" 'orphan s1 no agent "s1"' "the pass"
  assert_equal "$(session_state s1)" absent "after the pass"
  run --separate-stderr "$REAP" --format yaml
  assert_status 100
  assert_equal "$stderr" "fracta-reap: error: --format: use json or text"
  run --separate-stderr "$REAP" --every 0s
  assert_status 100
  run --separate-stderr "$REAP" --once --every 1s
  assert_status 100
}
