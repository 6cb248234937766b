#!/usr/bin/env bats
# The control plane's tokens (fracta-cp(1) "Authentication"): the admin token
# may do everything, the read-only one only read (list, get, peek, logs,
# events, watch, wait), and an address that keeps failing to authenticate
# gets 429 while other clients go on.

load ../lib/common
load ../lib/cp

setup() {
  common_setup
  require_cmd curl git
  ADMIN=$(openssl rand -hex 32)
  READER=$(openssl rand -hex 32)
  export FRACTA_CP_TOKEN=$ADMIN FRACTA_CP_READ_TOKEN=$READER
}
teardown() { cp_stop; common_teardown; }

@test "a read-only token lists, gets and watches, and gets 403 on everything that changes something" {
  cp_project sqlite
  cp_start
  CP_TOKEN=$ADMIN spawn done-one 'echo hi'
  CP_TOKEN=$ADMIN wait_agent done-one
  CP_TOKEN=$ADMIN spawn running-one 'sleep 300'
  CP_TOKEN=$ADMIN wait_for 30 status_is running-one Running

  local reads=(
    "GET /api/v1/agents"
    "GET /api/v1/agents/done-one"
    "GET /api/v1/agents/done-one/events"
    "GET /api/v1/agents/done-one/watch"
    "GET /api/v1/agents/done-one/wait?timeout=1s"
    "GET /api/v1/agents/done-one/logs"
    "GET /metrics"
  )
  local writes=(
    "POST /api/v1/agents {\"task\":\"nope\",\"contract\":\"true\"}"
    "POST /api/v1/agents/running-one/say {\"message\":\"hi\"}"
    "DELETE /api/v1/agents/running-one"
    "POST /api/v1/agents/done-one/merge {}"
    "POST /api/v1/agents/done-one/events {\"type\":\"x\"}"
    "POST /api/v1/agents/done-one/intent {\"intent\":\"x\"}"
    "GET /api/v1/agents/done-one/inbox"
    "POST /api/v1/messages {\"to\":\"done-one\",\"body\":\"x\"}"
    "POST /api/v1/auth/verify {\"task\":\"done-one\",\"token\":\"x\"}"
  )
  local line method path body
  for line in "${reads[@]}"; do
    read -r method path <<<"$line"
    CP_TOKEN=$READER expect_api 200 "$method" "$path"
  done
  for line in "${writes[@]}"; do
    read -r method path body <<<"$line"
    CP_TOKEN=$READER expect_api 403 "$method" "$path" "$body"
    assert_json '.error == "this token is read-only"' "$API_BODY"
  done
  # nothing changed: no agent "nope", the running one still runs
  CP_TOKEN=$ADMIN expect_api 404 GET /api/v1/agents/nope
  CP_TOKEN=$ADMIN status_is running-one Running || fail "the read-only kill went through"
  # the admin token does what the read-only one may not; a third token nothing
  CP_TOKEN=$ADMIN expect_api 200 DELETE /api/v1/agents/running-one
  CP_TOKEN=$(openssl rand -hex 32) expect_api 401 GET /api/v1/agents
  run grep -c -e "$ADMIN" -e "$READER" "$P/.fracta/controlplane.log"
  assert_equal "$output" 0 "tokens in the log"
}

@test "an address failing to authenticate gets 429 after the limit, with the right token too; others go on" {
  CP_API='auth_rate_limit: {failures: 20, window: 10m}' cp_project sqlite
  cp_start
  local urls=() i
  for ((i = 0; i < 100; i++)); do urls+=(-o /dev/null "$CP_URL/api/v1/agents"); done
  # 100 wrong tokens from 127.0.0.1, as fast as one curl sends them
  run curl -s -w '%{http_code}\n' -H "Authorization: Bearer wrong-$RANDOM" "${urls[@]}"
  assert_status 0
  assert_equal "$(sort <<<"$output" | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')" "401x20 429x80 " "answers"
  # locked out, whatever it sends now, and told for how long
  run curl -s -D - -o /dev/null -H "Authorization: Bearer $ADMIN" "$CP_URL/api/v1/agents"
  [[ $output == "HTTP/1.1 429"* && $output == *$'\nRetry-After: '[0-9]* ]] || fail "the right token from a locked-out address: $output"
  # the front door says "try later" (111), not "give up"
  run --separate-stderr bash -c 'cd "$1" && FRACTA_CP_TOKEN=$2 "$3/fracta" list' _ "$P" "$ADMIN" "$FRACTA_BIN"
  assert_status 111
  [[ $stderr == "fracta: error: list: too many failed authentications from this address; retry in "* ]] || fail "the front door's error: $stderr"
  # another address (127.0.0.2 is loopback too) is served, and open routes stay open
  run curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -H "Authorization: Bearer $ADMIN" "$CP_URL/api/v1/agents"
  assert_equal "$output" 200 "another client"
  run curl -s -o /dev/null -w '%{http_code}' "$CP_URL/healthz"
  assert_equal "$output" 200 "healthz from the locked-out address"
  # logged once, with the address and never the token
  wait_for 10 grep -q "20 failed authentications from 127.0.0.1 within 600s" "$P/.fracta/controlplane.log"
  assert_equal "$(grep -c 'failed authentications' "$P/.fracta/controlplane.log")" 1 "log lines"
  run grep -c -e "wrong-" -e "$ADMIN" "$P/.fracta/controlplane.log"
  assert_equal "$output" 0 "tokens in the log"
}
