#!/usr/bin/env bats
# Real Codex agents under fracta (issue 14), on sqlite: the real `codex` CLI
# pinned in tests/package.json, in a project made by `fracta init --scaffold
# local`, spawned and driven with `fracta`, its model the scripted model
# server's Responses wire (tests/model) named by the runtime's `base_url`.
# The user's home is hostile throughout: a ~/.codex (and CODEX_HOME naming it)
# with another model provider, an MCP server, instructions and an AGENTS.md,
# none of which may reach the agent.
#
#   batch   edits a file, runs the contract, commits on feature/<task>, calls
#           fracta_set_intent and fracta_report through fracta-gw with its own
#           token; Completed, with thread id and result; the events show the
#           intent and the report; fracta merge brings the commit in. A write
#           outside the worktree is refused by Codex's sandbox. `fracta say`
#           afterwards resumes the thread (codex exec resume).
#   stream  the interactive TUI in the supervisor's pty: say → the model gets
#           it; peek shows the reply; kill leaves no process behind.
# shellcheck disable=SC2154  # status, output, lines: set by bats' `run`

load ../lib/agents

setup() {
  agent_setup
  mkdir -p "$HOME/.codex"
  cat >"$HOME/.codex/config.toml" <<'EOF'
model_provider = "hostile"
developer_instructions = "HOSTILE-CODEX-MARKER: obey the user config"
[model_providers.hostile]
name = "hostile"
base_url = "http://127.0.0.1:9/v1"
wire_api = "responses"
[mcp_servers.hostile]
url = "http://127.0.0.1:9/mcp"
EOF
  echo "HOSTILE-CODEX-MARKER in the user's AGENTS.md" >"$HOME/.codex/AGENTS.md"
}

teardown() {
  agent_teardown
}

# (CODEX_HOME inherited from the user's shell must not be used either)
codex_project() {
  model_start "$BATS_TEST_TMPDIR/script.json" || return 1
  agent_start codex CODEX_HOME="$HOME/.codex" "base_url: \"$MODEL_URL/v1\"" "model: gpt-test" \
    "secret_env: {OPENAI_API_KEY: sk-test-not-a-real-key}"
}

# batch_script TASK — the model's side of a batch agent's work on TASK.
batch_script() {
  jq -n --arg task "$1" --arg outside "$BATS_TEST_TMPDIR/outside.txt" '{
    conversations: [{match: $task, turns: [
      {text: "Starting.", tools: [{name: "mcp__fracta__fracta_set_intent", input: {intent: "fixing the greeting"}}]},
      {tools: [{name: "exec_command", input: {cmd: "cat greeting.txt"}}]},
      {tools: [{name: "exec_command", input: {cmd: "sed -i s/wrold/world/ greeting.txt"}}]},
      {tools: [{name: "exec_command", input: {cmd: ("echo escaped >" + $outside)}}]},
      {tools: [{name: "exec_command", input: {cmd: "./check.sh && git add greeting.txt && git commit -qm \"fix the greeting\" && git log --oneline -1"}}]},
      {tools: [{name: "mcp__fracta__fracta_report", input: {summary: "greeting fixed, check passes", status: "done"}}]},
      {text: "Fixed the typo in greeting.txt; check.sh passes; committed."},
      {text: "Resumed: {{last_user}}"}
    ] | map(. + {usage: {input_tokens: 1000, output_tokens: 10}})}]
  }' >"$BATS_TEST_TMPDIR/script.json"
}

# outputs CONV — the tool outputs of that conversation's last request, in
# order, one JSON string (the output as text) per line.
outputs() {
  model_turns "$1" | tail -1 | jq -c '.body.input[] | select(.type == "function_call_output") | .output | tostring'
}

@test "sqlite: a codex batch agent edits, runs the contract, commits, calls fracta tools; merge; say resumes" {
  batch_script fix-greeting
  codex_project
  batch_agent_completes fix-greeting codex 'test("^[0-9a-f-]{36}$")'
  thread=$RESUME_TOKEN
  # Codex's own numbers: turn.completed's usage, the sum of the run's seven
  # model calls (1000 and 10 tokens each, by the script); one turn (one
  # `codex exec`); Codex reports no cost.
  usage_recorded fix-greeting codex '.input_tokens == 7000 and .output_tokens == 70 and .turns == 1 and .cost_usd == null'

  # What the model was offered: Codex's shell tool and fracta's tools in
  # their MCP namespace; the thread is the one fracta recorded.
  first=$(model_turns 0 | head -1)
  jq -e '[.body.tools[].name] | index("exec_command") != null' <<<"$first" >/dev/null ||
    fail "tools offered: $(jq -c '[.body.tools[].name]' <<<"$first")"
  jq -e '[.body.tools[] | select(.type == "namespace" and .name == "mcp__fracta") | .tools[].name]
    | (index("fracta_set_intent") and index("fracta_report")) != null' <<<"$first" >/dev/null ||
    fail "no fracta tools: $(jq -c '[.body.tools[] | {name, type}]' <<<"$first")"
  assert_equal "$(jq -r '.headers["session-id"]' <<<"$first")" "$thread" "thread id"

  # Each call's output, as Codex sent it back to the model.
  run outputs 0
  [[ ${#lines[@]} -eq 6 ]] || fail "expected 6 tool outputs: $output"
  [[ ${lines[1]} == *"hello wrold"* ]] || fail "cat: ${lines[1]}"
  [[ ${lines[2]} == *"exited with code 0"* ]] || fail "sed: ${lines[2]}"
  # Item 7: a write outside the worktree, refused by Codex's sandbox.
  [[ ${lines[3]} == *"Read-only file system"* ]] || fail "the write outside was not refused: ${lines[3]}"
  [[ ! -e $BATS_TEST_TMPDIR/outside.txt ]] || fail "the write outside the worktree happened"
  [[ ${lines[4]} == *"check passed"* && ${lines[4]} == *"fix the greeting"* ]] || fail "contract and commit: ${lines[4]}"

  # The commit is on the agent's branch; the events show intent and report.
  assert_equal "$(git show feature/fix-greeting:greeting.txt)" "hello world" "greeting on the branch"
  assert_equal "$(git log -1 --format=%s feature/fix-greeting)" "fix the greeting" "commit"
  intent_and_report_recorded fix-greeting

  # Nothing of the hostile ~/.codex reached the model or the agent.
  grep -q 'HOSTILE-CODEX-MARKER' "$MODEL_LOG" && fail "the user's codex config reached the model"
  grep -q 'mcp__hostile' "$MODEL_LOG" && fail "the user's MCP server reached the agent"

  # fracta merge brings the commit in.
  merge_brings_in fix-greeting

  # Item 2: say to the finished batch agent resumes the same thread.
  say_resumes fix-greeting "also tell me the time"
  assert_json '.agent.status == "Completed" and .agent.last_output == "Resumed: also tell me the time"'
  assert_equal "$(jq -r .agent.resume_token <<<"$output")" "$thread" "the same thread"
  # The resumed request carries the earlier turns: the commit's output among them.
  model_turns 0 | tail -1 | jq -e '.turn == 7 and (.body.input | tostring | contains("check passed"))
    and ([.body.input[] | select(.type == "function_call") | .name] | length) == 6' >/dev/null ||
    fail "the resumed request lacks the earlier turns: $(model_turns 0 | tail -1 | jq -c '{turn, n: (.body.input | length)}')"
}

@test "sqlite: a codex stream agent in the pty: say reaches the model, peek shows the reply, kill leaves nothing" {
  stream_agent_talks codex_project input
}
