#!/usr/bin/env bats
# Nothing queued is lost and nothing is started twice: the control plane
# killed with -9 mid-run, its Postgres restarted mid-run, two replicas
# sharing one queue. The provider is fracta-spawn-local behind a wrapper
# that writes down every `start` it is asked for.

load ../lib/common
load ../lib/cp

setup() {
  common_setup
  require_cmd curl git
  counting_provider
  OWN_PG=""
}

teardown() {
  cp_stop
  common_teardown
  [[ -n $OWN_PG ]] && "$FRACTA_SOURCE/tests/lib/pg-fixture" stop "$OWN_PG" >/dev/null 2>&1
  return 0
}

# spawn_many PREFIX N CONTRACT — N agents PREFIX-1..N, through the API.
spawn_many() {
  local i
  for ((i = 1; i <= $2; i++)); do
    spawn "$1-$i" "$3" >/dev/null || return 1
  done
}

# settled N — N agents have ended, whichever way: a failure shows at once
# instead of running out the wait
settled() {
  local m
  m=$(curl -s "$CP_URL/metrics") || return 1
  awk -v n="$1" '$1 ~ /^fracta_agents\{status="(Completed|Failed|Stopped)"\}$/ { ended += $2 }
    END { exit !(ended == n) }' <<<"$m"
}
all_completed() {
  assert_equal "$(count_with_status Completed)" "$1" "agents Completed" || {
    api GET '/api/v1/agents?status=Failed'
    fail "failed: $(jq -c '[.agents[] | {name, reason}]' <<<"$API_BODY")"
  }
}
started_at_least() { (($(line_count "$STARTS") >= $1)); }

# every task started exactly once: N distinct names, no repeats
each_started_once() {
  local n dups
  n=$(sort -u "$STARTS" | wc -l)
  dups=$(sort "$STARTS" | uniq -d)
  [[ -z $dups ]] || { fail "started more than once: $dups"; return 1; }
  assert_equal "$n" "$1" "tasks started"
}

kill9_flow() {
  # Four workers, and sessions that run until the gate opens: workers only
  # start sessions, so all 100 run at once, followed by one thread. Leases
  # short enough that the killed daemon's claims come back soon. The agents
  # wait on a lock the test holds (no polling loop per agent).
  CP_QUEUE="workers: 4, lease_timeout: 2s, start_timeout: 30s, max_attempts: 100" \
    cp_project "$1" "  backend: exec:$COUNTING"
  cp_start
  local n=100 gate="$BATS_TEST_TMPDIR/gate" gate_fd
  : >"$gate"
  exec {gate_fd}>>"$gate"
  flock -x "$gate_fd"
  spawn_many k "$n" "flock -s '$gate' true; echo done"
  wait_for 300 running_count_is "$n"
  kill -9 "$CP_PID"
  wait_for 30 process_gone "$CP_PID"
  assert_equal "$(line_count "$STARTS")" "$n" "sessions started before the kill"
  # the daemons must not inherit the lock (it would stay held by them)
  cp_start {gate_fd}>&-
  # on Postgres a second replica takes part in the adoption
  if [[ $1 == postgres ]]; then
    cd "$P"
    cp_replica 2 {gate_fd}>&-
  fi
  exec {gate_fd}>&-
  wait_for 300 settled "$n"
  all_completed "$n"
  # the restarted daemon adopted them all, it did not start them again
  each_started_once "$n"
}

running_count_is() { (($(count_with_status Running) == $1)); }

@test "sqlite: kill -9 with 100 running (4 workers); after restart all are adopted and complete, none started twice" {
  kill9_flow sqlite
}

@test "postgres: kill -9 with 100 running (4 workers); after restart all are adopted and complete, none started twice" {
  kill9_flow postgres
}

@test "postgres: restarted mid-run, the control plane reconnects and finishes the work" {
  OWN_PG="/tmp/fracta-pg-restart-$$"
  own_pg "$OWN_PG"
  CP_PG_DSN=$OWN_PG_URL cp_project postgres "  backend: exec:$COUNTING"
  cp_start
  spawn_many r 30 'sleep 0.5; echo done'
  wait_for 120 started_at_least 6
  "$FRACTA_SOURCE/tests/lib/pg-fixture" down "$OWN_PG"
  # down until the control plane has seen it so
  wait_for 60 expect_api 503 GET /readyz 2>/dev/null
  "$FRACTA_SOURCE/tests/lib/pg-fixture" up "$OWN_PG" "$OWN_PG_PORT" 2>/dev/null
  wait_for 300 settled 30
  all_completed 30
  each_started_once 30
  expect_api 200 GET /readyz
}

# Two processes claim from one queue (SKIP LOCKED, LISTEN/NOTIFY). 120
# missions keep both replicas' four workers each busy at once for many
# rounds; more only costs time (500 took ctest past its limit on a loaded
# machine: at ~1 s of process work per mission, it crawled, it did not hang).
@test "postgres: two fracta-cp run processes drain 120 missions, each started exactly once" {
  cp_project postgres "  backend: exec:$COUNTING"
  rm -rf "$P/.git"  # plain workspaces: this is about the queue, not git
  cd "$P"
  cp_replica 1
  CP_URL=$REPLICA_URL
  cp_replica 2
  spawn_many d 120 'true'
  wait_for 600 settled 120
  all_completed 120
  each_started_once 120
  # both replicas did work
  local by
  by=$(psql "$STORE_URL" -qAt -c "SELECT COUNT(DISTINCT split_part(claimed_by, '-worker-', 1)) FROM missions")
  assert_equal "$by" "2" "replicas that completed missions"
}
