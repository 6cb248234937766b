#!/usr/bin/env bats
# fracta-reap: each step of a pass (spec init-and-reap.md) on real state made
# by the real control plane and provider — a pass fixes it, a second pass has
# nothing left to do, and --dry-run prints the same plan and changes nothing.
# Then the leader lock: two reapers on one store never both act.

load ../lib/common
load ../lib/cp

setup() {
  common_setup
  require_cmd git jq sqlite3
  REAP="$FRACTA_BIN/fracta-reap"
  SL="$FRACTA_BIN/fracta-spawn-local"
  # the control plane's own passes stay out of the way of the ones under test
  QUIET_CP="reaper: {interval: 1h}"
}

teardown() {
  cp_stop
  common_teardown
}

# reap [ARGS…] — one pass in the project; REAP_STATUS, REAP_OUT (its JSON lines)
reap() {
  local out
  out=$(cd "$P" && "$REAP" --once "$@")
  REAP_STATUS=$?
  REAP_OUT=$out
}

# did ACTION TASK [REASON-REGEX] — REAP_OUT has that action (once)
did() {
  jq -s -e --arg a "$1" --arg t "$2" --arg r "${3:-}" \
    '[.[] | select(.action == $a and .task == $t and (.reason | test($r)))] | length == 1' <<<"$REAP_OUT" >/dev/null
}

# plan_has ACTION TASK — a dry run plans that action (for wait_for)
plan_has() {
  reap --dry-run ${GRACE:+--grace "$GRACE"}
  did "$1" "$2"
}

# dry_then_real [ARGS…] — the plan, then the pass; both must say the same.
dry_then_real() {
  reap --dry-run "$@"
  assert_equal "$REAP_STATUS" 0 "dry run"
  DRY=$REAP_OUT
  reap "$@"
  assert_equal "$REAP_STATUS" 0 "pass"
  assert_equal "$REAP_OUT" "$DRY" "the pass did what the dry run planned"
}

# second_pass_is_empty [ARGS…]
second_pass_is_empty() {
  reap "$@"
  assert_equal "$REAP_STATUS" 0 "second pass"
  assert_equal "$REAP_OUT" "" "second pass"
}

db() { sqlite3 "$P/.fracta/state.db" "$1"; }
events_of() { db "SELECT type || ' ' || subject FROM events WHERE type LIKE 'reaper.%' ORDER BY seq"; }
supervisor_of() { jq -r .supervisor_pid "$P/.fracta/sessions/$1/state.json"; }
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

@test "lease: a claim whose control plane died goes back to the queue; dry run first changes nothing" {
  cp_project sqlite "$QUIET_CP"
  cp_start
  spawn a1 'exec sleep 300' >/dev/null
  wait_for 20 status_is a1 Running
  kill -9 "$CP_PID"
  wait_for 20 plan_has requeue a1
  # the dry run changed nothing
  assert_equal "$(db "SELECT status FROM missions WHERE task = 'a1'")" claimed
  assert_equal "$(events_of)" ""

  dry_then_real
  did requeue a1 "lease expired" || fail "no requeue: $REAP_OUT"
  assert_equal "$(db "SELECT status FROM missions WHERE task = 'a1'")" pending
  assert_equal "$(events_of)" "reaper.requeue a1"
  # the session runs on, and its agent is not lost: the next claim adopts it
  assert_equal "$(session_state a1)" running
  second_pass_is_empty
}

@test "lost: a Running agent whose supervisor was kill -9ed fails with reason lost, its processes gone" {
  cp_project sqlite "$QUIET_CP"
  cp_start
  spawn a1 'exec sleep 300' >/dev/null
  wait_for 20 status_is a1 Running
  local sup child
  sup=$(supervisor_of a1)
  child=$(jq -r .pgid "$P/.fracta/sessions/a1/state.json")
  kill -9 "$CP_PID"
  kill -9 "$sup"
  GRACE=5s wait_for 30 plan_has lost a1

  dry_then_real --grace 5s
  did lost a1 supervisor || fail "not lost: $REAP_OUT"
  db "SELECT status, reason FROM agents WHERE name = 'a1'" | grep -qx 'Failed|lost' || fail "agent: $(db "SELECT status, reason FROM agents")"
  wait_for 10 pid_gone "$child"
  second_pass_is_empty --grace 5s
}

@test "orphan: a session with no agent row is stopped and forgotten" {
  cp_project sqlite "$QUIET_CP"
  cp_start
  stray stray
  assert_equal "$(session_state stray)" running
  local sup
  sup=$(supervisor_of stray)

  dry_then_real
  assert_equal "$REAP_OUT" '{"action":"orphan","task":"stray","reason":"no agent \"stray\""}'
  assert_equal "$(session_state stray)" absent
  wait_for 10 pid_gone "$sup"
  assert_equal "$(events_of)" "reaper.orphan stray"
  second_pass_is_empty
}

@test "prune_events: with events.retention a pass keeps the newest N events; its own event stays inside" {
  cp_project sqlite "$QUIET_CP" "events: {retention: 5}"
  local i
  for i in $(seq 1 12); do  # named by FRACTA_EVENTS_STORE: fracta.yaml's retention is not applied
    FRACTA_EVENTS_STORE=$STORE_URL "$FRACTA_BIN/fracta-events" record <<<"{\"type\":\"t.$i\"}" || fail "record $i"
  done
  assert_equal "$(db 'SELECT COUNT(*) FROM events')" 12 "events before the pass"
  dry_then_real
  assert_equal "$REAP_OUT" '{"action":"prune_events","task":"-","reason":"7 events older than the newest 5 (events.retention)"}'
  assert_equal "$(db 'SELECT group_concat(seq) FROM events')" "9,10,11,12,13" "seqs kept"
  assert_equal "$(events_of)" "reaper.prune_events -"
  second_pass_is_empty
}

@test "max_age: an agent running longer than reaper.max_age is stopped" {
  cp_project sqlite "reaper: {max_age: 2s, interval: 1h}"
  cp_start
  spawn a1 'exec sleep 300' >/dev/null
  wait_for 20 status_is a1 Running
  wait_for 20 plan_has max_age a1

  dry_then_real
  did max_age a1 "^reaped: max_age" || fail "no max_age: $REAP_OUT"
  expect_api 200 GET /api/v1/agents/a1
  assert_json '.agent.status == "Stopped" and .agent.reason == "reaped: max_age"' "$API_BODY"
  [[ $(session_state a1) == exited ]] || fail "session: $(session_state a1)"
  second_pass_is_empty
}

@test "keep_terminal: ended agents lose their rows, sessions and worktrees; merged branches go, unmerged work stays" {
  cp_project sqlite "reaper: {keep_terminal: 1s, interval: 1h}"
  cp_start
  spawn done1 'true' >/dev/null
  spawn work1 'echo work >work.txt && git add work.txt && git commit -qm work' >/dev/null
  wait_agent done1
  wait_agent work1
  assert_json '.status == "Completed"' "$API_BODY"
  wait_for 20 plan_has remove done1
  wait_for 20 plan_has remove work1

  dry_then_real
  assert_equal "$(jq -r .action <<<"$REAP_OUT" | sort | uniq -c | tr -s ' ')" " 2 remove"
  expect_api 404 GET /api/v1/agents/done1
  expect_api 404 GET /api/v1/agents/work1
  [[ ! -e $P/.worktrees/done1 && ! -e $P/.worktrees/work1 ]] || fail "worktrees left: $(ls "$P/.worktrees")"
  [[ ! -e $P/.fracta/sessions/done1 && ! -e $P/.fracta/sessions/work1 ]] || fail "session state left"
  assert_equal "$(git -C "$P" worktree list | wc -l | tr -d ' ')" 1 "registered worktrees"
  run git -C "$P" rev-parse --verify -q feature/done1
  assert_status 1
  git -C "$P" rev-parse --verify -q feature/work1 >/dev/null || fail "the unmerged branch was deleted"
  assert_equal "$(db "SELECT COUNT(*) FROM missions")" 0
  second_pass_is_empty
}

@test "leader: a reaper finding the lock held skips its pass and does nothing" {
  cp_project sqlite "$QUIET_CP"
  cp_start
  stray stray
  # another reaper holds the lock (the same flock a pass takes)
  run flock --nonblock "$P/.fracta/state.db.reap.lock" bash -c "cd '$P' && '$REAP' --once"
  assert_status 0
  assert_equal "$output" '{"action":"skip","task":"","reason":"another reaper holds the lock"}'
  assert_equal "$(session_state stray)" running
  assert_equal "$(events_of)" ""
}

# many_strays N — N sessions with no agent row
many_strays() {
  local i
  for ((i = 1; i <= $1; i++)); do stray "stray-$i" || return 1; done
}

# gated_project KIND — cp_project whose provider is $GATE: fracta-spawn-local,
# except that a `list` made with REAP_GATE=FIFO in its environment (the
# first provider call of a pass, made holding the leader lock) writes its
# pid to FIFO.in and then waits until a line is written to FIFO. A pass in
# progress the test can see, and end, without any sleep.
gated_project() {
  GATE="$BATS_TEST_TMPDIR/gate-provider"
  cp_project "$1" "  backend: exec:$GATE" "$QUIET_CP" || return 1
  cat >"$GATE" <<SH
#!/bin/sh
if [ "\$1" = list ] && [ -n "\${REAP_GATE:-}" ]; then
  echo \$\$ >"\$REAP_GATE.tmp" && mv "\$REAP_GATE.tmp" "\$REAP_GATE.in"
  read -r _ <"\$REAP_GATE"
fi
FRACTA_STATE_DIR='$P/.fracta/sessions' exec '$SL' "\$@"
SH
  chmod +x "$GATE"
}

# two_reapers N — while a first pass is held inside its work, a second
# reaper skips and does nothing; then the first does every action (one
# orphan per stray, N of them) exactly once.
two_reapers() {
  local gate="$BATS_TEST_TMPDIR/gate"
  mkfifo "$gate"
  (cd "$P" && REAP_GATE=$gate exec "$REAP" --once >"$BATS_TEST_TMPDIR/r1.out") &
  local one=$!
  BG_PIDS+=("$one")
  wait_for 60 test -e "$gate.in"
  BG_PIDS+=("$(<"$gate.in")") # should the test fail before it lets the pass go
  reap
  assert_equal "$REAP_STATUS" 0 "the second reaper"
  assert_equal "$REAP_OUT" '{"action":"skip","task":"","reason":"another reaper holds the lock"}' "the second reaper"
  echo go >"$gate"
  wait "$one" || fail "reaper 1 failed: $(<"$BATS_TEST_TMPDIR/r1.out")"
  assert_equal "$(jq -r 'select(.action == "orphan") | .task' "$BATS_TEST_TMPDIR/r1.out" | sort | uniq -d)" "" "done twice"
  assert_equal "$(jq -r 'select(.action == "orphan") | .task' "$BATS_TEST_TMPDIR/r1.out" | sort -u | wc -l | tr -d ' ')" "$1"
}

@test "leader: a second reaper during a pass on sqlite skips; the pass acts once" {
  gated_project sqlite
  cp_start
  many_strays 12
  two_reapers 12
  assert_equal "$(db "SELECT COUNT(*) FROM events WHERE type = 'reaper.orphan'")" 12
}

@test "leader: a second reaper during a pass on Postgres skips; the pass acts once; a held advisory lock skips" {
  require_cmd psql
  gated_project postgres
  cp_start
  many_strays 12
  two_reapers 12
  assert_equal "$(psql -Atq "$STORE_URL" -c "SELECT COUNT(*) FROM events WHERE type = 'reaper.orphan'")" 12
  # another session holds the advisory lock: skip
  coproc HOLD { psql -Atq "$STORE_URL" -c "SELECT pg_advisory_lock(7142038)" -c "SELECT 'held'" -c "SELECT pg_sleep(60)"; }
  read -r -t 20 line <&"${HOLD[0]}"   # the lock's own row
  read -r -t 20 line <&"${HOLD[0]}"
  assert_equal "$line" held
  many_strays 1
  reap
  assert_equal "$REAP_OUT" '{"action":"skip","task":"","reason":"another reaper holds the lock"}'
  kill "$HOLD_PID" 2>/dev/null
}

@test "fracta-cp runs a pass every reaper.interval" {
  cp_project sqlite "reaper: {interval: 1s, keep_terminal: 1s}"
  cp_start
  spawn done1 'true' >/dev/null
  wait_agent done1
  wait_for 30 agent_gone done1
  [[ ! -e $P/.worktrees/done1 ]] || fail "worktree left"
  grep -q 'reaper: {"action":"remove","task":"done1"' "$P/.fracta/controlplane.log" || fail "not logged: $(cp_log)"
}

agent_gone() { api GET /api/v1/agents/"$1" && [[ $API_STATUS == 404 ]]; }
