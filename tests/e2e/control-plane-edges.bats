#!/usr/bin/env bats
# The control plane at its edges: auth, metrics, bad input, providers that
# crash or hang, and a third-party (Gas City–style) provider.

load ../lib/common
load ../lib/cp

setup() { common_setup; require_cmd curl git sqlite3; }
teardown() { cp_stop; common_teardown; }

@test "auth: /api/v1 needs the bearer token; health, ready, metrics and openapi stay open" {
  export FRACTA_CP_TOKEN=s3cret-token-for-tests
  cp_project sqlite
  cp_start
  expect_api 401 GET /api/v1/agents
  assert_json '.error | length > 0' "$API_BODY"
  CP_TOKEN=wrong expect_api 401 GET /api/v1/agents
  CP_TOKEN=$FRACTA_CP_TOKEN expect_api 200 GET /api/v1/agents
  CP_TOKEN=$FRACTA_CP_TOKEN expect_api 201 POST /api/v1/agents '{"task":"x","contract":"true"}'
  expect_api 401 POST /api/v1/agents '{"task":"y","contract":"true"}'
  for path in /healthz /readyz /metrics /openapi.json; do
    expect_api 200 GET "$path"
  done
  # the token never reaches the log
  ! grep -q s3cret "$P/.fracta/controlplane.log"
}

@test "metrics: promtool accepts /metrics, and the counts follow the agents" {
  require_cmd promtool
  cp_project sqlite
  cp_start
  spawn ok 'true'
  spawn no 'exit 1'
  wait_agent ok
  wait_agent no
  curl -s "$CP_URL/metrics" >"$BATS_TEST_TMPDIR/metrics"
  run promtool check metrics <"$BATS_TEST_TMPDIR/metrics"
  assert_status 0
  grep -qx 'fracta_agents{status="Completed"} 1' "$BATS_TEST_TMPDIR/metrics"
  grep -qx 'fracta_agents{status="Failed"} 1' "$BATS_TEST_TMPDIR/metrics"
  grep -qx 'fracta_up 1' "$BATS_TEST_TMPDIR/metrics"
  grep -q '^fracta_http_requests_total{code="201"} 2$' "$BATS_TEST_TMPDIR/metrics"
}

# rows AGENTS MISSIONS — what the store holds.
rows() {
  local db=$P/.fracta/state.db
  assert_equal "$(sqlite3 "$db" 'SELECT COUNT(*) FROM agents')" "$1" "agent rows"
  assert_equal "$(sqlite3 "$db" 'SELECT COUNT(*) FROM missions')" "$2" "mission rows"
}

@test "bad input: clear errors, right status codes, no row half written" {
  cp_project sqlite
  cp_start
  spawn good 'true'
  local bad
  for bad in '{"task":"-dash","contract":"true"}' '{"task":"a/b","contract":"true"}' \
    '{"task":"'"$(printf 'x%.0s' {1..65})"'","contract":"true"}' '{"task":"","contract":"true"}' \
    '{"contract":"true"}' '{"task":7}' '{"task":"r","runtime":"nosuch","contract":"true"}' \
    '{"task":"m","mode":"sideways","contract":"true"}' '{"task":"t","tier":"huge","contract":"true"}' \
    '{"task":"e","contract":""}' '{"task":"l","labels":{"a":1},"contract":"true"}' \
    '{"task":"p","priority":"high","contract":"true"}' '{"task":"b","base_branch":"a..b","contract":"true"}' \
    '[1,2]' '{"task":"j","contract":'; do
    expect_api 400 POST /api/v1/agents "$bad"
    assert_json '(.error | type) == "string" and (.error | length > 0)' "$API_BODY"
  done
  expect_api 400 POST /api/v1/agents '{"task":"r","runtime":"nosuch","contract":"true"}'
  assert_json '.error | test("unknown runtime \"nosuch\"")' "$API_BODY"
  expect_api 409 POST /api/v1/agents '{"task":"good","contract":"true"}'
  assert_json '.error == "agent \"good\" already exists"' "$API_BODY"
  # oversized body: 413 before any handler runs
  head -c 2000000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big"
  run curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$BATS_TEST_TMPDIR/big" "$CP_URL/api/v1/agents"
  assert_equal "$output" "413" "oversized body"
  expect_api 404 GET /api/v1/nothing-here
  expect_api 405 PUT /api/v1/agents/good
  expect_api 404 GET /api/v1/agents/ghost
  assert_json '.error == "agent \"ghost\" not found"' "$API_BODY"
  expect_api 400 GET '/api/v1/agents?status=Sleeping'
  expect_api 400 GET '/api/v1/agents/good/peek?lines=many'
  expect_api 400 POST /api/v1/agents/good/say '{}'
  expect_api 400 POST /api/v1/messages '{"from":"a","to":"../x","message":"m"}'
  expect_api 404 POST /api/v1/messages '{"from":"a","to":"ghost","message":"m"}'
  expect_api 400 GET '/api/v1/agents/good/wait?timeout=forever'
  rows 1 1
  # the daemon is still serving
  wait_agent good
  assert_json '.status == "Completed"' "$API_BODY"
}

@test "a provider that crashes on start: the agent fails with its reason, the next one runs" {
  cat >"$BATS_TEST_TMPDIR/crashy" <<'SH'
#!/bin/sh
# crashes when asked to start "boom", otherwise the minimal provider
if [ "$1" = start ] && [ "$2" = boom ]; then echo "crashy: error: cannot start boom: out of widgets" >&2; exit 1; fi
exec "$FRACTA_SOURCE/tests/fixtures/providers/minimal" "$@"
SH
  chmod +x "$BATS_TEST_TMPDIR/crashy"
  export GC_EXEC_STATE_DIR="$BATS_TEST_TMPDIR/gc-state"
  cp_project sqlite "  backend: exec:$BATS_TEST_TMPDIR/crashy"
  cp_start
  spawn boom 'true'
  wait_agent boom
  assert_json '.status == "Failed" and (.reason | contains("out of widgets"))' "$API_BODY"
  spawn fine 'echo fine'
  wait_agent fine
  assert_json '.status == "Completed"' "$API_BODY"
}

@test "a provider that hangs on start: the agent fails after runtime.queue.start_timeout" {
  CP_QUEUE="lease_timeout: 20s, start_timeout: 1s" cp_project sqlite "  backend: exec:$FRACTA_SOURCE/tests/fixtures/providers/hang"
  cp_start
  spawn stuck 'true'
  wait_agent stuck 60
  assert_json '.status == "Failed" and (.reason | contains("timed out"))' "$API_BODY"
  # the daemon still answers
  expect_api 200 GET /readyz
}

@test "a third-party provider with only Gas City's ops runs agents to completion" {
  export GC_EXEC_STATE_DIR="$BATS_TEST_TMPDIR/gc-state"
  cp_project sqlite "  backend: exec:$FRACTA_SOURCE/tests/fixtures/providers/minimal"
  cp_start
  local t
  for t in one two three; do
    spawn "$t" "echo $t >$t.txt && git add $t.txt && git commit -qm $t && echo made-$t"
  done
  for t in one two three; do
    wait_agent "$t"
    assert_json ".status == \"Completed\" and (.last_output | contains(\"made-$t\"))" "$API_BODY"
    git -C "$P" show "feature/$t:$t.txt" | grep -qx "$t"
  done
  # kill through the provider's stop
  spawn slow 'exec sleep 60'
  wait_for 20 status_is slow Running
  expect_api 200 DELETE /api/v1/agents/slow
  run "$FRACTA_SOURCE/tests/fixtures/providers/minimal" is-running slow
  assert_equal "$output" "false" "the session after kill"
}

@test "sub-agents: parent recorded; max_children and max_depth refuse with a clear error" {
  cp_project sqlite "agents: {default_runtime: shell, max_children: 1, max_depth: 2}"
  sed -i '1d' "$P/fracta.yaml"
  cp_start
  spawn p1 'exec sleep 30'
  spawn c1 'exec sleep 30' '{parent: "p1"}'
  assert_equal "$(agent_field c1 parent)" "p1" "parent"
  expect_api 400 POST /api/v1/agents '{"task":"c2","contract":"true","parent":"p1"}'
  assert_json '.error | contains("max_children")' "$API_BODY"
  spawn g1 'exec sleep 30' '{parent: "c1"}'
  expect_api 400 POST /api/v1/agents '{"task":"gg","contract":"true","parent":"g1"}'
  assert_json '.error | contains("max_depth")' "$API_BODY"
  expect_api 400 POST /api/v1/agents '{"task":"orphan","contract":"true","parent":"nobody"}'
  assert_json '.error == "parent: agent \"nobody\" not found"' "$API_BODY"
  expect_api 404 GET /api/v1/agents/c2
  for t in g1 c1 p1; do expect_api 200 DELETE "/api/v1/agents/$t"; done
}

@test "bounded: agents.mailbox_max refuses a message to a full mailbox with 429; logging.max_bytes cuts controlplane.log" {
  cp_project sqlite "logging: {max_bytes: 20000}"
  sed -i '1s/}$/, mailbox_max: 2}/' "$P/fracta.yaml"  # on cp_project's agents: line
  # a log an earlier run left large: cut to its newest lines at the first line
  local i
  for i in $(seq 1 2000); do echo "old line $i of an earlier run"; done >"$P/.fracta/controlplane.log"
  cp_start
  spawn quiet 'exec sleep 30'
  expect_api 200 POST /api/v1/agents/quiet/say '{"message":"one"}'
  expect_api 201 POST /api/v1/messages '{"from":"a","to":"quiet","message":"two"}'
  expect_api 429 POST /api/v1/messages '{"from":"a","to":"quiet","message":"three"}'
  assert_json '.error == "the mailbox of \"quiet\" is full: 2 unread messages (agents.mailbox_max); it takes more once they are read"' "$API_BODY"
  expect_api 429 POST /api/v1/agents/quiet/say '{"message":"three"}'
  expect_api 200 GET /api/v1/agents/quiet/inbox
  assert_json '[.messages[].message] == ["one", "two"]' "$API_BODY"
  assert_equal "$(sqlite3 "$P/.fracta/state.db" "SELECT COUNT(*) FROM messages WHERE to_task = 'quiet'")" 0 "read messages kept"
  expect_api 201 POST /api/v1/messages '{"from":"a","to":"quiet","message":"four"}'

  local size
  size=$(stat -c %s "$P/.fracta/controlplane.log")
  (( size <= 20000 )) || fail "controlplane.log: $size bytes, above logging.max_bytes"
  grep -q "old line 2000 of an earlier run" "$P/.fracta/controlplane.log" || fail "the newest old line was cut"
  grep -q "old line 1 of" "$P/.fracta/controlplane.log" && fail "the oldest lines were kept"
  expect_api 200 DELETE /api/v1/agents/quiet
}

@test "gateway tokens: verify answers 200 for the agent, 403 for another agent's, 401 once killed" {
  cp_project sqlite
  cp_start
  spawn a 'echo "$FRACTA_GATEWAY_TOKEN" >token; exec sleep 30'
  spawn b 'exec sleep 30'
  wait_for 20 test -s "$P/.worktrees/a/token"
  local token
  token=$(<"$P/.worktrees/a/token")
  [[ ${#token} -ge 32 ]]
  # only the hash is stored
  local dump
  dump=$(sqlite3 "$P/.fracta/state.db" .dump)
  [[ $dump != *"$token"* ]] || fail "the agent's gateway token is stored in clear"
  [[ $dump == *"$(printf %s "$token" | sha256sum | cut -d' ' -f1)"* ]] || fail "the token's SHA-256 is not stored"
  expect_api 200 POST /api/v1/auth/verify "{\"task\":\"a\",\"token\":\"$token\"}"
  assert_json '.task == "a"' "$API_BODY"
  expect_api 403 POST /api/v1/auth/verify "{\"task\":\"b\",\"token\":\"$token\"}"
  expect_api 401 POST /api/v1/auth/verify '{"task":"a","token":"guess"}'
  expect_api 200 POST /api/v1/agents/a/intent '{"intent":"writing tests"}'
  assert_equal "$(agent_field a current_intent)" "writing tests" "intent"
  expect_api 200 DELETE /api/v1/agents/a
  expect_api 401 POST /api/v1/auth/verify "{\"task\":\"a\",\"token\":\"$token\"}"
  expect_api 200 DELETE /api/v1/agents/b
}
