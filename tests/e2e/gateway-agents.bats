#!/usr/bin/env bats
# fracta's agent tools end to end: real shell agents of a real control plane
# call their own gateway endpoint with their own token, through the MCP SDK
# client (tests/mcp/call-tool.mjs), the way an agent CLI would.

load ../lib/common
load ../lib/cp
load ../lib/gw

setup() { gw_suite_setup; call_tool_script; }
teardown() { gw_suite_teardown; }

# agent_script NAME BODY — a shell script for an agent's contract; prints the contract
agent_script() {
  printf '#!/bin/sh\nset -u\nCALL=%q\n%s\n' "$CALL" "$2" >"$BATS_TEST_TMPDIR/$1.sh"
  printf 'sh %q' "$BATS_TEST_TMPDIR/$1.sh"
}

@test "fracta_send mails another agent, which reads it with fracta_inbox; fracta_set_intent shows in fracta list" {
  gw_project
  # b1 polls its inbox until the mail arrives (bounded), keeps what it read
  spawn b1 "$(agent_script b1 'for i in $(seq 150); do
  $CALL fracta_inbox >inbox.out 2>&1 || exit 3
  grep -q "hello from a1" inbox.out && exit 0
  sleep 0.2
done
exit 4')" >/dev/null
  spawn a1 "$(agent_script a1 '$CALL fracta_send "{\"to\":\"b1\",\"message\":\"hello from a1\"}" >send.out 2>&1; echo $? >send.rc
$CALL fracta_set_intent "{\"intent\":\"rewriting the parser\"}" >intent.out 2>&1; echo $? >intent.rc
exec sleep 120')" >/dev/null

  wait_agent b1 60
  assert_json '.status == "Completed" and .exit_code == 0' "$API_BODY"
  assert_equal "$(cat "$P/.worktrees/a1/send.rc")" 0 "send: $(cat "$P/.worktrees/a1/send.out")"
  # what b1 read: the message, from a1, and only once (reading consumed it)
  run jq -e '.messages | map(select(.message == "hello from a1" and .from == "a1")) | length == 1' \
    "$P/.worktrees/b1/inbox.out"
  assert_status 0

  wait_for 20 test -s "$P/.worktrees/a1/intent.rc"
  assert_equal "$(cat "$P/.worktrees/a1/intent.rc")" 0 "intent: $(cat "$P/.worktrees/a1/intent.out")"
  cd "$P"
  run --separate-stderr "$FRACTA_BIN/fracta" list
  assert_status 0
  assert_json '.agents[] | select(.name == "a1") | .current_intent == "rewriting the parser" and .status == "Running"'
  run --separate-stderr "$FRACTA_BIN/fracta" list --format text
  assert_status 0
  [[ $output == *"rewriting the parser"* ]] || fail "intent missing from the table: $output"
}

@test "fracta_spawn starts a sub-agent with its parent recorded; max_children and max_depth refuse with a clear tool error" {
  CP_AGENTS="max_depth: 1, max_children: 1" gw_project
  local kid grand
  grand=$(agent_script grand 'echo grandchild ran >grand.ran')
  kid=$(agent_script kid "\$CALL fracta_spawn '$(jq -cn --arg c "$grand" '{task: "a1-grandkid", contract: $c}')' >grand.out 2>&1; echo \$? >grand.rc
exec sleep 120")
  spawn a1 "$(agent_script a1 "\$CALL fracta_spawn '$(jq -cn --arg c "$kid" '{task: "a1-kid", contract: $c}')' >kid.out 2>&1; echo \$? >kid.rc
\$CALL fracta_spawn '{\"task\":\"a1-kid2\",\"contract\":\"true\"}' >kid2.out 2>&1; echo \$? >kid2.rc
exec sleep 120")" >/dev/null

  wait_for 30 test -s "$P/.worktrees/a1/kid2.rc"
  assert_equal "$(cat "$P/.worktrees/a1/kid.rc")" 0 "spawn: $(cat "$P/.worktrees/a1/kid.out")"
  expect_api 200 GET /api/v1/agents/a1-kid
  assert_json '.agent.parent == "a1"' "$API_BODY"
  # a second live child: over max_children
  assert_equal "$(cat "$P/.worktrees/a1/kid2.rc")" 1 "second child should be refused"
  grep -q 'max_children' "$P/.worktrees/a1/kid2.out" || fail "unclear error: $(cat "$P/.worktrees/a1/kid2.out")"
  expect_api 404 GET /api/v1/agents/a1-kid2

  # the kid runs and tries a grandchild: over max_depth
  wait_for 30 test -s "$P/.worktrees/a1-kid/grand.rc"
  assert_equal "$(cat "$P/.worktrees/a1-kid/grand.rc")" 1 "grandchild should be refused"
  grep -q 'max_depth' "$P/.worktrees/a1-kid/grand.out" || fail "unclear error: $(cat "$P/.worktrees/a1-kid/grand.out")"
  expect_api 404 GET /api/v1/agents/a1-grandkid
}

@test "with sub-agents disabled fracta_spawn refuses, and a token only acts as its own agent" {
  CP_AGENTS="allow_subagents: false" gw_project
  spawn a1 "$(agent_script a1 '$CALL fracta_spawn "{\"task\":\"a1-kid\",\"contract\":\"true\"}" >kid.out 2>&1; echo $? >kid.rc
exec sleep 120')" >/dev/null
  wait_for 30 test -s "$P/.worktrees/a1/kid.rc"
  assert_equal "$(cat "$P/.worktrees/a1/kid.rc")" 1
  grep -q 'allow_subagents' "$P/.worktrees/a1/kid.out" || fail "unclear error: $(cat "$P/.worktrees/a1/kid.out")"
  expect_api 404 GET /api/v1/agents/a1-kid

  # b1's token on a1's endpoint: refused before any tool runs
  token=$(agent_token b1)
  FRACTA_GATEWAY_URL="$GW_URL/agents/a1/mcp" FRACTA_GATEWAY_TOKEN=$token run "$CALL" fracta_set_intent '{"intent":"impostor"}'
  assert_status 1
  expect_api 200 GET /api/v1/agents/a1
  assert_json '.agent.current_intent != "impostor"' "$API_BODY"
}
