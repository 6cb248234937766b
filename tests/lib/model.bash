# model.bash — the scripted model server (tests/model/server.mjs) in the bats
# suites, and the environment that points the real agent CLIs at it.
#
#   load ../lib/common
#   load ../lib/model
#
#   model_setup <SCRIPT          a model-* suite's setup: common_setup, curl
#                                and node, the script (stdin) in script.json,
#                                the server started on it
#   model_start SCRIPT.json      start a server for this test (killed in
#                                teardown by common_teardown); sets MODEL_URL,
#                                MODEL_LOG, MODEL_PID
#   model_stop                   stop it now (e.g. to restart with a new port)
#   model_turns [CONV]           the recorded model calls (one JSON per line),
#                                of conversation index CONV if given
#   model_calls_at_least N [CONV] true once N model calls were recorded
#   model_fingerprint SECRET     how the log records a credential header
#                                holding SECRET: <redacted sha256:XXXXXXXX>
#   agent_cli_path               prints tests/node_modules/.bin (the pinned CLIs)
#   claude_offline_env           exports what makes `claude` talk only to the
#                                server: ANTHROPIC_BASE_URL, a dummy key, no
#                                autoupdate or other traffic
#
# The CLIs are the real ones pinned in tests/package.json (`make deps`); a
# missing one fails the test, never skips it.

model_setup() {
  common_setup
  require_cmd curl node
  cat >script.json
  model_start script.json
}

model_start() {
  local script=$1
  require_cmd node || return 1
  [[ -f $script ]] || { fail "model_start: no script $script"; return 1; }
  MODEL_LOG=${MODEL_LOG:-$BATS_TEST_TMPDIR/model.log}
  local ready=$BATS_TEST_TMPDIR/model.ready.$RANDOM
  : >>"$MODEL_LOG"
  start_bg node "$FRACTA_SOURCE/tests/model/server.mjs" --script "$script" --log "$MODEL_LOG" --ready-file "$ready" \
    </dev/null 2>>"$BATS_TEST_TMPDIR/model.stderr"
  MODEL_PID=$BG_PID
  wait_for 60 model_ready_or_dead "$ready" || return 1
  [[ -s $ready ]] || { fail "model server exited: $(cat "$BATS_TEST_TMPDIR/model.stderr")"; return 1; }
  MODEL_URL=$(<"$ready")
  export MODEL_URL MODEL_LOG
}

model_ready_or_dead() {
  [[ -s $1 ]] || process_gone "$MODEL_PID"
}

model_stop() {
  [[ -n ${MODEL_PID:-} ]] || return 0
  kill "$MODEL_PID" 2>/dev/null || true
  wait "$MODEL_PID" 2>/dev/null || true
  MODEL_PID=""
}

model_turns() {
  if [[ -n ${1:-} ]]; then
    jq -c --argjson c "$1" 'select(.turn != null and .conversation == $c)' "$MODEL_LOG"
  else
    jq -c 'select(.turn != null)' "$MODEL_LOG"
  fi
}

model_calls_at_least() {
  local n
  n=$(model_turns "${2:-}" | wc -l)
  ((n >= $1))
}

model_fingerprint() {
  printf '<redacted sha256:%s>\n' "$(printf %s "$1" | sha256sum | cut -c1-8)"
}

agent_cli_path() {
  local bin=$FRACTA_SOURCE/tests/node_modules/.bin
  [[ -x $bin/claude && -x $bin/codex && -x $bin/opencode ]] ||
    { fail "the agent CLIs are not installed in $bin (run 'make deps' or 'cd tests && npm ci')"; return 1; }
  printf '%s\n' "$bin"
}

claude_offline_env() {
  [[ -n ${MODEL_URL:-} ]] || { fail "claude_offline_env: start the model server first"; return 1; }
  export ANTHROPIC_BASE_URL=$MODEL_URL
  export ANTHROPIC_API_KEY=${ANTHROPIC_API_KEY:-sk-ant-test-not-a-real-key}
  export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1
}
