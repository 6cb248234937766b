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
  STARTS="$BATS_TEST_TMPDIR/starts"
  : >"$STARTS"
  COUNTING="$BATS_TEST_TMPDIR/counting-provider"
  cat >"$COUNTING" <<SH
#!/bin/sh
[ "\$1" = start ] && echo "\$2" >>"$STARTS"
exec "$FRACTA_BIN/fracta-spawn-local" "\$@"
SH
  chmod +x "$COUNTING"
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

count_with_status() {
  api GET "/api/v1/agents?status=$1" || return 1
  jq '.agents | length' <<<"$API_BODY"
}
all_completed() { (($(count_with_status Completed) == $1)); }
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
  cp_project "$1" "  backend: exec:$COUNTING"
  sed -i 's/lease_timeout: 3s/lease_timeout: 2s/' "$P/fracta.yaml"
  cp_start
  spawn_many k 100 'sleep 0.3; echo done'
  wait_for 60 started_at_least 12
  kill -9 "$CP_PID"
  wait_for 10 process_gone "$CP_PID"
  local before
  before=$(line_count "$STARTS")
  cp_start
  wait_for 180 all_completed 100
  each_started_once 100
  (($(count_with_status Failed) == 0))
  (($(count_with_status Queued) == 0))
  # the restarted daemon did not start again what the killed one had started
  ((before >= 12))
}

@test "sqlite: kill -9 with 100 queued and some running; after restart all complete, none started twice" {
  kill9_flow sqlite
}

@test "postgres: kill -9 with 100 queued and some running; after restart all complete, none started twice" {
  kill9_flow postgres
}

@test "postgres: restarted mid-run, the control plane reconnects and finishes the work" {
  OWN_PG="/tmp/fracta-pg-restart-$$"
  local port=$((20000 + RANDOM % 20000))
  "$FRACTA_SOURCE/tests/lib/pg-fixture" start "$OWN_PG" "$port" 2>/dev/null
  CP_PG_DSN="postgresql://postgres@/postgres?host=$OWN_PG&port=$port" cp_project postgres "  backend: exec:$COUNTING"
  cp_start
  spawn_many r 30 'sleep 0.5; echo done'
  wait_for 60 started_at_least 6
  "$FRACTA_SOURCE/tests/lib/pg-fixture" down "$OWN_PG"
  sleep 2
  "$FRACTA_SOURCE/tests/lib/pg-fixture" up "$OWN_PG" "$port" 2>/dev/null
  wait_for 180 all_completed 30
  each_started_once 30
  expect_api 200 GET /readyz
}

@test "postgres: two fracta-cp run processes drain 500 missions, each started exactly once" {
  cp_project postgres "  backend: exec:$COUNTING"
  rm -rf "$P/.git"  # plain workspaces: this is about the queue, not git
  cd "$P"
  start_bg "$CP" run --listen 127.0.0.1:0 --ready-fd 4 4>"$BATS_TEST_TMPDIR/ready1" 2>"$BATS_TEST_TMPDIR/cp1.log"
  start_bg "$CP" run --listen 127.0.0.1:0 --ready-fd 4 4>"$BATS_TEST_TMPDIR/ready2" 2>"$BATS_TEST_TMPDIR/cp2.log"
  wait_for 30 grep -q ready "$BATS_TEST_TMPDIR/ready1"
  wait_for 30 grep -q ready "$BATS_TEST_TMPDIR/ready2"
  CP_URL=$(awk '{print $2}' "$BATS_TEST_TMPDIR/ready1")
  spawn_many d 500 'true'
  wait_for 600 all_completed 500
  each_started_once 500
  # both replicas did work
  local by
  by=$(psql "$STORE_URL" -qAt -c "SELECT COUNT(DISTINCT split_part(claimed_by, '-worker-', 1)) FROM missions")
  assert_equal "$by" "2" "replicas that completed missions"
}
