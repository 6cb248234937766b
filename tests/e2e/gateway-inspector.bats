#!/usr/bin/env bats
# The MCP inspector's CLI (@modelcontextprotocol/inspector, pinned in
# tests/package.json) against fracta's MCP faces: `fracta-gw serve` over
# streamable HTTP (both protocol eras) and the legacy HTTP+SSE transport,
# and `fracta-gw stdio` as an AI CLI would run it.

load ../lib/common
load ../lib/cp
load ../lib/gw

setup() {
  gw_suite_setup
  INSPECTOR="$FRACTA_SOURCE/tests/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"
  require_node_modules "$INSPECTOR"
  # its catalog and client settings live under HOME: keep them in the test's
  export HOME="$BATS_TEST_TMPDIR/home"
  mkdir -p "$HOME"
}
teardown() { gw_suite_teardown; }

# inspect ARGS… — the inspector CLI; `--format json` prints one object, the
# method's result under .result.
inspect() {
  run --separate-stderr timeout 60 node "$INSPECTOR" --cli --format json -q "$@"
}

# inspect_a1 http|sse ARGS… — inspect agent a1's endpoint for that transport
# (/mcp, /sse) with its $token
inspect_a1() {
  local transport=$1 endpoint=mcp
  shift
  [[ $transport == sse ]] && endpoint=sse
  inspect "$GW_URL/agents/a1/$endpoint" --transport "$transport" --header "Authorization: Bearer $token" "$@"
}

# a1_lists_and_echoes http|sse ECHO-TOOL MESSAGE TOOL… — what both transports
# must do for agent a1: list ECHO-TOOL and the TOOLs, then call ECHO-TOOL with
# MESSAGE, which answers with no error and MESSAGE in its text ($output).
a1_lists_and_echoes() {
  local transport=$1 echo_tool=$2 message=$3 expected
  shift 3
  expected=$(jq -nc '$ARGS.positional' --args "$echo_tool" "$@")
  inspect_a1 "$transport" --method tools/list
  assert_status 0
  assert_json "$expected - [.result.tools[].name] == []"
  inspect_a1 "$transport" --method tools/call --tool-name "$echo_tool" --tool-arg "message=$message"
  assert_status 0
  assert_json "(.result.isError // false) == false and (.result.content[0].text | contains(\"$message\"))"
}

@test "inspector over streamable HTTP lists and calls fracta's and proxied tools (legacy and modern era)" {
  gw_project
  token=$(agent_token a1)
  a1_lists_and_echoes http ev__echo inspected-http fracta_list evh__echo
  # an initialize session: legacy results carry no modern _meta
  assert_json '.result._meta["io.modelcontextprotocol/serverInfo"] == null'
  # fracta's own tool, answered by the control plane as agent a1
  inspect_a1 http --method tools/call --tool-name fracta_list
  assert_status 0
  assert_json '.result.content[0].text | fromjson | tostring | contains("a1")'
  # the stateless 2026-07-28 era: server/discover, then _meta on every request
  inspect_a1 http --protocol-era modern --method tools/call --tool-name evh__echo --tool-arg message=inspected-modern
  assert_status 0
  assert_json '.result.content[0].text | contains("inspected-modern")'
  # answered in the stateless era: every result names who answered
  assert_json '.result._meta["io.modelcontextprotocol/serverInfo"].name == "fracta"'
  # without the token the inspector fails, and says so
  inspect "$GW_URL/agents/a1/mcp" --transport http --method tools/list
  [[ $status -ne 0 ]] || fail "listing without a token succeeded: $output"
}

@test "inspector over the legacy HTTP+SSE transport lists and calls tools" {
  gw_project
  token=$(agent_token a1)
  a1_lists_and_echoes sse rec__echo inspected-sse fracta_inbox
  assert_json '.result.content[0].text == "echo: inspected-sse"'
}

@test "inspector over stdio: fracta-gw stdio lists the host tools and lists the agents" {
  cp_project sqlite
  cp_start
  spawn w1 'exec sleep 120' >/dev/null
  inspect --transport stdio --cwd "$P" "$FRACTA_BIN/fracta-gw" stdio --method tools/list
  assert_status 0
  assert_json '[.result.tools[].name] | sort == ["fracta_events","fracta_get","fracta_kill","fracta_list","fracta_logs","fracta_merge","fracta_peek","fracta_say","fracta_spawn"]'
  inspect --transport stdio --cwd "$P" "$FRACTA_BIN/fracta-gw" stdio --method tools/call --tool-name fracta_list
  assert_status 0
  assert_json '(.result.isError // false) == false'
  assert_json '[.result.structuredContent | .. | objects | select(has("name")) | .name] | index("w1") != null'
  # an argument the tool does not take comes back as an isError result, not a crash
  inspect --transport stdio --cwd "$P" "$FRACTA_BIN/fracta-gw" stdio --method tools/call --tool-name fracta_get
  assert_json '.result.isError == true'
}
