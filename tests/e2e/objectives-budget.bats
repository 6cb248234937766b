#!/usr/bin/env bats
# Acceptance of token budgets with a real agent CLI (Claude Code against the
# scripted model server): the tokens its run reports roll up into its
# objective, and the first result that crosses max_tokens exhausts the
# budget, so no new mission is admitted.

load ../lib/agents

setup() { agent_setup; claude_onboarded; }
teardown() { agent_teardown; }

@test "claude: the first result over max_tokens makes the objective budget_exhausted; the next spawn is refused" {
  agent_project claude
  jq -n '{conversations: [{match: "spend", turns: [
      {text: "Spent.", usage: {input_tokens: 700, output_tokens: 400}}]}],
    fallback: {text: "ok"}}' >"$BATS_TEST_TMPDIR/script.json"
  model_start "$BATS_TEST_TMPDIR/script.json"
  agent_cp_start ANTHROPIC_API_KEY=sk-ant-test-dummy ANTHROPIC_BASE_URL="$MODEL_URL" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
  cd "$P"
  run --separate-stderr fracta objectives create --id o1 --description "budget" --max-tokens 1000
  assert_status 0
  run --separate-stderr fracta spawn spend --objective o1 --contract "Spend some tokens."
  assert_status 0
  run --separate-stderr fracta wait spend --timeout 10m
  assert_status 0
  run --separate-stderr fracta get spend
  assert_status 0
  local used
  used=$(jq '.agent.input_tokens + .agent.output_tokens' <<<"$output")
  ((used >= 1000)) || fail "the run reported $used tokens: $output"
  run --separate-stderr fracta objectives get o1
  assert_status 0
  assert_json ".objective | .status == \"budget_exhausted\" and .tokens_used == $used and .completed_count == 1"
  run --separate-stderr fracta spawn more --objective o1 --contract "More."
  assert_status 1
  [[ $stderr == *"the objective is budget_exhausted"* ]] || fail "refusal: $stderr"
  run --separate-stderr fracta events query --type objective.budget_exhausted
  assert_status 0
  assert_equal "$(grep -c . <<<"$output")" 1 "objective.budget_exhausted events"
}
