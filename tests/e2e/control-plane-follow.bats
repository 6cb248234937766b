#!/usr/bin/env bats
# How fracta-cp learns that its running agents ended (issue 20): from the
# one `watch` of fracta-spawn-local, whose line for an ended session carries
# `wait`'s answer. A burst of ends costs no provider process per agent — the
# cause of multi-second settle times once (tests/bench, section follow) — and
# each agent is still settled from its own exit status and output. How fast
# is the benchmark's to say, not this test's.

load ../lib/common
load ../lib/cp

setup() {
  common_setup
  require_cmd curl flock
  GATE="$BATS_TEST_TMPDIR/gate.lock"
  : >"$GATE"
  # fracta-spawn-local, recording each op it is run for (a line an op)
  OPS="$BATS_TEST_TMPDIR/ops"
  : >"$OPS"
  RECORDING="$BATS_TEST_TMPDIR/recording-provider"
  cat >"$RECORDING" <<SH
#!/bin/sh
echo "\$1 \$2" >>"$OPS"
exec "$FRACTA_BIN/fracta-spawn-local" "\$@"
SH
  chmod +x "$RECORDING"
}

teardown() {
  [[ -n ${GATE_FD:-} ]] && exec {GATE_FD}>&-
  cp_stop
  common_teardown
}

@test "a burst of ends is settled from the watch: no wait or is-running per agent; exit statuses and outputs kept" {
  CP_QUEUE="workers: 4, lease_timeout: 10s, start_timeout: 60s, max_attempts: 100" \
    cp_project sqlite "  backend: exec:$RECORDING" "reaper: {interval: 1h}"
  rm -rf "$P/.git"
  cp_start
  close_gate
  local i
  for ((i = 1; i <= 20; i++)); do
    spawn "b-$i" "flock -s '$GATE' true; echo done-$i" >/dev/null
  done
  spawn "b-fail" "flock -s '$GATE' true; echo failing; exit 3" >/dev/null
  wait_for 300 running_is 21
  # (a session handed to the follower before its watch has listed them all
  # is asked once with `wait NAME 0`: that is about starts, not ends)
  local before
  before=$(line_count "$OPS")
  open_gate
  wait_for 300 completed_is 20
  wait_for 60 status_is b-fail Failed
  run grep -c -E '^(wait|is-running) ' <(tail -n +$((before + 1)) "$OPS")
  assert_equal "$output" 0 "wait or is-running ops run for 21 ends"
  assert_equal "$(grep -c '^start ' "$OPS")" 21 "starts"
  api GET "/api/v1/agents/b-17"
  assert_equal "$(jq -r .agent.last_output <<<"$API_BODY")" "done-17" "an agent's output"
  assert_equal "$(jq -r .agent.exit_code <<<"$API_BODY")" 0 "its exit code"
  api GET "/api/v1/agents/b-fail"
  assert_equal "$(jq -r .agent.exit_code <<<"$API_BODY")" 3 "the failing agent's exit code"
  assert_equal "$(jq -r .agent.reason <<<"$API_BODY")" "shell exited with status 3" "its reason"
}
