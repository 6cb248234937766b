#!/usr/bin/env bats
# Real coding-agent CLIs under fracta (Claude Code, and Codex and OpenCode
# for the faults and the key), against the scripted model server
# (tests/model): what Claude Code reports lands in the agent row, its events
# and /metrics; an API key given by fracta.yaml leaks nowhere; a check
# command and the CLI's own refusals keep an agent that did nothing from
# passing as a success; and the model's faults (429 then 200, 500 every
# time, a stream cut mid-message, no answer at all) and a CLI missing from
# PATH each end with a clear reason and nothing lost. Claude on sqlite and
# Postgres; Codex and OpenCode on sqlite. Codex and OpenCode's own results
# and refusals are in agents-codex.bats and agents-opencode.bats.

load ../lib/agents

setup() {
  common_setup
  require_cmd curl git node
  CLI_BIN=$(agent_cli_path) || return 1
  # The key reaches the CLI only through fracta.yaml's secret_env: the
  # control plane's own environment holds it under another name.
  unset ANTHROPIC_API_KEY ANTHROPIC_BASE_URL OPENAI_API_KEY OPENAI_BASE_URL
  KEY="sk-h7-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')-secret"
  export FRACTA_TEST_AGENT_KEY=$KEY
  RT=claude  # the runtime under test; a flow's caller may set another
}

teardown() {
  cp_stop
  common_teardown
}

# script FILE JSON — write a model script.
script() { printf '%s\n' "$2" >"$1"; }

# runtime_entry — $RT's agent_runtimes entry: the real CLI pointed at the
# model server by base_url, its key from secret_env, a HOME of the test's own.
runtime_entry() {
  local home=$BATS_TEST_TMPDIR/home key="{env: FRACTA_TEST_AGENT_KEY}"
  mkdir -p "$home"
  case $RT in
    claude) echo "claude: {program: '$CLI_BIN/claude', base_url: '$MODEL_URL', secret_env: {ANTHROPIC_API_KEY: $key},
      env: {HOME: '$home', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_MAX_RETRIES: '1'}}" ;;
    codex) echo "codex: {program: '$CLI_BIN/codex', base_url: '$MODEL_URL/v1', model: gpt-test,
      secret_env: {OPENAI_API_KEY: $key}, env: {HOME: '$home'}}" ;;
    opencode) echo "opencode: {program: '$CLI_BIN/opencode', base_url: '$MODEL_URL/v1', model: anthropic/claude-sonnet-4-5,
      secret_env: {ANTHROPIC_API_KEY: $key}, env: {HOME: '$home', OPENCODE_DISABLE_MODELS_FETCH: '1'}}" ;;
    *) fail "no runtime $RT"; return 1 ;;
  esac
}

# runtime_project STORE [YAML…] — a project whose $RT runtime is runtime_entry's.
runtime_project() {
  local store=$1 entry
  shift
  entry=$(runtime_entry) || return 1
  CP_AGENTS="agent_runtimes: {$entry}" cp_project "$store" 'gateway: {listen: "127.0.0.1:0", url: ""}' "$@"
}

spawn_agent() { # spawn_agent TASK [EXTRA-JSON]
  spawn "$1" "Work on task $1." "{\"runtime\": \"$RT\"}${2:+ + $2}"
}

# The model calls of the test's one scripted conversation (its agent's).
calls_of() { model_turns 0; }
calls_at_least() { model_calls_at_least "$2" 0; }

# ---------------------------------------------------------------- results --

# The usage each runtime reports of the results flow's two model calls
# (1200 + 1300 input tokens, 80 + 20 output, by the script): Claude Code its
# model calls, its tokens (the cache's counted in) and a cost it computed;
# Codex the sums, one turn per run and no cost; OpenCode the sums, a step per
# call and the cost from its price list (claude-sonnet-4-5: $3 and $15 per
# million).
declare -gA USAGE=(
  [claude]='.turns == 2 and .input_tokens >= 2500 and .output_tokens >= 100 and .cost_usd > 0'
  [codex]='.turns == 1 and .input_tokens == 2500 and .output_tokens == 100 and .cost_usd == null'
  [opencode]='.turns == 2 and .input_tokens == 2500 and .output_tokens == 100 and (.cost_usd - 0.009 | fabs) < 1e-9'
)
# The shell tool call of each CLI, running $1.
shell_call() {
  case $RT in
    claude) jq -nc --arg c "$1" '{name: "Bash", input: {command: $c, description: "write"}}' ;;
    codex) jq -nc --arg c "$1" '{name: "exec_command", input: {cmd: $c}}' ;;
    opencode) jq -nc --arg c "$1" '{name: "bash", input: {command: $c, description: "write"}}' ;;
  esac
}
# The variable the key reaches the CLI in.
declare -gA KEY_VAR=([claude]=ANTHROPIC_API_KEY [codex]=OPENAI_API_KEY [opencode]=ANTHROPIC_API_KEY)

flow_results_and_secrets() {
  model_start_with "$BATS_TEST_TMPDIR/script.json" '{"conversations": [
    {"match": "task res1", "turns": [
      {"text": "Writing the file.", "tools": ['"$(shell_call "echo done >out.txt && while [ ! -e $BATS_TEST_TMPDIR/release ]; do sleep 0.1; done")"'],
       "usage": {"input_tokens": 1200, "output_tokens": 80}},
      {"text": "All done: out.txt written.", "usage": {"input_tokens": 1300, "output_tokens": 20}}]}],
    "fallback": {"text": "ok"}}'
  runtime_project "$1" 'project: {allowed_tools: [Bash], check: "test -f out.txt"}'
  # Claude Code ignores a workspace's allow list until the repository the
  # worktree belongs to is trusted; this user has trusted it.
  jq -n --arg w "$P" '{projects: {($w): {hasTrustDialogAccepted: true}}}' \
    >"$BATS_TEST_TMPDIR/home/.claude.json"
  cp_start
  spawn_agent res1

  # While the agent's tool runs: its key is in the environment of the CLI
  # (that is how it reached it) and on no command line.
  wait_for 120 test -e "$P/.worktrees/res1/out.txt"
  # One grep over every environ (-z: NUL-separated entries), not two
  # processes per process: under load a slow scan outlasted the CLI's turn.
  local found="" env
  for env in $(grep -lzxF -- "${KEY_VAR[$RT]}=$KEY" /proc/[0-9]*/environ 2>/dev/null); do
    found+=" $(tr '\0' ' ' 2>/dev/null <"${env%environ}cmdline" || true)"
  done
  [[ $found == *"$RT"* ]] || fail "no $RT process has the configured key in its environment: $found" || return 1
  run ps -eo args
  [[ $output != *"$KEY"* ]] || fail "the key is on a command line: $(grep -F -- "$KEY" <<<"$output")" || return 1
  touch "$BATS_TEST_TMPDIR/release"

  wait_agent res1 120
  assert_json '.status == "Completed" and .last_output == "All done: out.txt written." and (.resume_token | length) > 0
    and .check == "test -f out.txt"' "$API_BODY" || return 1
  # The configured key was sent with every model call (the server records
  # a fingerprint of it).
  [[ $(calls_of | jq -r '.headers["x-api-key"] // .headers.authorization' | sort -u) == "$(model_fingerprint "$KEY")" ]] ||
    fail "model calls without the key: $(calls_of | jq -c .headers)" || return 1

  # fracta get shows the CLI's numbers; the completed event and /metrics carry them.
  # (not in a || list: its checks rely on set -e)
  cd "$P" || return 1
  usage_recorded res1 "$RT" "${USAGE[$RT]}"
  run --separate-stderr fracta get res1
  local get_output=$output
  expect_api 200 GET /api/v1/agents/res1/events
  local events=$API_BODY

  # The key is nowhere: no file under .fracta/ (store, logs, session state
  # and output), no file of the worktree, no event, no log line, no fracta
  # get output.
  cp_stop
  run grep -rlaF -- "$KEY" "$P/.fracta" "$P/.worktrees"
  assert_status 1 || { fail "the key is in: $output"; return 1; }
  [[ $events == *lifecycle.completed* && $events != *"$KEY"* && $get_output == *res1* && $get_output != *"$KEY"* ]] ||
    fail "the key is in the events or fracta get" || return 1
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

@test "codex: session id, text, turns and tokens (no cost) in the row, its event and /metrics; the key leaks nowhere (sqlite)" {
  RT=codex flow_results_and_secrets sqlite
}

@test "opencode: session id, text, turns, tokens and cost in the row, its event and /metrics; the key leaks nowhere (sqlite)" {
  RT=opencode flow_results_and_secrets sqlite
}

# ------------------------------------------------- check and refused tools --

flow_check_and_denials() {
  model_start_with "$BATS_TEST_TMPDIR/script.json" '{"conversations": [
    {"match": "task lazy1", "turns": [
      {"tools": [{"name": "Write", "input": {"file_path": "'"$BATS_TEST_TMPDIR"'/project/.worktrees/lazy1/out.txt", "content": "x\n"}}]},
      {"text": "Done, the file is written."}]}],
    "fallback": {"text": "ok"}}'
  runtime_project "$1" 'project: {allowed_tools: [Bash], check: "true"}'
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

# What each CLI's run leaves as the agent's reason when every answer is a
# 500, or is cut mid-message (regular expressions).
# Codex words a 5xx its own way and names no status; OpenCode gives the
# server's message, fracta adds the status it reports. A cut reaches
# OpenCode as one of two socket errors, by timing.
declare -gA REASON_500=(
  [claude]='^claude reported an error: API Error: 500'
  [codex]='^We.re currently experiencing high demand'
  [opencode]='^scripted server_error \(HTTP 500\)$'
)
declare -gA REASON_CUT=(
  [claude]='^claude reported an error: API Error: Connection'
  [codex]='^stream disconnected before completion'
  [opencode]='^Connection reset|socket connection was closed unexpectedly'
)

# fault_run STORE FAULT-JSON [SPAWN-EXTRA] — one $RT agent `f1` whose first
# turn carries FAULT; then wait for it to end (API_BODY: the agent).
fault_run() {
  model_start_with "$BATS_TEST_TMPDIR/script.json" '{"conversations": [
    {"match": "task f1", "turns": [{"text": "Answered after all.", "fault": '"$2"'}]}],
    "fallback": {"text": "ok"}}'
  runtime_project "$1"
  cp_start
  spawn_agent f1 "${3:-}"
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
  assert_json '.status == "Failed"' "$API_BODY" || return 1
  [[ $(jq -r .reason <<<"$API_BODY") =~ ${REASON_500[$RT]} ]] || fail "reason: $(jq .reason <<<"$API_BODY")" || return 1
  assert_json '.exit_code != 0' "$API_BODY" || return 1
  kept || return 1
  calls_at_least f1 2 || fail "$RT did not retry the 500" || return 1
}

flow_stream_cut() {
  fault_run "$1" '{"kind": "cut"}' || return 1
  assert_json '.status == "Failed"' "$API_BODY" || return 1
  [[ $(jq -r .reason <<<"$API_BODY") =~ ${REASON_CUT[$RT]} ]] || fail "reason: $(jq .reason <<<"$API_BODY")" || return 1
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
  run session_processes "$(realpath "$P")/.worktrees/f1"
  [[ -z $output ]] || { fail "processes left in the worktree: $output"; return 1; }
  run pgrep -f "$CLI_BIN/$RT"
  assert_status 1 || { fail "$RT still running: $output"; return 1; }
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
@test "codex: 429 then 200 completes through the CLI's own retry (sqlite)" { RT=codex flow_rate_limit_then_ok sqlite; }
@test "codex: 500 every time fails, the reason names it (sqlite)" { RT=codex flow_server_error_every_time sqlite; }
@test "codex: a stream cut mid-message every time fails with the reason (sqlite)" { RT=codex flow_stream_cut sqlite; }
@test "codex: a stream cut once is retried and completes (sqlite)" { RT=codex flow_stream_cut_once sqlite; }
@test "codex: a model that never answers ends at the agent's timeout (sqlite)" { RT=codex flow_model_hangs sqlite; }
@test "opencode: 429 then 200 completes through the CLI's own retry (sqlite)" { RT=opencode flow_rate_limit_then_ok sqlite; }
@test "opencode: 500 every time fails, the reason names it (sqlite)" { RT=opencode flow_server_error_every_time sqlite; }
@test "opencode: a stream cut mid-message every time fails with the reason (sqlite)" { RT=opencode flow_stream_cut sqlite; }
@test "opencode: a stream cut once is retried and completes (sqlite)" { RT=opencode flow_stream_cut_once sqlite; }
@test "opencode: a model that never answers ends at the agent's timeout (sqlite)" { RT=opencode flow_model_hangs sqlite; }

flow_cli_missing() {
  model_start_with "$BATS_TEST_TMPDIR/script.json" '{"conversations": [], "fallback": {"text": "ok"}}'
  CP_AGENTS="agent_runtimes: {$RT: {program: $RT-not-installed-h7}}" \
    cp_project "$1" 'gateway: {listen: "127.0.0.1:0", url: ""}'
  cp_start
  expect_api 400 POST /api/v1/agents '{"task": "m1", "runtime": "'"$RT"'", "contract": "x"}' || return 1
  [[ $(jq -r .error <<<"$API_BODY") == "runtime $RT: program \"$RT-not-installed-h7\" not found on PATH" ]] ||
    fail "error: $API_BODY" || return 1
  expect_api 404 GET /api/v1/agents/m1 || return 1
  # the front door says the same, with the usage exit code
  run --separate-stderr bash -c 'cd "$1" && "$2/fracta" spawn m1 --runtime "$3" --contract x' _ "$P" "$FRACTA_BIN" "$RT"
  assert_status 100 || return 1
  [[ $stderr == *"program \"$RT-not-installed-h7\" not found on PATH"* ]] || fail "stderr: $stderr" || return 1
  [[ $(jq -s length "$MODEL_LOG") == 0 ]] || fail "the model was called" || return 1
}

@test "claude: a runtime whose CLI is not on PATH: the spawn is refused, naming the program (sqlite)" { flow_cli_missing sqlite; }
@test "claude: a runtime whose CLI is not on PATH: the spawn is refused, naming the program (postgres)" { flow_cli_missing postgres; }
@test "codex: a runtime whose CLI is not on PATH: the spawn is refused, naming the program (sqlite)" { RT=codex flow_cli_missing sqlite; }
@test "opencode: a runtime whose CLI is not on PATH: the spawn is refused, naming the program (sqlite)" { RT=opencode flow_cli_missing sqlite; }
