#!/usr/bin/env bats
# fracta-cp run and its signals, end to end: SIGHUP reloads the API token and
# the log level from fracta.yaml; SIGTERM drains (/readyz 503 while the API
# keeps answering), hands unfinished missions back with their leases
# released, and the next process adopts their sessions instead of starting
# them again. The provider is fracta-spawn-local behind a wrapper that
# writes down every `start` it is asked for.

load ../lib/common
load ../lib/cp

setup() {
  common_setup
  require_cmd curl git sqlite3
  counting_provider
  GO="$BATS_TEST_TMPDIR/go"
  # an agent that runs until the test says so
  UNTIL_GO="while [ ! -e '$GO' ]; do sleep 0.05; done; echo finished"
  CP_LOG="$BATS_TEST_TMPDIR/cp.log"
}

teardown() {
  cp_stop
  common_teardown
}

# cp_run [ARGS…] — `fracta-cp run` in $P in the foreground (stderr appended
# to $CP_LOG); CP_URL and CP_PID once it is ready.
cp_run() {
  local ready="$BATS_TEST_TMPDIR/ready.$RANDOM"
  cd "$P" || return 1
  start_bg "$CP" run --listen 127.0.0.1:0 --ready-fd 4 "$@" 4>"$ready" 2>>"$CP_LOG"
  CP_PID=$BG_PID
  cd "$BATS_TEST_TMPDIR" || return 1
  wait_for 30 grep -q '^ready ' "$ready" || { cat "$CP_LOG" >&2; return 1; }
  CP_URL=$(awk '{print $2}' "$ready")
}

# cp_wait_exit — wait for the daemon to exit; its exit status in CP_RC.
# (Not in a $(…) subshell: only this shell can wait for its child.)
cp_wait_exit() {
  CP_RC=0
  wait "$CP_PID" || CP_RC=$?
}

# yaml_set KEY-LINE-PATTERN NEW-LINE — replace the fracta.yaml line that
# starts with PATTERN (or append NEW-LINE when none does).
yaml_set() {
  if grep -q "^$1" "$P/fracta.yaml"; then
    sed -i "s|^$1.*|$2|" "$P/fracta.yaml"
  else
    echo "$2" >>"$P/fracta.yaml"
  fi
}

set_token() { yaml_set 'control_plane_api:' "control_plane_api: {listen: \"127.0.0.1:0\", token: $1}"; }
set_level() { yaml_set 'logging:' "logging: {level: $1}"; }

# api_as TOKEN METHOD PATH — prints the HTTP status
api_as() {
  local saved=${CP_TOKEN-}
  CP_TOKEN=$1
  api "$2" "$3" || { CP_TOKEN=$saved; return 1; }
  CP_TOKEN=$saved
  echo "$API_STATUS"
}
token_accepted() { [[ $(api_as "$1" GET /api/v1/agents) == 200 ]]; }

store() { sqlite3 "$P/.fracta/state.db" "$1"; }

@test "SIGHUP: the new control_plane_api.token is in force, the old one refused; removing it opens the API" {
  cp_project sqlite
  set_token old-secret-1
  cp_run
  assert_equal "$(api_as old-secret-1 GET /api/v1/agents)" 200 "old token before the reload"
  assert_equal "$(api_as new-secret-2 GET /api/v1/agents)" 401 "new token before the reload"

  set_token new-secret-2
  kill -HUP "$CP_PID"
  wait_for 30 token_accepted new-secret-2
  assert_equal "$(api_as old-secret-1 GET /api/v1/agents)" 401 "old token after the reload"
  assert_equal "$(api_as "" GET /api/v1/agents)" 401 "no token after the reload"
  grep -q 'reloaded: .*API token replaced' "$CP_LOG" || fail "no reload line" "$(cat "$CP_LOG")"
  grep -q 'secret' "$CP_LOG" && fail "a token reached the log: $(cat "$CP_LOG")"

  # a file that does not load keeps the running configuration
  echo 'control_plane_api: [' >>"$P/fracta.yaml"
  kill -HUP "$CP_PID"
  wait_for 30 grep -q 'reload: .*keeping the running configuration' "$CP_LOG"
  assert_equal "$(api_as new-secret-2 GET /api/v1/agents)" 200 "token after a failed reload"
  sed -i '$d' "$P/fracta.yaml"

  yaml_set 'control_plane_api:' 'control_plane_api: {listen: "127.0.0.1:0"}'
  kill -HUP "$CP_PID"
  wait_for 30 token_accepted ""
  kill -TERM "$CP_PID"
  cp_wait_exit
  assert_equal "$CP_RC" 0 "exit status"
}

@test "SIGHUP: FRACTA_CP_TOKEN stays in force over the file's token" {
  cp_project sqlite
  set_token file-secret-1
  FRACTA_CP_TOKEN=env-secret-0 cp_run
  set_token file-secret-2
  kill -HUP "$CP_PID"
  wait_for 30 grep -q 'reloaded: ' "$CP_LOG"
  assert_equal "$(api_as env-secret-0 GET /api/v1/agents)" 200 "the environment's token"
  assert_equal "$(api_as file-secret-2 GET /api/v1/agents)" 401 "the file's token"
}

@test "SIGHUP: logging.level changes what the running daemon logs" {
  cp_project sqlite
  set_level warn
  cp_run
  grep -q 'listening on' "$CP_LOG" && fail "an info line at level warn: $(cat "$CP_LOG")"

  set_level info
  kill -HUP "$CP_PID"
  # the reload's own line is at info: it shows only once the new level is in force
  wait_for 30 grep -q 'fracta-cp: info: reloaded: log level info' "$CP_LOG"

  # back to warn, then SIGTERM: the HUP is taken first (sigwait returns the
  # lowest pending signal), so neither its line nor the drain's may appear
  set_level warn
  kill -HUP "$CP_PID"
  kill -TERM "$CP_PID"
  cp_wait_exit
  assert_equal "$CP_RC" 0 "exit status"
  assert_equal "$(grep -c 'reloaded: ' "$CP_LOG")" 1 "reload lines"
  grep -q 'draining\|stopped' "$CP_LOG" && fail "info lines after going back to warn: $(cat "$CP_LOG")"
  return 0
}

@test "SIGTERM: /readyz answers 503 while draining, the API keeps answering, running work finishes, exit 0" {
  cp_project sqlite "  backend: exec:$COUNTING"
  cp_run --drain-timeout 10m
  spawn d1 "$UNTIL_GO"
  wait_for 60 status_is d1 Running
  expect_api 200 GET /readyz

  kill -TERM "$CP_PID"
  wait_for 30 expect_api 503 GET /readyz 2>/dev/null
  expect_api 200 GET /api/v1/agents/d1
  assert_equal "$(jq -r .agent.status <<<"$API_BODY")" Running "agent during the drain"
  api GET /metrics
  grep -q '^fracta_draining 1$' <<<"$API_BODY" || fail "fracta_draining is not 1: $API_BODY"

  touch "$GO"
  cp_wait_exit
  assert_equal "$CP_RC" 0 "exit status"
  assert_equal "$(store "SELECT status FROM agents WHERE name = 'd1'")" Completed "agent after the drain"
  assert_equal "$(store "SELECT status FROM missions WHERE task = 'd1'")" completed "mission after the drain"
}

@test "SIGTERM: unfinished work is handed back with its lease released; the next process adopts the session" {
  cp_project sqlite "  backend: exec:$COUNTING"
  cp_run --drain-timeout 0s
  local first=$CP_PID
  spawn h1 "$UNTIL_GO"
  wait_for 60 status_is h1 Running

  kill -TERM "$CP_PID"
  cp_wait_exit
  assert_equal "$CP_RC" 0 "exit status"
  assert_equal "$(store "SELECT status || ',' || claimed_by || ',' || lease_expires_at FROM missions WHERE task = 'h1'")" \
    "pending,," "mission after the drain (status, claimed_by, lease)"
  assert_equal "$(store "SELECT error FROM missions WHERE task = 'h1'")" "handed back at drain" "why"
  run "$FRACTA_BIN/fracta-spawn-local" is-running h1
  assert_status 0
  assert_equal "$output" true "the session outlives the drain"

  cp_run
  [[ $CP_PID != "$first" ]] || fail "the same process"
  wait_for 60 claimed_by_pid h1 "$CP_PID"
  touch "$GO"
  wait_agent h1 60
  assert_equal "$(agent_field h1 status)" Completed "agent"
  assert_equal "$(grep -c '^h1$' "$STARTS")" 1 "starts of h1"
}

claimed_by_pid() {
  [[ $(store "SELECT claimed_by FROM missions WHERE task = '$1' AND status = 'claimed'") == *"-$2-worker-"* ]]
}
