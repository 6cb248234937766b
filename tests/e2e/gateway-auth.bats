#!/usr/bin/env bats
# fracta-gw's failed-authentication limit (fracta-gw(1), gateway.auth_rate_limit):
# an address that keeps presenting bad agent tokens gets 429 while other
# clients go on, and the lock-out is logged once, without the token.

load ../lib/common
load ../lib/cp
load ../lib/gw

setup() { gw_suite_setup; }
teardown() { gw_suite_teardown; }

@test "an address failing agent authentication gets 429 after the limit, with a good token too; others go on" {
  GW_YAML='auth_rate_limit: {failures: 20, window: 10m}' gw_project
  local token
  token=$(agent_token a1)
  local ping='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}' args=() i
  for ((i = 0; i < 100; i++)); do args+=(-o /dev/null --data-binary "$ping" "$GW_URL/agents/a1/mcp"); done
  # 100 wrong tokens from 127.0.0.1, as fast as one curl sends them, timed
  local t0 t1
  t0=$(now_ns)
  run curl -s -w '%{http_code}\n' -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H "Authorization: Bearer wrong-$RANDOM" "${args[@]}"
  t1=$(now_ns)
  assert_status 0
  assert_equal "$(sort <<<"$output" | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')" "401x20 429x80 " "answers"
  echo "# 100 failed authentications in $(((t1 - t0) / 1000000)) ms" >&3
  # locked out whatever it sends now, and told for how long
  run curl -s -D - -o /dev/null -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H "Authorization: Bearer $token" --data-binary "$ping" "$GW_URL/agents/a1/mcp"
  [[ $output == "HTTP/1.1 429"* && $output == *$'\nRetry-After: '[0-9]* ]] || fail "the right token from a locked-out address: $output"
  # another address is served, measured: its answer comes while the first is locked out
  t0=$(now_ns)
  mcp_post a1 "$token" "$ping" --interface 127.0.0.2
  t1=$(now_ns)
  assert_equal "$MCP_STATUS" 200 "another client: $MCP_BODY"
  echo "# another client answered in $(((t1 - t0) / 1000000)) ms" >&3
  run curl -s -o /dev/null -w '%{http_code}' "$GW_URL/healthz"
  assert_equal "$output" 200 "healthz from the locked-out address"
  # logged once, with the address and never a token
  wait_for 10 grep -q "20 failed authentications from 127.0.0.1 within 600s" "$BATS_TEST_TMPDIR/gw.log"
  assert_equal "$(grep -c 'failed authentications' "$BATS_TEST_TMPDIR/gw.log")" 1 "log lines"
  run grep -c -e "wrong-" -e "$token" "$BATS_TEST_TMPDIR/gw.log"
  assert_equal "$output" 0 "tokens in the log"
}
