#!/usr/bin/env bats
# Real Claude Code agents under fracta, against the scripted model server
# (tests/model): what the CLI reports lands in the agent row, its events and
# /metrics; its API key comes from fracta.yaml and leaks nowhere; a check
# command and the CLI's own refusals keep an agent that did nothing from
# passing as a success; and the model's faults (429 then 200, 500 every
# time, a stream cut mid-message, no answer at all) and a CLI missing from
# PATH each end with a clear reason and nothing lost. On sqlite and Postgres.

load ../lib/common
load ../lib/cp
load ../lib/model

setup() {
  common_setup
  require_cmd curl git node
  CLI_BIN=$(agent_cli_path) || return 1
  # The key reaches claude only through fracta.yaml's secret_env: the
  # control plane's own environment holds it under another name.
  unset ANTHROPIC_API_KEY ANTHROPIC_BASE_URL
  KEY="sk-ant-h7-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')-secret"
  export FRACTA_TEST_CLAUDE_KEY=$KEY
}

teardown() {
  cp_stop
  common_teardown
}

# script FILE JSON — write a model script.
script() { printf '%s\n' "$2" >"$1"; }

# claude_project STORE [YAML…] — a project whose claude runtime is the real
# CLI pointed at the model server by base_url, its key from secret_env.
claude_project() {
  local store=$1
  shift
  mkdir -p "$BATS_TEST_TMPDIR/home"
  CP_AGENTS="agent_runtimes: {claude: {program: '$CLI_BIN/claude', base_url: '$MODEL_URL',
    secret_env: {ANTHROPIC_API_KEY: {env: FRACTA_TEST_CLAUDE_KEY}},
    env: {HOME: '$BATS_TEST_TMPDIR/home', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1',
          CLAUDE_CODE_MAX_RETRIES: '1'}}}" \
    cp_project "$store" 'gateway: {listen: "127.0.0.1:0", url: ""}' "$@"
}

spawn_claude() { # spawn_claude TASK [EXTRA-JSON]
  spawn "$1" "Work on task $1." "{\"runtime\": \"claude\"}${2:+ + $2}"
}

# The model calls of the test's one scripted conversation (its agent's).
calls_of() { model_turns 0; }
calls_at_least() { model_calls_at_least "$2" 0; }

# ---------------------------------------------------------------- results --

flow_results_and_secrets() {
  model_start_with "$BATS_TEST_TMPDIR/script.json" '{"conversations": [
    {"match": "task res1", "turns": [
      {"text": "Writing the file.", "tools": [{"name": "Bash", "input": {"command": "echo done >out.txt && while [ ! -e '"$BATS_TEST_TMPDIR"'/release ]; do sleep 0.1; done", "description": "write"}}],
       "usage": {"input_tokens": 1200, "output_tokens": 80}},
      {"text": "All done: out.txt written.", "usage": {"input_tokens": 1300, "output_tokens": 20}}]}],
    "fallback": {"text": "ok"}}'
  claude_project "$1" 'project: {allowed_tools: [Bash], check: "test -f out.txt"}'
  # Claude Code ignores a workspace's allow list until the repository the
  # worktree belongs to is trusted; this user has trusted it.
  jq -n --arg w "$P" '{projects: {($w): {hasTrustDialogAccepted: true}}}' \
    >"$BATS_TEST_TMPDIR/home/.claude.json"
  cp_start
  spawn_claude res1

  # While the agent's tool runs: its key is in the session's environment
  # (that is how it reached claude) and on no command line.
  wait_for 120 test -e "$P/.worktrees/res1/out.txt"
  local found="" env
  for env in /proc/[0-9]*/environ; do
    tr '\0' '\n' <"$env" 2>/dev/null | grep -qxF "ANTHROPIC_API_KEY=$KEY" && found+=" $(tr '\0' ' ' <"${env%environ}cmdline")"
  done
  [[ $found == *claude* ]] || fail "no claude process has the configured key in its environment: $found" || return 1
  run ps -eo args
  [[ $output != *"$KEY"* ]] || fail "the key is on a command line: $(grep -F -- "$KEY" <<<"$output")" || return 1
  touch "$BATS_TEST_TMPDIR/release"

  wait_agent res1 120
  local agent=$API_BODY
  assert_json '.status == "Completed" and .last_output == "All done: out.txt written." and (.resume_token | length) > 0' "$agent" || return 1
  # Claude Code's own numbers: two model calls, their tokens, a cost it computed.
  assert_json '.turns == 2 and .input_tokens >= 2500 and .output_tokens >= 100 and .cost_usd > 0' "$agent" || return 1
  assert_json '.check == "test -f out.txt"' "$agent" || return 1
  # The configured key was sent with every model call (the server records
  # a fingerprint of it).
  [[ $(calls_of | jq -r '.headers["x-api-key"]' | sort -u) == "$(model_fingerprint "$KEY")" ]] ||
    fail "model calls without the key: $(calls_of | jq -c .headers)" || return 1

  # fracta get shows them; the completed event carries them.
  run --separate-stderr bash -c 'cd "$1" && "$2/fracta" get res1' _ "$P" "$FRACTA_BIN"
  assert_status 0 || return 1
  assert_json '.agent.resume_token != "" and .agent.turns == 2 and .agent.cost_usd > 0' || return 1
  local get_output=$output
  expect_api 200 GET /api/v1/agents/res1/events
  local events=$API_BODY
  jq -e --argjson a "$agent" '[.events[] | select(.type == "lifecycle.completed")][0].payload
      | .session_id == $a.resume_token and .result == $a.last_output and .turns == 2
        and .input_tokens == $a.input_tokens and .output_tokens == $a.output_tokens and .cost_usd == $a.cost_usd' \
    <<<"$events" >/dev/null || fail "lifecycle.completed lacks the results: $events" || return 1
  # /metrics adds them up by runtime.
  local metrics
  metrics=$(curl -sS "$CP_URL/metrics")
  grep -Eq '^fracta_agent_tokens_total\{runtime="claude",direction="input"\} [1-9][0-9]*$' <<<"$metrics" &&
    grep -Eq '^fracta_agent_tokens_total\{runtime="claude",direction="output"\} [1-9][0-9]*$' <<<"$metrics" &&
    grep -Eq '^fracta_agent_cost_usd_total\{runtime="claude"\} 0\.[0-9]*[1-9][0-9]*$' <<<"$metrics" ||
    fail "metrics lack the claude usage: $(grep fracta_agent_ <<<"$metrics")" || return 1

  # The key is nowhere: no file under .fracta/ (store, logs, session state
  # and output), no file of the worktree, no event, no log line, no fracta
  # get output.
  cp_stop
  run grep -rlaF -- "$KEY" "$P/.fracta" "$P/.worktrees"
  assert_status 1 || { fail "the key is in: $output"; return 1; }
  [[ $events != *"$KEY"* && $get_output != *"$KEY"* ]] || fail "the key is in the events or fracta get" || return 1
  if [[ $1 == postgres ]]; then
    run psql "$STORE_URL" -qAt -c "SELECT * FROM events" -c "SELECT * FROM agents" -c "SELECT * FROM missions"
    assert_status 0 || return 1
    [[ $output == *lifecycle.completed* && $output != *"$KEY"* ]] || fail "the key is in the Postgres store" || return 1
  fi
}

# model_start_with FILE JSON — write the script, start the server on it.
model_start_with() { script "$1" "$2" && model_start "$1"; }

@test "claude: session id, text, turns, tokens and cost in the row, its event and /metrics; the key leaks nowhere (sqlite)" {
  flow_results_and_secrets sqlite
}

@test "claude: session id, text, turns, tokens and cost in the row, its event and /metrics; the key leaks nowhere (postgres)" {
  flow_results_and_secrets postgres
}

# ------------------------------------------------- check and refused tools --

flow_check_and_denials() {
  model_start_with "$BATS_TEST_TMPDIR/script.json" '{"conversations": [
    {"match": "task lazy1", "turns": [
      {"tools": [{"name": "Write", "input": {"file_path": "'"$BATS_TEST_TMPDIR"'/project/.worktrees/lazy1/out.txt", "content": "x\n"}}]},
      {"text": "Done, the file is written."}]}],
    "fallback": {"text": "ok"}}'
  claude_project "$1" 'project: {allowed_tools: [Bash], check: "true"}'
  cp_start
  # Write is not allowed: claude refuses it, tells the model, and still
  # exits 0 saying it is done. The check (given per spawn, over the
  # project's) sees that nothing was written.
  local check='test -f out.txt || { echo out.txt was never written; exit 4; }'
  run --separate-stderr bash -c 'cd "$1" && "$2/fracta" spawn lazy1 --runtime claude --contract "Work on task lazy1." --check "$3"' _ "$P" "$FRACTA_BIN" "$check"
  assert_status 0 || return 1
  wait_agent lazy1 120
  assert_json '.status == "Failed" and .reason == "check failed (exit 4): out.txt was never written"' "$API_BODY" || return 1
  assert_json '.last_output == "Done, the file is written." and .exit_code == 0' "$API_BODY" || return 1
  # The refusal reached the model as the tool's result...
  calls_of lazy1 | jq -e 'select(.turn == 1) | .body.messages | tostring | test("ermission")' >/dev/null ||
    fail "the model never heard of the refusal" || return 1
  # ...and is an event, before the end, that fracta watch shows.
  run --separate-stderr bash -c 'cd "$1" && "$2/fracta" watch lazy1' _ "$P" "$FRACTA_BIN"
  assert_status 0 || return 1
  local denied
  denied=$(jq -c 'select(.type == "agent.tool_denied")' <<<"$output")
  [[ -n $denied ]] || fail "fracta watch shows no agent.tool_denied: $output" || return 1
  assert_json '.payload.tool == "Write" and .payload.runtime == "claude" and (.payload.input | contains("out.txt")) and .subject == "lazy1"' "$denied" || return 1
  jq -se '[.[].type] | index("agent.tool_denied") < index("lifecycle.failed")' <<<"$output" >/dev/null ||
    fail "agent.tool_denied is not before the end: $output" || return 1
}

@test "claude: a refused tool is an agent.tool_denied event; a failing check fails the agent with its output (sqlite)" {
  flow_check_and_denials sqlite
}

@test "claude: a refused tool is an agent.tool_denied event; a failing check fails the agent with its output (postgres)" {
  flow_check_and_denials postgres
}

# ----------------------------------------------------------------- faults --

# fault_run STORE FAULT-JSON [SPAWN-EXTRA] — one agent `f1` whose first
# turn carries FAULT; then wait for it to end (API_BODY: the agent).
fault_run() {
  model_start_with "$BATS_TEST_TMPDIR/script.json" '{"conversations": [
    {"match": "task f1", "turns": [{"text": "Answered after all.", "fault": '"$2"'}]}],
    "fallback": {"text": "ok"}}'
  claude_project "$1"
  cp_start
  spawn_claude f1 "${3:-}"
  wait_agent f1 240
}

# Nothing lost: the worktree and branch stay for a look or a retry.
kept() {
  [[ -d $P/.worktrees/f1 ]] && git -C "$P" rev-parse -q --verify feature/f1 >/dev/null ||
    fail "the agent's worktree or branch is gone"
}

flow_rate_limit_then_ok() {
  fault_run "$1" '{"kind": "rate_limit", "times": 1}' || return 1
  assert_json '.status == "Completed" and .last_output == "Answered after all."' "$API_BODY" || return 1
  # the CLI's own retry went through fracta's session: 429, then the answer
  [[ $(calls_of f1 | jq -r .response | paste -sd' ') == "fault:rate_limit text" ]] ||
    fail "model calls: $(calls_of f1 | jq -c '{turn, response}')" || return 1
}

flow_server_error_every_time() {
  fault_run "$1" '{"kind": "server_error"}' || return 1
  assert_json '.status == "Failed" and (.reason | startswith("claude reported an error: API Error: 500"))' "$API_BODY" || return 1
  assert_json '.exit_code == 1 and .resume_token != ""' "$API_BODY" || return 1
  kept || return 1
  calls_at_least f1 2 || fail "claude did not retry the 500" || return 1
}

flow_stream_cut() {
  fault_run "$1" '{"kind": "cut"}' || return 1
  assert_json '.status == "Failed" and (.reason | test("claude reported an error: API Error: Connection"))' "$API_BODY" || return 1
  kept || return 1
}

flow_stream_cut_once() {
  fault_run "$1" '{"kind": "cut", "times": 1}' || return 1
  assert_json '.status == "Completed" and .last_output == "Answered after all."' "$API_BODY" || return 1
  [[ $(calls_of f1 | jq -r .response | paste -sd' ') == "fault:cut text" ]] ||
    fail "model calls: $(calls_of f1 | jq -c '{turn, response}')" || return 1
}

flow_model_hangs() {
  fault_run "$1" '{"kind": "hang"}' '{"timeout": "30s"}' || return 1
  assert_json '.status == "Failed" and .reason == "timeout" and .timeout == "30s"' "$API_BODY" || return 1
  calls_at_least f1 1 || fail "the model was never asked" || return 1
  kept || return 1
  # the session is stopped: nothing of it is left running
  run "$FRACTA_BIN/fracta-spawn-local" is-running f1
  assert_equal "$output" "false" "is-running after the timeout" || return 1
  run pgrep -f "$CLI_BIN/claude"
  assert_status 1 || { fail "claude still running: $output"; return 1; }
}

@test "claude: 429 then 200 completes through the CLI's own retry (sqlite)" { flow_rate_limit_then_ok sqlite; }
@test "claude: 429 then 200 completes through the CLI's own retry (postgres)" { flow_rate_limit_then_ok postgres; }
@test "claude: 500 every time fails, the reason names it (sqlite)" { flow_server_error_every_time sqlite; }
@test "claude: 500 every time fails, the reason names it (postgres)" { flow_server_error_every_time postgres; }
@test "claude: a stream cut mid-message every time fails with the reason (sqlite)" { flow_stream_cut sqlite; }
@test "claude: a stream cut mid-message every time fails with the reason (postgres)" { flow_stream_cut postgres; }
@test "claude: a stream cut once is retried and completes (sqlite)" { flow_stream_cut_once sqlite; }
@test "claude: a stream cut once is retried and completes (postgres)" { flow_stream_cut_once postgres; }
@test "claude: a model that never answers ends at the agent's timeout (sqlite)" { flow_model_hangs sqlite; }
@test "claude: a model that never answers ends at the agent's timeout (postgres)" { flow_model_hangs postgres; }

flow_cli_missing() {
  model_start_with "$BATS_TEST_TMPDIR/script.json" '{"conversations": [], "fallback": {"text": "ok"}}'
  CP_AGENTS="agent_runtimes: {claude: {program: claude-not-installed-h7}}" \
    cp_project "$1" 'gateway: {listen: "127.0.0.1:0", url: ""}'
  cp_start
  expect_api 400 POST /api/v1/agents '{"task": "m1", "runtime": "claude", "contract": "x"}' || return 1
  assert_json '.error == "runtime claude: program \"claude-not-installed-h7\" not found on PATH"' "$API_BODY" || return 1
  expect_api 404 GET /api/v1/agents/m1 || return 1
  # the front door says the same, with the usage exit code
  run --separate-stderr bash -c 'cd "$1" && "$2/fracta" spawn m1 --runtime claude --contract x' _ "$P" "$FRACTA_BIN"
  assert_status 100 || return 1
  [[ $stderr == *'program "claude-not-installed-h7" not found on PATH'* ]] || fail "stderr: $stderr" || return 1
  [[ $(jq -s length "$MODEL_LOG") == 0 ]] || fail "the model was called" || return 1
}

@test "a runtime whose CLI is not on PATH: the spawn is refused, naming the program (sqlite)" { flow_cli_missing sqlite; }
@test "a runtime whose CLI is not on PATH: the spawn is refused, naming the program (postgres)" { flow_cli_missing postgres; }
