#!/usr/bin/env bats
# The toolkit under faults (issue 8): the control plane kill -9ed in a burst
# of spawns, a provider call kill -9ed (or hung, or slow) in the middle of a
# start, a session supervisor kill -9ed, Postgres stopped for 10 s, the
# sqlite store's disk full. After recovery (restart what was killed, bring
# the database back, free the disk) and one `fracta-reap --once` pass, the
# same invariants hold every time (assert_recovered, tests/lib/faults.bash):
# every agent is terminal or genuinely running, no session ran twice, no
# process of an ended session is left, no worktree without its agent, and
# the event log runs 1..N without a gap.
#
# The provider is fracta-spawn-local behind a wrapper that writes down every
# start and injects the provider faults; `exec:` providers get their
# worktrees from fracta-cp itself, so both halves of worktree handling are
# under test.

load ../lib/common
load ../lib/cp
load ../lib/faults

setup() {
  common_setup
  require_cmd curl git jq sqlite3 psql xargs ps mount
  OWN_PG=""
  MNT=""
  CP_QUEUE="" # faults_project: the queue settings of a test
}

teardown() {
  # Sessions that still run end first, so the daemon's drain has nothing to wait for.
  local s
  if [[ -n ${FRACTA_STATE_DIR:-} ]]; then
    for s in $("$FRACTA_BIN/fracta-spawn-local" list-running "" 2>/dev/null); do
      "$FRACTA_BIN/fracta-spawn-local" stop "$s" >/dev/null 2>&1
    done
  fi
  cp_stop
  common_teardown
  [[ -n $OWN_PG ]] && "$FRACTA_SOURCE/tests/lib/pg-fixture" stop "$OWN_PG" >/dev/null 2>&1
  [[ -n $MNT ]] && umount -l "$MNT" 2>/dev/null
  return 0
}

agent_reason() { agent_field "$1" reason; }
supervisor_of() { jq -r .supervisor_pid "$P/.fracta/sessions/$1/state.json"; }

# plan_removes TASK… — a dry run would remove them all (their keep_terminal
# age has come): for wait_for, so the one real pass has them to remove.
plan_removes() {
  local out t
  out=$(cd "$P" && "$FRACTA_BIN/fracta-reap" --once --dry-run --grace 2s) || return 1
  for t in "$@"; do
    jq -e -s --arg t "$t" 'any(.[]; .action == "remove" and .task == $t)' <<<"$out" >/dev/null || return 1
  done
}

# --- kill -9 of fracta-cp during a burst of 200 spawns ----------------------

# Tasks b-50, b-100, b-150 and b-200 stay running; the rest finish at once.
BURST_CONTRACT='case "$FRACTA_SESSION" in *50|*00) exec sleep 300 ;; esac; echo done'

burst_flow() {
  CP_QUEUE="workers: 8, lease_timeout: 3s, start_timeout: 30s, max_attempts: 100" faults_project "$1"
  cp_start
  burst b 200 "$BURST_CONTRACT" 3>&- &
  local burster=$!
  wait_for 60 accepted_at_least 60
  kill -9 "$CP_PID"
  wait "$burster"
  local unanswered
  unanswered=$(grep -c -v ' 201$' "$BURST")
  ((unanswered > 0)) || { fail "the control plane died after the burst, not during it"; return 1; }
  cp_start
  # A client retries what got no answer: created now, or already there
  # (the daemon died between the commit and the reply).
  grep -v ' 201$' "$BURST" | cut -d' ' -f1 | post_all "$BURST_CONTRACT" "$BATS_TEST_TMPDIR/retry"
  local bad
  bad=$(grep -v -E ' (201|409)$' "$BATS_TEST_TMPDIR/retry") || true
  [[ -z $bad ]] || { fail "retried spawns refused: $bad"; return 1; }
  wait_for 240 no_agent_with_status Pending Queued
  # An agent's end reaches its row a moment after its session ended: wait
  # for the 196 that end at once.
  wait_for 60 count_is Completed 196 || assert_count Completed 196
  assert_count Running 4
  reap_pass
  assert_recovered --once
  assert_equal "$(awk '{print $1}' "$STARTS" | sort -u | wc -l | tr -d ' ')" 200 "tasks started"
}

@test "sqlite: kill -9 of fracta-cp during a burst of 200 spawns" {
  burst_flow sqlite
}

@test "postgres: kill -9 of fracta-cp during a burst of 200 spawns" {
  burst_flow postgres
}

# --- kill -9 of a worker's provider call ------------------------------------

provider_flow() {
  # The start budget outlasts the lease: a slow start (3 s) must not lose
  # its claim; the budget is ample, so that only the hung one runs it out.
  CP_QUEUE="workers: 8, lease_timeout: 2s, start_timeout: 20s, max_attempts: 100" faults_project "$1" "reaper: {interval: 1h, keep_terminal: 1s}"
  cp_start
  local t
  for t in pk-before-1 pk-after-1 pk-hang-1 pk-slow-1 ok-1; do
    spawn "$t" 'exec sleep 300' >/dev/null
  done
  spawn ok-2 'echo done' >/dev/null
  wait_for 60 no_agent_with_status Pending Queued
  wait_agent ok-2
  assert_json '.status == "Completed"' "$API_BODY"
  # The provider call died (or ran out of time) without an answer: the
  # agent fails with what the start said, and whatever it started is stopped.
  for t in pk-before-1 pk-after-1 pk-hang-1; do
    wait_for 120 status_is "$t" Failed
    [[ $(agent_reason "$t") == start:* ]] || { fail "$t: reason $(agent_reason "$t")"; return 1; }
  done
  [[ $(agent_reason pk-before-1) == *"signal 9"* ]] || fail "pk-before-1: $(agent_reason pk-before-1)"
  [[ $(agent_reason pk-hang-1) == *"timed out"* ]] || fail "pk-hang-1: $(agent_reason pk-hang-1)"
  # A slow start (longer than the lease, within its budget) runs, once.
  status_is pk-slow-1 Running || fail "pk-slow-1: $(agent_field pk-slow-1 status) $(agent_reason pk-slow-1)"
  status_is ok-1 Running
  wait_for 30 plan_removes pk-before-1 pk-after-1 pk-hang-1 ok-2
  reap_pass
  for t in pk-before-1 pk-after-1 pk-hang-1 ok-2; do
    expect_api 404 GET "/api/v1/agents/$t"
    [[ ! -e $P/.worktrees/$t ]] || { fail "worktree of $t left"; return 1; }
  done
  assert_recovered --once
}

@test "sqlite: kill -9 of a worker's provider call: Failed with a reason or Running once, never two sessions" {
  provider_flow sqlite
}

@test "postgres: kill -9 of a worker's provider call: Failed with a reason or Running once, never two sessions" {
  provider_flow postgres
}

# --- an adoption slower than the lease ---------------------------------------

adopt_flow() {
  # A claim holds its lease over its provider calls: here the adopting
  # claim's `status` takes twice the lease. Were the lease left to run out,
  # a second worker would claim the mission and adopt the session too; the
  # one that marked it Running second took it for a kill, stopped the
  # session and finished the mission, and the other dropped it as lost: a
  # row Running that nobody followed.
  CP_QUEUE="workers: 4, lease_timeout: 2s, start_timeout: 5s, max_attempts: 100" faults_project "$1"
  cp_start
  # The control plane dies once the session is there, before it is Running.
  printf '#!/bin/sh\nkill -9 %s\n' "$CP_PID" >"$BATS_TEST_TMPDIR/on-start/ad-1"
  chmod +x "$BATS_TEST_TMPDIR/on-start/ad-1"
  : >"$BATS_TEST_TMPDIR/slow-status/ad-1"
  # It runs well past the claims' churn there was (lost leases every 2 s,
  # each claim's calls taking 8 s): a second adopter stopped it then.
  spawn ad-1 'sleep 30; echo done' >/dev/null
  wait_for 30 process_gone "$CP_PID"
  cp_start
  wait_agent ad-1 90
  assert_json '.status == "Completed"' "$API_BODY"
  assert_equal "$(grep -c '^ad-1 ' "$STARTS")" 1 "starts of ad-1"
  reap_pass
  assert_recovered --once
}

@test "sqlite: an adoption slower than the lease: one claim adopts it, followed to Completed" {
  adopt_flow sqlite
}

@test "postgres: an adoption slower than the lease: one claim adopts it, followed to Completed" {
  adopt_flow postgres
}

# --- a supervisor killed ----------------------------------------------------

supervisor_flow() {
  faults_project "$1"
  cp_start
  local t
  for t in s-1 s-2 s-3; do spawn "$t" 'exec sleep 300' >/dev/null; done
  for t in s-1 s-2 s-3; do wait_for 30 status_is "$t" Running; done
  # s-1: its worker is following it
  kill -9 "$(supervisor_of s-1)"
  wait_for 30 status_is s-1 Failed
  # s-2: the control plane is dead too; its next claim finds the session lost
  kill -9 "$CP_PID"
  kill -9 "$(supervisor_of s-2)"
  wait_for 10 process_gone "$CP_PID"
  cp_start
  wait_for 30 status_is s-2 Failed
  status_is s-3 Running
  assert_equal "$(agent_reason s-1)" "session lost"
  assert_equal "$(agent_reason s-2)" "session lost"
  reap_pass
  assert_recovered --once
}

@test "sqlite: a supervisor kill -9ed, with and without its control plane: Failed, nothing of it left" {
  supervisor_flow sqlite
}

@test "postgres: a supervisor kill -9ed, with and without its control plane: Failed, nothing of it left" {
  supervisor_flow postgres
}

# --- Postgres stopped for 10 s ----------------------------------------------

@test "postgres: stopped for 10 s mid-run; the API says so, and everything recovers" {
  OWN_PG="/tmp/fracta-pg-faults-$$"
  own_pg "$OWN_PG"
  local port=$OWN_PG_PORT
  CP_PG_DSN=$OWN_PG_URL CP_QUEUE="workers: 6, lease_timeout: 3s, start_timeout: 30s, max_attempts: 100" faults_project postgres
  cp_start
  spawn d-long-1 'exec sleep 300' >/dev/null
  spawn d-long-2 'exec sleep 300' >/dev/null
  # The outage begins the moment d-6's session has started, before its
  # worker has written that down; others are running, queued, ending.
  cat >"$BATS_TEST_TMPDIR/on-start/d-6" <<SH
#!/bin/sh
cd / && '$FRACTA_SOURCE/tests/lib/pg-fixture' down '$OWN_PG' >/dev/null 2>&1
: >'$BATS_TEST_TMPDIR/pg-down'
SH
  chmod +x "$BATS_TEST_TMPDIR/on-start/d-6"
  local i
  for ((i = 1; i <= 20; i++)); do
    ((i == 6)) || spawn "d-$i" 'sleep 1; echo done' >/dev/null
  done
  spawn d-6 'sleep 1; echo done' '{"priority": 10}' >/dev/null # next in line
  wait_for 60 test -e "$BATS_TEST_TMPDIR/pg-down"
  expect_api 503 GET /readyz
  api POST /api/v1/agents '{"task": "d-during", "contract": "echo done"}'
  [[ $API_STATUS == 503 ]] || { fail "spawn with the store down: HTTP $API_STATUS $API_BODY"; return 1; }
  jq -e '.error | length > 0' <<<"$API_BODY" >/dev/null || fail "no error text: $API_BODY"
  sleep 10 # the outage itself
  (cd / && "$FRACTA_SOURCE/tests/lib/pg-fixture" up "$OWN_PG" "$port" 2>/dev/null)
  wait_for 30 expect_api 200 GET /readyz 2>/dev/null
  spawn d-during 'echo done' >/dev/null # it was refused, not half made
  wait_for 120 terminal_count_is 21
  assert_count Completed 21
  assert_count Running 2
  # d-6's worker could not record its start; the next claim adopted the session
  assert_equal "$(sql "SELECT message FROM events WHERE subject = 'd-6' AND type = 'lifecycle.running'")" \
    "session adopted" "d-6 running"
  reap_pass
  assert_recovered --once
}

# --- the sqlite store's disk full -------------------------------------------

@test "sqlite: the store's disk full: spawns fail with a clear error, nothing is corrupted, all recovers" {
  MNT="$BATS_TEST_TMPDIR/dbfs"
  mkdir -p "$MNT"
  mount -t tmpfs -o size=4m tmpfs "$MNT" ||
    { MNT=""; fail "cannot mount a tmpfs for the store (the disk-full case needs root with CAP_SYS_ADMIN)"; return 1; }
  faults_project sqlite "  state: {driver: sqlite, sqlite: {path: '$MNT/state.db'}}"
  STORE_URL="sqlite:$MNT/state.db"
  mkfifo "$P/.fracta/go" # f-end ends when told to
  cp_start
  spawn f-long 'exec sleep 300' >/dev/null
  spawn f-end 'read line <"$FRACTA_SESSION_DIR/../../go"; echo done' >/dev/null
  wait_for 30 status_is f-long Running
  wait_for 30 status_is f-end Running

  dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
  # The write-ahead log may still have room for a few; then every spawn is
  # refused, plainly.
  local i refused=""
  for ((i = 1; i <= 100; i++)); do
    api POST /api/v1/agents "$(jq -nc --arg t "f-full-$i" '{task: $t, contract: "echo done"}')"
    [[ $API_STATUS == 201 ]] && continue
    refused=$i
    break
  done
  [[ -n $refused ]] || { fail "100 spawns accepted on a full disk"; return 1; }
  [[ $API_STATUS == 503 || $API_STATUS == 507 ]] || { fail "spawn on a full disk: HTTP $API_STATUS $API_BODY"; return 1; }
  jq -e '.error | test("full")' <<<"$API_BODY" >/dev/null || { fail "unclear error: $API_BODY"; return 1; }
  expect_api 200 GET /api/v1/agents/f-long
  # a session ends while nothing can be written
  timeout 10 sh -c 'echo go >"$1"' _ "$P/.fracta/go"
  wait_for 30 bash -c '[[ $("$1" status f-end | jq -r .state) == exited ]]' _ "$FRACTA_BIN/fracta-spawn-local"

  rm -f "$MNT/filler"
  assert_equal "$(sqlite3 "$MNT/state.db" 'PRAGMA integrity_check')" ok "integrity"
  spawn "f-full-$refused" 'echo done' >/dev/null # it was refused, not half made
  wait_for 60 status_is f-end Completed
  # f-end and f-full-1..refused end; f-long runs on
  wait_for 60 terminal_count_is $((refused + 1))
  assert_count Completed $((refused + 1))
  assert_count Running 1
  reap_pass
  assert_recovered --once
  assert_equal "$(sqlite3 "$MNT/state.db" 'PRAGMA integrity_check')" ok "integrity"
}
