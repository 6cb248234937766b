#!/usr/bin/env bats
# docker-compose mode's agents beyond the README's shell one, in a real
# engine (podman, podman-compose; see compose.bats):
#
#   claude   the real Claude Code CLI of the agent image, run by the control
#            plane in its container, against the scripted model server
#            (tests/model), which runs in that container too, on its
#            loopback: it calls fracta's tools through the gateway service,
#            edits, runs the contract and commits; the commit is on the
#            host's branch and merges. Its key is the README's way: a
#            variable in deployment/.env, which the control plane exports.
#   restart  the control plane's container restarted with a shell agent
#            running: local sessions are processes of that container, so
#            the agent ends Failed (reason `lost`), started once, never
#            again; what had ended is kept; a new agent runs to Completed.
#
# shellcheck disable=SC2154  # status, output: set by bats' `run`

load ../lib/common
load compose

setup() { compose_setup; }
teardown() { compose_teardown; }

MODEL_PORT=18999

# claude_project — the scaffolded project (cwd) given a file to fix and a
# contract, the claude runtime aimed at the model server on the control
# plane's loopback, and a dummy key in deployment/.env
claude_project() {
  echo "hello wrold" >greeting.txt
  printf '#!/bin/sh\ngrep -qx "hello world" greeting.txt && echo "check passed"\n' >check.sh
  chmod +x check.sh
  sed -i "s|^  default_mode: batch\$|&\n  agent_runtimes:\n    claude:\n      env: {ANTHROPIC_BASE_URL: \"http://127.0.0.1:$MODEL_PORT\", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: \"1\", DISABLE_AUTOUPDATER: \"1\"}|" fracta.yaml
  grep -q "ANTHROPIC_BASE_URL" fracta.yaml || fail "fracta.yaml: $(cat fracta.yaml)"
  echo "ANTHROPIC_API_KEY=sk-ant-test-dummy" >>deployment/.env
  git add -A && git commit -qm "greeting, check, claude's model server"
}

# model_in_cp SCRIPT — the scripted model server in the control plane's
# container (node is in the agent image), on 127.0.0.1:MODEL_PORT there
model_in_cp() {
  local c
  c=$(container controlplane)
  podman cp "$FRACTA_SOURCE/tests/model" "$c:/tmp/model" || fail "podman cp tests/model"
  podman cp "$1" "$c:/tmp/model-script.json" || fail "podman cp $1"
  podman exec -d "$c" node /tmp/model/server.mjs --script /tmp/model-script.json --log /tmp/model.log \
    --ready-file /tmp/model.ready --port "$MODEL_PORT" || fail "podman exec the model server"
  wait_for 60 podman exec "$c" test -s /tmp/model.ready || fail "the model server did not start"
}

# model_log — what the model server recorded, one JSON object per request
model_log() { podman exec "$(container controlplane)" cat /tmp/model.log; }

# claude_script TASK — the model's side of the agent's work
claude_script() {
  local wt=/project/.worktrees/$1
  jq -n --arg task "$1" --arg wt "$wt" '{
    conversations: [{match: $task, turns: [
      {text: "Starting.", tools: [{name: "mcp__fracta__fracta_set_intent", input: {intent: "fixing the greeting"}}]},
      {tools: [{name: "Read", input: {file_path: ($wt + "/greeting.txt")}}]},
      {tools: [{name: "Edit", input: {file_path: ($wt + "/greeting.txt"), old_string: "hello wrold", new_string: "hello world"}}]},
      {tools: [{name: "Bash", input: {command: "./check.sh && git add greeting.txt && git commit -qm \"fix the greeting\"", description: "run the contract and commit"}}]},
      {text: "Fixed the typo in greeting.txt; check.sh passes; committed."}
    ]}],
    fallback: {text: "ok"}
  }'
}

# events TASK — the task's events, one JSON object per line
events() { "$FRACTA_BIN/fracta" watch "$1" --after-seq 0 --format json; }

@test "claude: a real Claude Code agent in the control plane's container commits through the model server; its branch merges on the host" {
  scaffold
  claude_project
  up
  claude_script fix-greeting >"$BATS_TEST_TMPDIR/script.json"
  model_in_cp "$BATS_TEST_TMPDIR/script.json"

  run --separate-stderr "$FRACTA_BIN/fracta" spawn fix-greeting \
    --contract "Fix the typo in greeting.txt so that ./check.sh passes, then commit." --wait --timeout 10m
  assert_status 0
  run --separate-stderr "$FRACTA_BIN/fracta" get fix-greeting
  assert_status 0
  assert_json '.agent.status == "Completed" and .agent.runtime == "claude"
    and .agent.last_output == "Fixed the typo in greeting.txt; check.sh passes; committed."'
  # the model saw the CLI's tools and fracta's (the gateway's), and the key from deployment/.env
  model_log | head -1 | jq -e '[.body.tools[].name] | (index("Bash") and index("mcp__fracta__fracta_set_intent")) != null' >/dev/null ||
    fail "tools offered: $(model_log | head -1 | jq -c '[.body.tools[].name]')"
  # the intent went through the gateway service into the control plane's log
  run --separate-stderr events fix-greeting
  assert_status 0
  jq -se 'map(select(.type == "agent.intent" and (.message | contains("fixing the greeting")))) | length == 1' <<<"$output" >/dev/null ||
    fail "no agent.intent event: $output"
  # the commit made in the container is on the host's branch, and merges
  run git log -1 --format=%s feature/fix-greeting
  assert_status 0
  assert_equal "$output" "fix the greeting" "the agent's branch head"
  run --separate-stderr "$FRACTA_BIN/fracta" merge fix-greeting
  assert_status 0
  assert_equal "$(cat greeting.txt)" "hello world" "main after the merge"
  down_clean
}

# ended TASK — the task is Completed, Failed or Stopped
ended() {
  "$FRACTA_BIN/fracta" get "$1" 2>/dev/null | jq -e '.agent.status | IN("Completed", "Failed", "Stopped")' >/dev/null
}

running() { "$FRACTA_BIN/fracta" get "$1" 2>/dev/null | jq -e '.agent.status == "Running"' >/dev/null; }

@test "restart: the control plane's container restarted mid-run; the running agent fails (reason: lost), started once; nothing ended is lost; new agents run" {
  scaffold
  up
  shell_agent_merges
  run --separate-stderr "$FRACTA_BIN/fracta" spawn long --runtime shell --contract 'echo started >started.txt; sleep 3600'
  assert_status 0
  wait_for 120 running long
  wait_for 60 test -f .worktrees/long/started.txt

  run compose restart controlplane
  assert_status 0
  wait_for 120 cp_ready || fail "control plane not ready after the restart: $(logs_of controlplane)"
  wait_for 120 ended long
  run --separate-stderr "$FRACTA_BIN/fracta" get long
  assert_status 0
  assert_json '.agent.status == "Failed" and (.agent.reason | test("lost")) and .agent.attempt == 1'
  # started once: one move to Running (no second session), and its process is gone
  run --separate-stderr events long
  assert_status 0
  jq -se 'map(select(.type == "lifecycle.running")) | length == 1' <<<"$output" >/dev/null ||
    fail "long did not start exactly once: $output"
  run podman exec "$(container controlplane)" pgrep -f 'sleep 3600'
  assert_status 1
  # what had ended is there still
  history_found hello "$BRANCH" || fail "the ended agent's history is gone after the restart"
  # and the restarted control plane runs new agents
  run --separate-stderr "$FRACTA_BIN/fracta" spawn after --runtime shell \
    --contract 'echo after >after.txt && git add after.txt && git commit -qm after' --wait --timeout 10m
  assert_status 0
  run git log -1 --format=%s feature/after
  assert_status 0
  assert_equal "$output" "after" "the new agent's branch head"
  down_clean
}
