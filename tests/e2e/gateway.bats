#!/usr/bin/env bats
# fracta-gw serve end to end: the real MCP SDK client and reference servers
# from npm, the real control plane, real agents with real tokens.

load ../lib/common
load ../lib/cp
load ../lib/gw

setup() { gw_suite_setup; }
teardown() { gw_suite_teardown; }

@test "the SDK client over streamable HTTP: fracta's and proxied tools, echo, progress, session end" {
  gw_project
  token=$(agent_token a1)
  run node "$FRACTA_SOURCE/tests/mcp/sdk-client.mjs" "$GW_URL/agents/a1/mcp" "$token" http ev
  assert_status 0
  assert_json '.tools | index("fracta_list") != null and index("fracta_spawn") != null'
  assert_json '.tools | index("ev__echo") != null and index("evh__echo") != null and index("rec__echo") != null'
  assert_json '.echo | contains("hello-http")'
  assert_json '(.progress | length) >= 2 and .long != null'
  assert_json '.terminated == true'
  # the same through the backend reached over streamable HTTP
  run node "$FRACTA_SOURCE/tests/mcp/sdk-client.mjs" "$GW_URL/agents/a1/mcp" "$token" http evh
  assert_status 0
  assert_json '(.echo | contains("hello-http")) and (.progress | length) >= 2'
}

@test "the SDK client over the legacy HTTP+SSE transport" {
  gw_project
  token=$(agent_token a1)
  run node "$FRACTA_SOURCE/tests/mcp/sdk-client.mjs" "$GW_URL/agents/a1/sse" "$token" sse ev
  assert_status 0
  assert_json '(.tools | index("ev__echo") != null) and (.echo | contains("hello-sse")) and (.progress | length) >= 2'
}

@test "modern (2026-07-28) requests: server/discover, tools/list and tools/call with _meta and Mcp-Method/Mcp-Name" {
  gw_project
  token=$(agent_token a1)
  local meta='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bats","version":"1"}}'
  mcp_post a1 "$token" "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":{$meta}}" -H 'Mcp-Method: server/discover' -H 'MCP-Protocol-Version: 2026-07-28'
  assert_equal "$MCP_STATUS" 200 "discover status: $MCP_BODY"
  assert_json '.result.supportedVersions | index("2026-07-28") != null' "$MCP_BODY"
  mcp_post a1 "$token" "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{$meta}}" -H 'Mcp-Method: tools/list' -H 'MCP-Protocol-Version: 2026-07-28'
  assert_equal "$MCP_STATUS" 200 "tools/list status"
  assert_json '[.result.tools[].name] | index("ev__echo") != null' "$MCP_BODY"
  mcp_post a1 "$token" "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"ev__echo\",\"arguments\":{\"message\":\"modern\"},$meta}}" \
    -H 'Mcp-Method: tools/call' -H 'Mcp-Name: ev__echo' -H 'MCP-Protocol-Version: 2026-07-28'
  assert_equal "$MCP_STATUS" 200 "tools/call status"
  assert_json '.result.content[0].text | contains("modern")' "$MCP_BODY"
  # the header says one tool, the body another: 400 with -32020
  mcp_post a1 "$token" "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"ev__echo\",\"arguments\":{\"message\":\"x\"},$meta}}" \
    -H 'Mcp-Method: tools/call' -H 'Mcp-Name: fracta_list' -H 'MCP-Protocol-Version: 2026-07-28'
  assert_equal "$MCP_STATUS" 400 "mismatch status"
  assert_json '.error.code == -32020' "$MCP_BODY"
}

@test "tokens: none 401, another agent's 403, a killed agent's stops once its cache entry ages out; foreign Origin or Host 403; backends never see it" {
  gw_project
  token=$(agent_token a1)
  other=$(agent_token b1)
  local init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}'
  mcp_post a1 "" "$init" -D "$BATS_TEST_TMPDIR/h"
  assert_equal "$MCP_STATUS" 401 "no token"
  grep -qi '^WWW-Authenticate: Bearer' "$BATS_TEST_TMPDIR/h"
  mcp_post a1 "wrong-token" "$init"
  assert_equal "$MCP_STATUS" 401 "wrong token"
  mcp_post a1 "$other" "$init"
  assert_equal "$MCP_STATUS" 403 "another agent's token"
  mcp_post a1 "$token" "$init" -H 'Origin: https://evil.example'
  assert_equal "$MCP_STATUS" 403 "foreign Origin"
  mcp_post a1 "$token" "$init" -H 'Host: evil.example'
  assert_equal "$MCP_STATUS" 403 "foreign Host"
  mcp_post a1 "$token" "$init" -H "Origin: http://localhost:$GW_PORT"
  assert_equal "$MCP_STATUS" 200 "own Origin"
  # a call through to the recording backend: it sees its own credentials only
  run node "$FRACTA_SOURCE/tests/mcp/sdk-client.mjs" "$GW_URL/agents/a1/mcp" "$token" http ev
  assert_status 0
  assert_json '.tools | index("rec__echo") != null'
  FRACTA_GATEWAY_URL="$GW_URL/agents/a1/mcp" FRACTA_GATEWAY_TOKEN=$token \
    run node "$FRACTA_SOURCE/tests/mcp/call-tool.mjs" rec__echo '{"message":"via gw"}'
  assert_status 0
  [[ $output == *"echo: via gw"* ]]
  grep -q 'backend-secret' "$HEADERS"
  grep -qF "$token" "$HEADERS" && fail "the agent's token reached a backend: $(<"$HEADERS")"
  # killed: the token stops working once the gateway's cached answer (2 s) is
  # stale; the bound only stops a hung test
  expect_api 200 DELETE /api/v1/agents/a1
  wait_for 30 token_refused a1 "$token"
}

token_refused() {
  mcp_post "$1" "$2" '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}'
  [[ $MCP_STATUS == 401 ]]
}

@test "resilience: a killed stdio backend answers isError, restarts, and works again; list_changed reaches tools/list" {
  gw_project
  token=$(agent_token a1)
  export FRACTA_GATEWAY_URL="$GW_URL/agents/a1/mcp" FRACTA_GATEWAY_TOKEN=$token
  run node "$FRACTA_SOURCE/tests/mcp/call-tool.mjs" ev__echo '{"message":"before"}'
  assert_status 0
  local pid
  pid=$(backend_pid)
  [[ -n $pid ]]
  # a call in flight when the backend dies comes back as an isError result naming it
  # (far longer than the test: killed once its first progress shows it running)
  CALL_TOOL_PROGRESS=1 node "$FRACTA_SOURCE/tests/mcp/call-tool.mjs" ev__trigger-long-running-operation \
    '{"duration":600,"steps":600}' >"$BATS_TEST_TMPDIR/long.out" 2>&1 &
  local caller=$!
  wait_for 60 grep -q '^progress ' "$BATS_TEST_TMPDIR/long.out"
  kill -9 "$pid"
  wait "$caller" && fail "the call in flight succeeded: $(cat "$BATS_TEST_TMPDIR/long.out")"
  grep -q '"ev"' "$BATS_TEST_TMPDIR/long.out" || fail "the error does not name the backend: $(cat "$BATS_TEST_TMPDIR/long.out")"
  wait_for 20 echo_works
  [[ $(backend_pid) != "$pid" ]]
  # a backend that grows a tool announces list_changed; the next lists show it
  run node "$FRACTA_SOURCE/tests/mcp/call-tool.mjs" rec__grow
  assert_status 0
  wait_for 10 lists_tool rec__grown_1
}

echo_works() { node "$FRACTA_SOURCE/tests/mcp/call-tool.mjs" ev__echo '{"message":"after"}' >/dev/null 2>&1; }
lists_tool() {
  node "$FRACTA_SOURCE/tests/mcp/list-tools.mjs" | jq -e --arg t "$1" 'index($t) != null' >/dev/null
}

@test "a backend that never answers is left out of tools/list without delaying it" {
  # mute never answers, and its timeouts outlast the test: a tools/list that
  # waited for it would not come back at all (curl gives up first). So the
  # gateway is not awaited ready either (readiness waits for discovery).
  GW_WAIT_READY=0 gw_project "    mute: {local: {command: sleep, args: [\"600\"]}, timeout: 600s, list_timeout: 600s}"
  wait_for 60 backend_up ev
  token=$(agent_token a1)
  local init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}'
  mcp_post a1 "$token" "$init" -D "$BATS_TEST_TMPDIR/h"
  local sid
  sid=$(awk 'tolower($1) == "mcp-session-id:" {print $2}' "$BATS_TEST_TMPDIR/h" | tr -d '\r')
  mcp_post a1 "$token" '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' -H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-06-18' \
    --max-time 120 || fail "tools/list did not come back while mute was silent"
  assert_equal "$MCP_STATUS" 200 "tools/list"
  assert_json '[.result.tools[].name] | (index("ev__echo") != null) and (map(startswith("mute__")) | any | not)' "$MCP_BODY"
  curl -s "$GW_URL/metrics" | grep -q 'fracta_gw_backend_up{backend="mute"} 0'
  # its discovery is stuck in mute's initialize: do not wait for it to end
  local mute
  mute=$(pgrep -P "$GW_PID" -x sleep)
  kill -9 "$GW_PID" $mute
}

gw_healthy() { [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_PORT/healthz") == 200 ]]; }
gw_child() { pgrep -P "$CP_PID" -f "fracta-gw serve" | head -1; }
new_gw_child() { local p; p=$(gw_child); [[ -n $p && $p != "$1" ]]; }

@test "fracta-cp start runs the gateway beside it, restarts it when it dies, and stops it" {
  GW_PORT=$(free_port)
  cp_project sqlite "gateway: {listen: \"127.0.0.1:$GW_PORT\", url: \"http://127.0.0.1:$GW_PORT\"}"
  run --separate-stderr bash -c 'cd "$1" && "$2" start' _ "$P" "$CP"
  assert_status 0
  CP_PID=$(jq -r .pid <<<"$output")
  wait_for 20 gw_healthy
  local first
  first=$(gw_child)
  [[ -n $first ]]
  run bash -c 'cd "$1" && "$2" status' _ "$P" "$CP"
  assert_status 0
  assert_json '.gateway.healthy == true'
  kill -9 "$first"
  wait_for 20 new_gw_child "$first"
  wait_for 20 gw_healthy
  local second
  second=$(gw_child)
  (cd "$P" && "$CP" stop >/dev/null)
  wait_for 10 process_gone "$second"
}
