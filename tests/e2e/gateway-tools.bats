#!/usr/bin/env bats
# fracta's MCP tools called the way their users call them, with the real MCP
# SDK client: the host's tools through `fracta-gw stdio` (tests/mcp/host-call.mjs,
# an AI CLI's stdio transport), an agent's fracta_report and fracta_peek
# through its own gateway endpoint with its own token, and tool_policy (global
# and per runtime) on a running gateway.

load ../lib/common
load ../lib/cp
load ../lib/gw

setup() { common_setup; require_cmd curl git node jq; }
teardown() {
  cp_stop
  common_teardown
}

# host TOOL [ARGS-JSON] — one call through `fracta-gw stdio` in $P; $output is
# {isError, text, structured}
host() {
  run --separate-stderr bash -c 'cd "$1" && shift && exec node "$@"' _ "$P" "$FRACTA_SOURCE/tests/mcp/host-call.mjs" "$@"
  assert_status 0
}

host_peek_has() {
  host fracta_peek "{\"name\":\"$1\",\"lines\":20}" >/dev/null
  jq -e --arg s "$2" '(.isError | not) and (.structured.output | contains($s))' <<<"$output" >/dev/null
}

@test "host tools over fracta-gw stdio: spawn, get, logs, events, merge; say, peek, kill a stream agent; errors" {
  cp_project sqlite
  cp_start

  host fracta_spawn '{"task":"w1","contract":"echo w1 started && echo from-w1 >w1.txt && git add w1.txt && git commit -qm w1 && echo w1 finished"}'
  assert_json '.isError == false and .structured.agent == "w1" and .structured.branch == "feature/w1"'
  wait_agent w1 60
  assert_json '.status == "Completed"' "$API_BODY"

  host fracta_get '{"name":"w1"}'
  assert_json '.isError == false and .structured.agent.status == "Completed" and (.structured.agent.last_output | endswith("w1 finished"))'
  # the text is the same JSON as structuredContent
  assert_json '(.text | fromjson) == .structured'
  host fracta_logs '{"name":"w1","lines":1}'
  assert_json '.isError == false and .structured.output == "w1 finished"'
  host fracta_logs '{"name":"w1"}'
  assert_json '.isError == false and .structured.output == "w1 started\nw1 finished"'
  host fracta_events '{"name":"w1"}'
  assert_json '[.structured.events[].type] == ["lifecycle.queued", "lifecycle.running", "lifecycle.completed"]'
  host fracta_events '{"name":"w1","lines":1}'
  assert_json '[.structured.events[].type] == ["lifecycle.completed"]'

  git -C "$P" cat-file -e main:w1.txt 2>/dev/null && fail "w1.txt is on main before the merge"
  host fracta_merge '{"name":"w1"}'
  assert_json '.isError == false and .structured.status == "merged"'
  assert_equal "$(git -C "$P" show main:w1.txt)" from-w1 "main after fracta_merge"
  expect_api 200 GET /api/v1/agents/w1/events
  assert_json '[.events[].type] | index("merge.completed") != null' "$API_BODY"

  # a stream agent: a shell reading commands from its input
  expect_api 201 POST /api/v1/agents '{"task":"s1","mode":"stream"}'
  wait_for 20 status_is s1 Running
  host fracta_say '{"name":"s1","message":"echo said-$((6*7))"}'
  assert_json '.isError == false and .structured.status == "dispatched" and .structured.delivery == "session"'
  wait_for 30 host_peek_has s1 said-42
  host fracta_kill '{"name":"s1"}'
  assert_json '.isError == false and .structured.status == "Stopped"'
  assert_equal "$(agent_field s1 status)" Stopped "s1 after fracta_kill"
  run "$FRACTA_BIN/fracta-spawn-local" is-running s1
  assert_equal "$output" false "s1's session"

  # the control plane's refusals come back as error results carrying its message
  host fracta_get '{"name":"nobody"}'
  assert_json '.isError == true and (.text | contains("agent \"nobody\" not found"))'
  host fracta_say '{"name":"nobody","message":"hi"}'
  assert_json '.isError == true and (.text | contains("not found"))'
  host fracta_kill '{"name":"nobody"}'
  assert_json '.isError == true and (.text | contains("not found"))'
  host fracta_merge '{"name":"nobody"}'
  assert_json '.isError == true and (.text | contains("not found"))'
  host fracta_logs '{"name":"w1","lines":"many"}'
  assert_json '.isError == true and (.text | contains("lines"))'
}

# as_agent TASK TOKEN TOOL [ARGS-JSON] — call-tool.mjs with that agent's endpoint and token
as_agent() {
  FRACTA_GATEWAY_URL="$GW_URL/agents/$1/mcp" FRACTA_GATEWAY_TOKEN=$2 \
    run --separate-stderr node "$FRACTA_SOURCE/tests/mcp/call-tool.mjs" "$3" "${4:-}"
}

peek_shows() {
  as_agent a1 "$TOKEN" fracta_peek '{"name":"b1","lines":5}'
  [[ $status -eq 0 && $output == *"b1 says hello"* ]]
}

@test "agent tools through the gateway: fracta_report records an agent.report about me; fracta_peek shows another agent" {
  gw_project
  TOKEN=$(agent_token a1)
  spawn b1 'echo "b1 says hello"; exec sleep 300' >/dev/null

  as_agent a1 "$TOKEN" fracta_report '{"summary":"found the bug","status":"finding"}'
  assert_status 0
  expect_api 200 GET /api/v1/agents/a1/events
  assert_json '[.events[] | select(.type == "agent.report") | {actor, subject, message, s: .payload.status}] ==
    [{"actor": "a1", "subject": "a1", "message": "found the bug", "s": "finding"}]' "$API_BODY"
  # a summary is required; nothing is recorded without one
  as_agent a1 "$TOKEN" fracta_report '{"status":"done"}'
  assert_status 1
  [[ $output == *"summary: required"* ]] || fail "unclear: $output"
  expect_api 200 GET /api/v1/agents/a1/events
  assert_json '[.events[] | select(.type == "agent.report")] | length == 1' "$API_BODY"
  expect_api 200 GET /api/v1/agents/b1/events
  assert_json '[.events[] | select(.type == "agent.report")] == []' "$API_BODY"

  wait_for 30 peek_shows
  as_agent a1 "$TOKEN" fracta_peek '{"name":"nobody"}'
  assert_status 1
  [[ $output == *"not found"* ]] || fail "unclear: $output"
}

tools_of() {
  FRACTA_GATEWAY_URL="$GW_URL/agents/$1/mcp" FRACTA_GATEWAY_TOKEN=$2 node "$FRACTA_SOURCE/tests/mcp/list-tools.mjs"
}

@test "tool_policy on a running gateway: denied tools are neither listed nor callable; allowed ones work" {
  # global: no stdio backend at all, no mail; the shell runtime: only fracta's
  # tools and two proxied ones
  export REC_MESSAGES="$BATS_TEST_TMPDIR/rec-messages.jsonl"
  CP_AGENTS='agent_runtimes: {shell: {tool_policy: {allow_only: ["fracta_*", "evh__echo", "rec__echo"]}}}' \
    gw_project 'tool_policy: {deny: ["ev__*", "fracta_send"]}'
  TOKEN=$(agent_token a1)
  local tools
  tools=$(tools_of a1 "$TOKEN")
  assert_json 'index("evh__echo") != null and index("rec__echo") != null and index("fracta_report") != null' "$tools"
  assert_json 'map(select(startswith("ev__"))) == []' "$tools"
  assert_json 'index("fracta_send") == null and index("rec__grow") == null and index("evh__trigger-long-running-operation") == null' "$tools"

  as_agent a1 "$TOKEN" evh__echo '{"message":"allowed"}'
  assert_status 0
  [[ $output == *allowed* ]] || fail "evh__echo: $output"
  as_agent a1 "$TOKEN" rec__echo '{"message":"also allowed"}'
  assert_status 0
  # denied globally, and hidden by the runtime's allow_only: as if they did not exist
  local denied
  for denied in ev__echo fracta_send rec__grow; do
    as_agent a1 "$TOKEN" "$denied" '{"message":"x","to":"a1"}'
    [[ $status -ne 0 ]] || fail "$denied was called: $output"
    [[ $stderr == *"-32602: unknown tool \"$denied\""* ]] || fail "$denied: unclear refusal: $stderr"
  done
  # the recording backend got the allowed call, never the refused one
  grep -q '"name":"echo"' "$REC_MESSAGES" || fail "rec saw no echo call: $(cat "$REC_MESSAGES")"
  grep -q '"name":"grow"' "$REC_MESSAGES" && fail "rec__grow reached the backend"
  # no mail was sent
  expect_api 200 GET /api/v1/agents/a1
  assert_json '.agent.unread_messages == 0' "$API_BODY"

  # the policy is what /debug/policy reports
  run curl -sS "$GW_URL/debug/policy"
  assert_status 0
  assert_json '.runtimes.shell.hidden | index("ev__echo") != null and index("fracta_send") != null'
}
