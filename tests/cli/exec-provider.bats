#!/usr/bin/env bats
# exec-provider: the session contract's conformance checks
# (tests/lib/provider-conformance.bash, shared with fracta-spawn-local and
# fracta-spawn-k8s) against a Gas City–style exec script,
# tests/fixtures/providers/minimal: the core ops only (start, stop,
# is-running, peek, list-running), every other op exit 2 — the kind of
# provider `runtime.backend: exec:PATH` hands to fracta-cp.

load ../lib/common
load ../lib/session
load ../lib/provider-conformance

setup() {
  common_setup
  export GC_EXEC_STATE_DIR="$BATS_TEST_TMPDIR/exec-state"
  WD="$BATS_TEST_TMPDIR/wd"
  mkdir -p "$WD"
  CONF_SLEEP_JSON=$(jq -nc --arg wd "$WD" '{command: "sleep 300", work_dir: $wd}')
  CONF_READER_JSON=$CONF_SLEEP_JSON
}

# every session this test started is stopped (its whole process group)
teardown() {
  local f
  for f in "$GC_EXEC_STATE_DIR"/*.pid; do
    [[ -e $f ]] && conf_provider stop "$(basename "$f" .pid)" </dev/null
  done
  common_teardown
}

# EXEC_PROVIDER: another script to hold to the same checks
conf_provider() { "${EXEC_PROVIDER:-$FRACTA_SOURCE/tests/fixtures/providers/minimal}" "$@"; }
CONF_OPS=""
CONF_UNSUPPORTED="status process-alive meta input activity clear copy-to"

@test "conformance: start → is-running true; a duplicate start exits 1 with 'already exists'" { conf_check_start; }
@test "conformance: stop → is-running false; stop is idempotent" { conf_check_stop; }
@test "conformance: is-running on an unknown session is false; status exits 2" { conf_check_unknown; }
@test "conformance: list-running finds the session, filters by prefix, drops stopped ones" { conf_check_list_running; }
@test "conformance: peek; get-last-activity and clear-scrollback exit 2" { conf_check_peek; }
@test "conformance: process-alive exits 2" { conf_check_process_alive; }
@test "conformance: meta ops exit 2" { conf_check_meta; }
@test "conformance: send-keys, nudge and interrupt exit 2" { conf_check_input; }
@test "conformance: copy-to exits 2" { conf_check_copy_missing; }
@test "conformance: bad names exit 100; unknown ops and check-image exit 2" { conf_check_bad_input; }
@test "conformance: concurrent start, is-running, list-running, stop on 3 names" { conf_check_concurrent; }
