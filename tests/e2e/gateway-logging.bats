#!/usr/bin/env bats
# fracta-gw serve logs as fracta.yaml's `logging` says: logging.format json
# gives one JSON object a line, logging.level drops what is below it
# (FRACTA_LOG_LEVEL overrides it), and SIGHUP reloads the level.

load ../lib/common
load ../lib/cp

setup() {
  common_setup
  require_cmd git
  GW_LOG="$BATS_TEST_TMPDIR/gw.log"
}

teardown() {
  cp_stop
  common_teardown
}

# gw_run — `fracta-gw serve` on the project's file, in the foreground; GW_PID
gw_run() {
  local ready="$BATS_TEST_TMPDIR/gw.ready.$RANDOM"
  start_bg "$FRACTA_BIN/fracta-gw" serve --config "$P/fracta.yaml" --listen 127.0.0.1:0 --ready-fd 4 \
    4>"$ready" 2>>"$GW_LOG"
  GW_PID=$BG_PID
  wait_for 20 grep -q '^ready ' "$ready" || { cat "$GW_LOG" >&2; return 1; }
}

# gw_stop — SIGTERM, then wait for the exit (a child of this shell: wait,
# not kill -0, which a zombie passes); GW_RC
gw_stop() {
  kill -TERM "$GW_PID"
  GW_RC=0
  wait "$GW_PID" || GW_RC=$?
}

set_logging() { sed -i "s|^logging:.*|logging: $1|" "$P/fracta.yaml"; }

# log_has JQ — some line of the log, parsed as JSON, satisfies JQ
log_has() { jq -e -s "any(.[]; $1)" "$GW_LOG" >/dev/null 2>&1; }

@test "logging.format json: every line is a JSON object; logging.level warn drops info; SIGHUP reloads the level" {
  # an unknown key: a warning at start, the one line level warn lets through
  cp_project sqlite 'logging: {level: warn, format: json}' 'bogus_key: 1'
  gw_run
  # every line parses, as an object of the gateway
  jq -e -s 'length >= 1 and all(.[]; .component == "fracta-gw" and (.ts | type) == "string")' "$GW_LOG" >/dev/null ||
    fail "not JSON lines of fracta-gw: $(cat "$GW_LOG")"
  log_has '.level == "warn" and (.msg | contains("bogus_key"))' || fail "no warning: $(cat "$GW_LOG")"
  log_has '.level == "info"' && fail "an info line at level warn: $(cat "$GW_LOG")"

  set_logging '{level: info, format: json}'
  kill -HUP "$GW_PID"
  wait_for 20 log_has '.level == "info" and .msg == "reloaded: log level info"'
  gw_stop
  assert_equal "$GW_RC" 0 "exit status"
  log_has '.level == "info" and .msg == "stopping"' || fail "no stopping line at info: $(cat "$GW_LOG")"
}

@test "logging: text lines by default; FRACTA_LOG_LEVEL outranks logging.level" {
  cp_project sqlite 'logging: {level: info}'
  gw_run
  grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+ fracta-gw: info: listening on ' "$GW_LOG" ||
    fail "no text info line: $(cat "$GW_LOG")"
  gw_stop
  assert_equal "$GW_RC" 0 "exit status"

  : >"$GW_LOG"
  FRACTA_LOG_LEVEL=warn gw_run
  gw_stop
  assert_equal "$GW_RC" 0 "exit status"
  grep -q 'info:' "$GW_LOG" && fail "info lines under FRACTA_LOG_LEVEL=warn: $(cat "$GW_LOG")"
  return 0
}
