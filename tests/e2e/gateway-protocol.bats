#!/usr/bin/env bats
# fracta-gw against bad input, through a live gateway and `fracta-gw stdio`:
# every malformed or refused message gets the status and JSON-RPC code the
# MCP specification gives (2025-06-18 / 2025-11-25 for sessions,
# 2026-07-28 for stateless requests), and the same process goes on serving.
# Then cancellation: an agent's notifications/cancelled, or a stateless
# client that hangs up, reaches the backend as notifications/cancelled with
# the id the gateway used there.

load ../lib/common
load ../lib/cp
load ../lib/gw

setup() { gw_suite_setup; }
teardown() { gw_suite_teardown; }

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}'
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bats","version":"1"}}'

# legacy_session TASK TOKEN — initialize (2025-06-18) and say initialized; SID
legacy_session() {
  mcp_post "$1" "$2" "$INIT" -D "$BATS_TEST_TMPDIR/init.h"
  [[ $MCP_STATUS == 200 ]] || fail "initialize: $MCP_STATUS $MCP_BODY"
  SID=$(awk 'tolower($1) == "mcp-session-id:" {print $2}' "$BATS_TEST_TMPDIR/init.h" | tr -d '\r')
  [[ -n $SID ]] || fail "no Mcp-Session-Id"
  mcp_post "$1" "$2" '{"jsonrpc":"2.0","method":"notifications/initialized"}' -H "Mcp-Session-Id: $SID" \
    -H 'MCP-Protocol-Version: 2025-06-18'
  assert_equal "$MCP_STATUS" 202 "notifications/initialized"
}

# raw_post TASK TOKEN BODY CURL-ARGS… — like mcp_post, but only the headers given
raw_post() {
  local task=$1 token=$2 body=$3 out
  shift 3
  out=$(curl -sS -X POST -w '\n%{http_code}' -H "Authorization: Bearer $token" "$@" \
    --data-binary "$body" "$GW_URL/agents/$task/mcp") || return 1
  MCP_STATUS=${out##*$'\n'}
  MCP_BODY=${out%$'\n'*}
}

# expect STATUS CODE WHAT — the last mcp_post got HTTP STATUS and a JSON-RPC
# error with CODE ("-" for no JSON-RPC body check)
expect() {
  assert_equal "$MCP_STATUS" "$1" "$3: status (body: ${MCP_BODY:0:300})"
  [[ $2 == - ]] || assert_json ".error.code == $2" "$MCP_BODY"
}

@test "bad input over streamable HTTP gets the spec's statuses and codes, and the same gateway goes on serving" {
  gw_project
  token=$(agent_token a1)
  legacy_session a1 "$token"
  local s=(-H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-06-18')

  # not JSON: Parse error, null id
  mcp_post a1 "$token" '{"jsonrpc":"2.0","id":2,"method":' "${s[@]}"
  expect 400 -32700 "unparseable JSON"
  assert_json '.id == null' "$MCP_BODY"
  # JSON, but not a JSON-RPC message: Invalid Request (to its id when it has a valid one)
  mcp_post a1 "$token" '{"id":3,"method":"tools/list"}' "${s[@]}"
  expect 400 -32600 "no jsonrpc member"
  assert_json '.id == 3' "$MCP_BODY"
  mcp_post a1 "$token" '{"jsonrpc":"2.0","id":4}' "${s[@]}"
  expect 400 -32600 "neither method nor result"
  mcp_post a1 "$token" '"just a string"' "${s[@]}"
  expect 400 -32600 "a JSON string"
  # batches: not in a 2025-06-18 session, never without a session
  mcp_post a1 "$token" '[{"jsonrpc":"2.0","id":5,"method":"ping"},{"jsonrpc":"2.0","id":6,"method":"ping"}]' "${s[@]}"
  expect 400 -32600 "batch in a 2025-06-18 session"
  mcp_post a1 "$token" '[{"jsonrpc":"2.0","id":5,"method":"ping"}]'
  expect 400 -32600 "batch without a session"
  mcp_post a1 "$token" '[]' -H 'MCP-Protocol-Version: 2026-07-28'
  expect 400 -32600 "batch in the stateless era"
  # unknown method and unknown tool, in the session
  mcp_post a1 "$token" '{"jsonrpc":"2.0","id":7,"method":"no/such/method"}' "${s[@]}"
  expect 200 -32601 "unknown method"
  assert_json '.id == 7' "$MCP_BODY"
  mcp_post a1 "$token" '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}' "${s[@]}"
  expect 200 -32602 "unknown tool"
  mcp_post a1 "$token" '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"arguments":{}}}' "${s[@]}"
  expect 200 -32602 "tools/call without a name"
  # session ids: unknown → 404; ended by DELETE → 404 from then on
  mcp_post a1 "$token" '{"jsonrpc":"2.0","id":10,"method":"tools/list"}' -H 'Mcp-Session-Id: 0123456789abcdef' -H 'MCP-Protocol-Version: 2025-06-18'
  expect 404 - "unknown session"
  # a protocol version header we do not speak, in a valid session: 400
  mcp_post a1 "$token" '{"jsonrpc":"2.0","id":11,"method":"tools/list"}' -H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 1900-01-01'
  expect 400 - "unsupported MCP-Protocol-Version"
  mcp_post a1 "$token" '{"jsonrpc":"2.0","id":12,"method":"tools/list"}' -H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: not-a-version'
  expect 400 - "malformed MCP-Protocol-Version"
  # media types: 415 for the body, 406 for what the client accepts
  raw_post a1 "$token" '{"jsonrpc":"2.0","id":13,"method":"tools/list"}' "${s[@]}" -H 'Content-Type: text/plain' \
    -H 'Accept: application/json, text/event-stream'
  expect 415 - "text/plain body"
  raw_post a1 "$token" '{"jsonrpc":"2.0","id":14,"method":"tools/list"}' "${s[@]}" -H 'Content-Type: application/json' \
    -H 'Accept: application/json'
  expect 406 - "POST not accepting text/event-stream"
  run curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H "Mcp-Session-Id: $SID" \
    -H 'Accept: application/json' "$GW_URL/agents/a1/mcp"
  assert_equal "$output" 406 "GET without Accept: text/event-stream"
  run curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Accept: text/event-stream' "$GW_URL/agents/a1/mcp"
  assert_equal "$output" 405 "GET without a session (no server-push stream to offer)"
  # the session still works after all that
  mcp_post a1 "$token" '{"jsonrpc":"2.0","id":15,"method":"tools/list"}' "${s[@]}"
  expect 200 - "tools/list in the session"
  assert_json '[.result.tools[].name] | index("fracta_list") != null' "$MCP_BODY"
  run curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $token" -H "Mcp-Session-Id: $SID" "$GW_URL/agents/a1/mcp"
  assert_equal "$output" 200 "DELETE the session"
  mcp_post a1 "$token" '{"jsonrpc":"2.0","id":16,"method":"tools/list"}' "${s[@]}"
  expect 404 - "the deleted session"

  # stateless (2026-07-28) requests
  local h=(-H 'MCP-Protocol-Version: 2026-07-28')
  mcp_post a1 "$token" "{\"jsonrpc\":\"2.0\",\"id\":20,\"method\":\"tools/list\",\"params\":{$META}}" "${h[@]}"
  expect 400 -32020 "no Mcp-Method header"
  mcp_post a1 "$token" "{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"tools/list\",\"params\":{$META}}" -H 'Mcp-Method: tools/list'
  expect 400 -32020 "no MCP-Protocol-Version header"
  mcp_post a1 "$token" "{\"jsonrpc\":\"2.0\",\"id\":22,\"method\":\"tools/call\",\"params\":{\"name\":\"fracta_list\",$META}}" \
    "${h[@]}" -H 'Mcp-Method: tools/call'
  expect 400 -32020 "tools/call without Mcp-Name"
  local old=${META//2026-07-28/2099-01-01}
  mcp_post a1 "$token" "{\"jsonrpc\":\"2.0\",\"id\":23,\"method\":\"tools/list\",\"params\":{$old}}" \
    -H 'MCP-Protocol-Version: 2099-01-01' -H 'Mcp-Method: tools/list'
  expect 400 -32022 "an unsupported protocol version"
  assert_json '(.error.data.supported | index("2026-07-28") != null) and .error.data.requested == "2099-01-01"' "$MCP_BODY"
  mcp_post a1 "$token" "{\"jsonrpc\":\"2.0\",\"id\":24,\"method\":\"no/such\",\"params\":{$META}}" "${h[@]}" -H 'Mcp-Method: no/such'
  expect 404 -32601 "a stateless unknown method"
  mcp_post a1 "$token" "{\"jsonrpc\":\"2.0\",\"id\":25,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\",\"arguments\":{},$META}}" \
    "${h[@]}" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: nope'
  expect 200 -32602 "a stateless unknown tool"
  run curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $token" "$GW_URL/agents/a1/mcp"
  assert_equal "$output" 405 "DELETE without a session"

  # the legacy HTTP+SSE endpoint: unknown session 404, not JSON 400 -32700
  run curl -sS -w '\n%{http_code}' -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data-binary '{"jsonrpc":"2.0","id":1,"method":"ping"}' "$GW_URL/agents/a1/messages?sessionId=nope"
  assert_equal "${output##*$'\n'}" 404 "messages for an unknown SSE session"

  # bodies over the limit: 413
  head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$BATS_TEST_TMPDIR/big.json"
  run curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' --data-binary "@$BATS_TEST_TMPDIR/big.json" "$GW_URL/agents/a1/mcp"
  assert_equal "$output" 413 "a 2 MiB body"
  # ...announced by Content-Length, refused before any of it is sent (the
  # gateway does not wait for, let alone hold, a gigabyte)
  run timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf "POST /agents/a1/mcp HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 1073741824\r\n\r\n" "$1" "$2" >&3
    head -1 <&3' _ "$GW_PORT" "$token"
  assert_status 0
  [[ $output == "HTTP/1.1 413"* ]] || fail "a 1 GiB Content-Length: $output"

  # after all of it: the same process, and a real client's whole session works
  kill -0 "$GW_PID" || fail "the gateway died: $(cat "$BATS_TEST_TMPDIR/gw.log")"
  run node "$FRACTA_SOURCE/tests/mcp/sdk-client.mjs" "$GW_URL/agents/a1/mcp" "$token" http ev
  assert_status 0
  assert_json '(.echo | contains("hello-http")) and (.progress | length) >= 2 and .terminated == true'
  kill -0 "$GW_PID"
  ! grep -qi 'segmentation\|abort' "$BATS_TEST_TMPDIR/gw.log"
}

@test "bad input over fracta-gw stdio: one JSON-RPC error per bad line, and it goes on serving until EOF" {
  cp_project sqlite
  cp_start
  {
    echo '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}'
    echo '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    echo '{"jsonrpc":"2.0","id":2,"method":'
    echo '{"id":3,"method":"tools/list"}'
    echo '[{"jsonrpc":"2.0","id":4,"method":"ping"}]'
    echo '{"jsonrpc":"2.0","id":5,"method":"no/such/method"}'
    echo '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}'
    echo '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"fracta_get","arguments":{"name":"ghost"}}}'
    echo '{"jsonrpc":"2.0","id":8,"method":"tools/list"}'
  } >"$BATS_TEST_TMPDIR/in.jsonl"
  run --separate-stderr bash -c 'cd "$1" && exec timeout 60 "$2" stdio <"$3"' _ "$P" "$FRACTA_BIN/fracta-gw" "$BATS_TEST_TMPDIR/in.jsonl"
  assert_status 0
  local out=$output
  # every line of stdout is one JSON-RPC message
  jq -e -s 'all(.jsonrpc == "2.0")' <<<"$out" >/dev/null || fail "stdout is not JSON-RPC lines: $out"
  # the unparseable line and the batch (not in 2025-06-18) are answered to a null id
  assert_json '[.[] | select(.id == null) | .error.code] | sort == [-32700, -32600]' "$(jq -s . <<<"$out")"
  assert_json 'any(.[]; .id == null and .error.code == -32600 and (.error.message | test("batch"; "i")))' "$(jq -s . <<<"$out")"
  assert_json 'map(select(.id == 3))[0].error.code == -32600' "$(jq -s . <<<"$out")"
  assert_json 'map(select(.id == 4)) | length == 0' "$(jq -s . <<<"$out")"
  assert_json 'map(select(.id == 5))[0].error.code == -32601' "$(jq -s . <<<"$out")"
  assert_json 'map(select(.id == 6))[0].error.code == -32602' "$(jq -s . <<<"$out")"
  assert_json 'map(select(.id == 7))[0].result.isError == true' "$(jq -s . <<<"$out")"
  assert_json 'map(select(.id == 8))[0].result.tools | map(.name) | index("fracta_list") != null' "$(jq -s . <<<"$out")"
}

# backend_id — the id the gateway gave rec's last `slow` call
backend_id() {
  jq -c 'select(.method? == "tools/call" and .params.name == "slow") | .id' "$REC_MESSAGES" | tail -1
}
slow_started() { [[ -n $(backend_id) ]] && [[ $(backend_id) != "${1:-}" ]]; }
# hang_up_once_running PREVIOUS-ID BODY — a stateless (2026-07-28) rec__slow
# call from a client that hangs up (curl killed) once the backend has it.
hang_up_once_running() {
  curl -sS --max-time 300 -o /dev/null -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
    -H 'Mcp-Method: tools/call' -H 'Mcp-Name: rec__slow' --data-binary "$2" "$GW_URL/agents/a1/mcp" &
  local client=$!
  wait_for 60 slow_started "$1" || { kill "$client"; return 1; }
  kill "$client"
  wait "$client" && fail "the call ended before its client hung up"
  return 0
}
# cancelled_at_backend ID — rec got notifications/cancelled for ID, and its tool saw the abort
cancelled_at_backend() {
  jq -e -s --argjson id "$1" 'any(.[]; .method? == "notifications/cancelled" and .params.requestId == $id)
    and any(.[]; .aborted? == $id)' "$REC_MESSAGES" >/dev/null
}

@test "cancellation reaches the backend: an agent's notifications/cancelled, a stateless client that hangs up" {
  export REC_MESSAGES="$BATS_TEST_TMPDIR/rec-messages.jsonl"
  : >"$REC_MESSAGES"
  gw_project
  token=$(agent_token a1)
  legacy_session a1 "$token"

  # 1. a session's call in flight, cancelled by the agent
  curl -sS -o "$BATS_TEST_TMPDIR/call.body" -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-06-18' \
    --max-time 300 --data-binary '{"jsonrpc":"2.0","id":"call-7","method":"tools/call","params":{"name":"rec__slow","arguments":{"seconds":600}}}' \
    "$GW_URL/agents/a1/mcp" >"$BATS_TEST_TMPDIR/call.status" &
  local caller=$!
  wait_for 20 slow_started
  local first
  first=$(backend_id)
  mcp_post a1 "$token" '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"call-7","reason":"changed my mind"}}' \
    -H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-06-18'
  assert_equal "$MCP_STATUS" 202 "the cancellation"
  # it ends (the tool would run 600 s; curl gives up at 300 s, exit 28)
  wait "$caller" || fail "the cancelled call's POST did not end: curl exit $?"
  # no response for a cancelled request: 202, no body
  assert_equal "$(cat "$BATS_TEST_TMPDIR/call.status")" 202 "the cancelled call's POST"
  [[ ! -s $BATS_TEST_TMPDIR/call.body ]] || fail "a response to a cancelled request: $(cat "$BATS_TEST_TMPDIR/call.body")"
  wait_for 10 cancelled_at_backend "$first"
  # the agent's own id never reaches the backend
  grep -q '"call-7"' "$REC_MESSAGES" && fail "the agent's request id reached the backend: $(<"$REC_MESSAGES")"

  # 2. a stateless call whose client hangs up (2026-07-28: closing is cancelling)
  hang_up_once_running "$first" "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"rec__slow\",\"arguments\":{\"seconds\":600},$META}}"
  local second
  second=$(backend_id)
  wait_for 10 cancelled_at_backend "$second"

  # 3. the same with a progress token, answered as an SSE stream
  local meta=${META/\"_meta\":\{/\"_meta\":\{\"progressToken\":\"p1\",}
  hang_up_once_running "$second" "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"rec__slow\",\"arguments\":{\"seconds\":600},$meta}}"
  local third
  third=$(backend_id)
  wait_for 10 cancelled_at_backend "$third"

  # the backend and the gateway carry on
  mcp_post a1 "$token" '{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"rec__echo","arguments":{"message":"after"}}}' \
    -H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-06-18'
  expect 200 - "a call after the cancellations"
  assert_json '.result.content[0].text == "echo: after"' "$MCP_BODY"
}
