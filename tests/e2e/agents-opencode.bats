#!/usr/bin/env bats
# Real OpenCode agents under fracta (issue 14), on sqlite: the real `opencode`
# CLI pinned in tests/package.json, in a project made by `fracta init
# --scaffold local`, spawned and driven with `fracta`, its model the scripted
# model server's Anthropic wire (tests/model) named by the runtime's
# `base_url`. The user's home is hostile throughout: an opencode config
# (and XDG_CONFIG_HOME naming it) with another provider URL, an MCP server,
# instructions and allow-everything permissions, and a ~/.claude/CLAUDE.md
# (which OpenCode would read), none of which may reach the agent.
#
#   batch   edits a file, runs the contract, commits on feature/<task>, calls
#           fracta_set_intent and fracta_report through fracta-gw with its own
#           token; Completed, with thread id and result; the events show the
#           intent and the report; fracta merge brings the commit in. A write
#           outside the worktree is refused by OpenCode's permissions. `fracta
#           say` afterwards resumes the session (opencode run --session).
#   stream  the interactive TUI in the supervisor's pty: say → the model gets
#           it; peek shows the reply; kill leaves no process behind.
# shellcheck disable=SC2154  # status, output, lines: set by bats' `run`

load ../lib/agents

setup() {
  agent_setup
  mkdir -p "$HOME/.config/opencode" "$HOME/.claude"
  jq -n '{
    provider: {anthropic: {options: {baseURL: "http://127.0.0.1:9/v1"}}},
    instructions: ["HOSTILE-OPENCODE-MARKER.md"],
    mcp: {hostile: {type: "remote", url: "http://127.0.0.1:9/mcp"}},
    permission: {"*": "allow", external_directory: "allow"}
  }' >"$HOME/.config/opencode/opencode.json"
  echo "HOSTILE-OPENCODE-MARKER in the user's instructions" >"$HOME/.config/opencode/HOSTILE-OPENCODE-MARKER.md"
  echo "HOSTILE-OPENCODE-MARKER in the user's AGENTS.md" >"$HOME/.config/opencode/AGENTS.md"
  echo "HOSTILE-OPENCODE-MARKER in the user's CLAUDE.md" >"$HOME/.claude/CLAUDE.md"
}

teardown() {
  agent_teardown
}

# (XDG_CONFIG_HOME inherited from the user's shell must not be used either)
opencode_project() {
  model_start "$BATS_TEST_TMPDIR/script.json" || return 1
  agent_start opencode XDG_CONFIG_HOME="$HOME/.config" "base_url: \"$MODEL_URL/v1\"" "model: anthropic/claude-sonnet-4-5" \
    "secret_env: {ANTHROPIC_API_KEY: sk-ant-test-not-a-real-key}" "env: {OPENCODE_DISABLE_MODELS_FETCH: \"1\"}"
}

# batch_script TASK — the model's side of a batch agent's work on TASK.
batch_script() {
  jq -n --arg task "$1" --arg outside "$BATS_TEST_TMPDIR/outside.txt" '{
    conversations: [{match: $task, turns: [
      {text: "Starting.", tools: [{name: "fracta_fracta_set_intent", input: {intent: "fixing the greeting"}}]},
      {tools: [{name: "read", input: {filePath: "greeting.txt"}}]},
      {tools: [{name: "edit", input: {filePath: "greeting.txt", oldString: "hello wrold", newString: "hello world"}}]},
      {tools: [{name: "write", input: {filePath: $outside, content: "escaped\n"}}]},
      {tools: [{name: "bash", input: {command: "./check.sh && git add greeting.txt && git commit -qm \"fix the greeting\" && git log --oneline -1", description: "run the contract and commit"}}]},
      {tools: [{name: "fracta_fracta_report", input: {summary: "greeting fixed, check passes", status: "done"}}]},
      {text: "Fixed the typo in greeting.txt; check.sh passes; committed."},
      {text: "Resumed: {{last_user}}"}
    ] | map(. + {usage: {input_tokens: 1000, output_tokens: 10}})}]
  }' >"$BATS_TEST_TMPDIR/script.json"
}

@test "sqlite: an opencode batch agent edits, runs the contract, commits, calls fracta tools; merge; say resumes" {
  batch_script fix-greeting
  opencode_project
  batch_agent_completes fix-greeting opencode 'startswith("ses_")'
  session=$RESUME_TOKEN
  # OpenCode's own numbers: its step_finish parts, one per model call (seven,
  # 1000 and 10 tokens each by the script), with the cost it computed from
  # its own price list (claude-sonnet-4-5: $3 and $15 per million).
  usage_recorded fix-greeting opencode '.input_tokens == 7000 and .output_tokens == 70 and .turns == 7
    and (.cost_usd - 0.02205 | fabs) < 1e-9'

  # What the model was offered: OpenCode's tools and fracta's, up front.
  model_turns 0 | head -1 | jq -e '[.body.tools[].name] | (index("bash") and index("edit")
    and index("fracta_fracta_set_intent") and index("fracta_fracta_report")) != null' >/dev/null ||
    fail "tools offered: $(model_turns 0 | head -1 | jq -c '[.body.tools[].name]')"

  # Each tool call's result, as OpenCode sent it back to the model.
  run tool_results 0
  [[ ${#lines[@]} -eq 6 ]] || fail "expected 6 tool results: $output"
  assert_json '.is_error != true and (.content | tostring | contains("hello wrold"))' "${lines[1]}"  # read
  assert_json '.is_error != true and (.content | tostring | test("success|applied"; "i"))' "${lines[2]}"  # edit
  # Item 7: a write outside the worktree, refused by OpenCode's permissions.
  assert_json '.content | tostring | contains("prevents you from using this specific tool call")' "${lines[3]}"
  [[ ! -e $BATS_TEST_TMPDIR/outside.txt ]] || fail "the write outside the worktree happened"
  assert_json '.is_error != true and (.content | tostring | contains("check passed"))' "${lines[4]}"  # bash
  # Item 6: the refusal is an agent.tool_denied event, in fracta watch.
  tool_denied_watched fix-greeting opencode write

  # The commit is on the agent's branch; the events show intent and report.
  assert_equal "$(git show feature/fix-greeting:greeting.txt)" "hello world" "greeting on the branch"
  assert_equal "$(git log -1 --format=%s feature/fix-greeting)" "fix the greeting" "commit"
  intent_and_report_recorded fix-greeting

  # Nothing of the hostile home reached the model or the agent.
  grep -q 'HOSTILE-OPENCODE-MARKER' "$MODEL_LOG" && fail "the user's opencode or claude config reached the model"
  grep -q 'hostile_' "$MODEL_LOG" && fail "the user's MCP server reached the agent"
  # Nothing of fracta's in the worktree for the agent to commit but AGENTS.md.
  [[ ! -e $WT_ROOT/fix-greeting/opencode.json ]] || fail "an opencode.json in the worktree"

  # fracta merge brings the commit in.
  merge_brings_in fix-greeting

  # Item 2: say to the finished batch agent resumes the same session.
  say_resumes fix-greeting "also tell me the time"
  # (opencode run quotes a message that holds spaces before it sends it)
  assert_json '.agent.status == "Completed" and .agent.last_output == "Resumed: \"also tell me the time\""'
  assert_equal "$(jq -r .agent.resume_token <<<"$output")" "$session" "the same session"
  # The resumed request carries the earlier turns: the bash call and its result among them.
  resumed_with_earlier_turns bash
}

@test "sqlite: an opencode stream agent in the pty: say reaches the model, peek shows the reply, kill leaves nothing" {
  stream_agent_talks opencode_project messages
}
