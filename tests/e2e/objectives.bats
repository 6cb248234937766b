#!/usr/bin/env bats
# Objectives: admission under concurrency (one daemon on sqlite; two
# fracta-cp replicas on one Postgres), refusals named by their rule and
# recorded as objective.* events, and the circuit breaker.

load ../lib/common
load ../lib/cp

setup() {
  common_setup
  require_cmd curl git jq
}

teardown() {
  cp_stop
  common_teardown
}

# create_objective JSON — POST /api/v1/objectives; 201 or the test fails.
create_objective() {
  expect_api 201 POST /api/v1/objectives "$1"
}

# spawn_burst URL... — 50 spawns of the objective o1 at once, spread over
# the URLs; each answer's status code and body in $BURST/<i>.
spawn_burst() {
  BURST="$BATS_TEST_TMPDIR/burst"
  mkdir -p "$BURST"
  local urls=("$@") i pids=()
  for ((i = 1; i <= 50; i++)); do
    curl -sS -o "$BURST/$i.body" -w '%{http_code}' -H 'Content-Type: application/json' \
      --data-binary "{\"task\":\"m-$i\",\"contract\":\"true\",\"objective_id\":\"o1\"}" \
      "${urls[i % ${#urls[@]}]}/api/v1/agents" >"$BURST/$i.code" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || return 1; done
}

codes() { for f in "$BURST"/*.code; do cat "$f"; echo; done | sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd' '; }

# Exactly 20 admitted, 30 refused by max_missions, and the counters and
# events say the same.
assert_twenty_admitted() {
  assert_equal "$(codes)" "201=20 409=30" "answers to 50 spawns against max_missions 20"
  local rules
  rules=$(cat "$BURST"/*.body | jq -r 'select(.rule) | .rule' | sort -u)
  assert_equal "$rules" "max_missions" "the rule of every refusal"
  expect_api 200 GET /api/v1/objectives/o1
  assert_equal "$(jq -c '.objective | [.mission_count, .refused_count]' <<<"$API_BODY")" "[20,30]" "counters"
  expect_api 200 GET '/api/v1/agents'
  assert_equal "$(jq '[.agents[] | select(.objective_id == "o1")] | length' <<<"$API_BODY")" "20" "agents of o1"
}

@test "sqlite: 50 concurrent spawns against max_missions 20 admit exactly 20; refusals name the rule" {
  cp_project sqlite
  cp_start
  create_objective '{"id":"o1","description":"budget test","max_missions":20,"max_branching":0}'
  spawn_burst "$CP_URL"
  assert_twenty_admitted
  run "$FRACTA_BIN/fracta-events" --store "$STORE_URL" query --type objective.refused
  assert_status 0
  assert_equal "$(grep -c . <<<"$output")" "30" "objective.refused events"
}

@test "postgres: two fracta-cp replicas, 50 concurrent spawns against max_missions 20 admit exactly 20" {
  cp_project postgres
  cd "$P"
  cp_replica 1
  CP_URL=$REPLICA_URL
  cp_replica 2
  local other=$REPLICA_URL
  create_objective '{"id":"o1","description":"budget test","max_missions":20,"max_branching":0}'
  spawn_burst "$CP_URL" "$other"
  assert_twenty_admitted
  # both replicas admitted some
  local from_other
  from_other=$(for i in $(seq 1 2 50); do cat "$BURST/$i.code"; echo; done | grep -c 201)
  ((from_other > 0 && from_other < 20)) || fail "replica 2 admitted $from_other of 20"
}

# The breaker: with one agent running at a time (reaper.max_concurrent 1: a
# worker is free again once its agent runs, so the worker count holds
# nothing) the missions run in order, and the second failure freezes the
# objective before the third mission is claimed. The failing ones wait for
# a gate, so that all three are queued first.
@test "breaker: 2 failures in a row freeze the objective; queued stays queued, new refused; unfreeze resumes" {
  CP_QUEUE="workers: 1, lease_timeout: 3s, start_timeout: 60s, max_attempts: 100" cp_project sqlite "reaper: {max_concurrent: 1}"
  cp_start
  create_objective '{"id":"o1","description":"breaker","breaker":2}'
  local gate="$BATS_TEST_TMPDIR/gate"
  spawn f1 "until [ -e $gate ]; do sleep 0.1; done; exit 1" '{"objective_id":"o1"}'
  spawn f2 "until [ -e $gate ]; do sleep 0.1; done; exit 1" '{"objective_id":"o1"}'
  spawn f3 'true' '{"objective_id":"o1"}'
  touch "$gate"
  wait_agent f2
  wait_for 30 workers_idle
  expect_api 200 GET /api/v1/objectives/o1
  assert_equal "$(jq -r .objective.status <<<"$API_BODY")" "frozen"
  assert_equal "$(agent_field f3 status)" "Queued" "f3 while frozen"
  api POST /api/v1/agents '{"task":"f4","contract":"true","objective_id":"o1"}'
  assert_equal "$API_STATUS" "409"
  assert_equal "$(jq -r .rule <<<"$API_BODY")" "frozen"
  [[ $(jq -r .error <<<"$API_BODY") == *"objective frozen"* ]] || fail "refusal: $API_BODY"
  expect_api 200 POST /api/v1/objectives/o1/unfreeze
  assert_equal "$(jq -r .objective.status <<<"$API_BODY")" "open"
  wait_agent f3
  assert_equal "$(jq -r .status <<<"$API_BODY")" "Completed" "f3 after unfreeze"
  run "$FRACTA_BIN/fracta-events" --store "$STORE_URL" query --type objective.frozen
  assert_status 0
  assert_equal "$(grep -c . <<<"$output")" "1" "objective.frozen events"
  expect_api 409 POST /api/v1/objectives/o1/unfreeze
}

# objectives.approval manual: a proposal waits for a person; approve spawns
# it (a child of the proposer), reject ends it, and each is reviewed once.
@test "manual approval: proposals wait, approve spawns the child, reject refuses it; an agent of no objective cannot propose" {
  cp_project sqlite "objectives: {approval: manual}"
  cp_start
  cd "$P"
  run --separate-stderr "$FRACTA_BIN/fracta" objectives create --id o1 --description "manual"
  assert_status 0
  spawn lead 'sleep 300' '{"objective_id":"o1"}'
  spawn loner 'true'
  expect_api 202 POST /api/v1/agents/lead/proposals '{"task":"c1","contract":"true","dedupe_key":"one"}'
  assert_json '.status == "pending" and .proposal_id == 1' "$API_BODY"
  # a second proposal with the same dedupe_key is refused while the first is pending
  expect_api 409 POST /api/v1/agents/lead/proposals '{"task":"c9","contract":"true","dedupe_key":"one"}'
  assert_json '.rule == "dedupe" and .status == "refused"' "$API_BODY"
  expect_api 202 POST /api/v1/agents/lead/proposals '{"task":"c2","contract":"true"}'
  assert_json '.proposal_id == 3' "$API_BODY"  # the refused one is recorded too (2)
  run --separate-stderr "$FRACTA_BIN/fracta" proposals list --status pending
  assert_status 0
  assert_json '[.proposals[].task] == ["c1", "c2"]'
  run --separate-stderr "$FRACTA_BIN/fracta" proposals approve 1
  assert_status 0
  assert_json '.status == "admitted" and .agent == "c1"'
  wait_agent c1
  assert_json '.status == "Completed" and .parent == "lead" and .objective_id == "o1"' "$API_BODY"
  run --separate-stderr "$FRACTA_BIN/fracta" proposals reject 3 --note "not now"
  assert_status 0
  assert_json '.proposal.status == "rejected" and .proposal.review_note == "not now"'
  run --separate-stderr "$FRACTA_BIN/fracta" proposals approve 3
  assert_status 1
  [[ $stderr == *"rejected, not pending"* ]] || fail "approve twice: $stderr"
  expect_api 404 GET /api/v1/agents/c2
  expect_api 409 POST /api/v1/agents/loner/proposals '{"task":"c3","contract":"true"}'
  expect_api 200 GET /api/v1/objectives/o1
  assert_json '.objective.mission_count == 2 and .objective.refused_count == 1' "$API_BODY"
}
