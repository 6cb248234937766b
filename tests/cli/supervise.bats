#!/usr/bin/env bats
# `fracta-spawn-local supervise NAME --foreground --control ADDR -- CMD`: the
# supervisor as an agent pod runs it — in the foreground, its control API on
# a TCP port behind a bearer token, exiting with the command's status.

load ../lib/common
load ../lib/session

# state_has_field NAME FIELD — state.json has a non-empty FIELD (re-read on every call).
state_has_field() { [[ -n $(state_field "$1" "$2" 2>/dev/null) ]]; }

setup() { session_setup; }
teardown() { session_teardown; }

@test "supervise: a TCP control API needs the token, and the supervisor exits with the command's status" {
  local addr token=tok-$RANDOM$RANDOM
  FRACTA_SUPERVISOR_TOKEN=$token start_bg "$SL" supervise pod1 --foreground --control 127.0.0.1:0 \
    --workdir "$WD" -- sh -c 'echo started; echo "token:${FRACTA_SUPERVISOR_TOKEN:-unset}"
      while [ ! -e go ]; do sleep 0.05; done; exit 7'
  local sup=$BG_PID
  # It listens on a port of its choosing and says which in state.json.
  wait_for 10 state_has_field pod1 control
  addr=$(state_field pod1 control)
  wait_for 10 curl -fsS -o /dev/null -H "Authorization: Bearer $token" "http://$addr/v1/status"

  run curl -s -o /dev/null -w '%{http_code}' "http://$addr/v1/status"
  assert_equal "$output" 401 "status without the token"
  run curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" "http://$addr/v1/status"
  assert_equal "$output" 401 "status with a wrong token"
  run curl -s -H "Authorization: Bearer $token" "http://$addr/v1/status"
  assert_json '.state == "running" and .name == "pod1"'

  wait_for 10 peek_has pod1 "started"
  run sl peek pod1 0
  [[ $output == *"token:unset"* ]] || fail "the session saw the supervisor's token: $output"

  touch "$WD/go"  # let the command finish, with status 7
  local rc=0
  wait "$sup" || rc=$?
  assert_equal "$rc" 7 "the supervisor's exit status"
  run sl wait pod1 5
  assert_json '.state == "exited" and .exit_code == 7'
}

@test "supervise: --control without a token is refused (100) and nothing runs" {
  run --separate-stderr env -u FRACTA_SUPERVISOR_TOKEN "$SL" supervise pod2 --control 127.0.0.1:1 -- touch "$WD/ran"
  assert_status 100
  [[ $stderr == *FRACTA_SUPERVISOR_TOKEN* ]] || fail "stderr does not name the token: $stderr"
  [[ ! -e $WD/ran ]] || fail "the command ran"
}

@test "supervise: a second supervisor of a live session is refused" {
  start_session solo "$SLEEP_JSON"
  run --separate-stderr sl supervise solo -- true
  assert_status 100
  [[ $stderr == *"already exists"* ]] || fail "stderr: $stderr"
}
