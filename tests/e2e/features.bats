#!/usr/bin/env bats
# Control plane features each shown taking effect end to end: kill with and
# without keep_files, events an agent reports (only about itself), the spawn
# options (priority, dispatch, env, base_branch, tier, --contract-file), and
# agents.max_children holding under a burst of concurrent child spawns on
# sqlite and on Postgres.

load ../lib/common
load ../lib/cp

setup() { common_setup; require_cmd curl git jq sqlite3; }
teardown() { cp_stop; common_teardown; }

session_running() { [[ $("$FRACTA_BIN/fracta-spawn-local" is-running "$1") == true ]]; }
registered_worktree() { git -C "$P" worktree list --porcelain | grep -qx "worktree $P/.worktrees/$1"; }

@test "kill: DELETE stops the session and removes the worktree; keep_files keeps it, files and all" {
  cp_project sqlite
  cp_start
  spawn gone 'echo draft >draft.txt; exec sleep 300'
  spawn kept 'echo draft >draft.txt; exec sleep 300'
  wait_for 20 test -f "$P/.worktrees/gone/draft.txt"
  wait_for 20 test -f "$P/.worktrees/kept/draft.txt"
  wait_for 20 status_is gone Running
  wait_for 20 status_is kept Running

  expect_api 200 DELETE /api/v1/agents/gone
  assert_json '.status == "Stopped" and .keep_files == false' "$API_BODY"
  [[ ! -e $P/.worktrees/gone ]] || fail "the worktree is still there: $(ls -A "$P/.worktrees/gone")"
  registered_worktree gone && fail "git still lists the worktree: $(git -C "$P" worktree list)"
  run "$FRACTA_BIN/fracta-spawn-local" is-running gone
  assert_equal "$output" false "gone's session"
  # its branch stays: work on it is not thrown away with the checkout
  git -C "$P" rev-parse --verify -q feature/gone >/dev/null || fail "the branch was deleted"

  expect_api 200 DELETE /api/v1/agents/kept '{"keep_files":true}'
  assert_json '.status == "Stopped" and .keep_files == true' "$API_BODY"
  run "$FRACTA_BIN/fracta-spawn-local" is-running kept
  assert_equal "$output" false "kept's session"
  assert_equal "$(cat "$P/.worktrees/kept/draft.txt")" draft "the uncommitted file"
  registered_worktree kept || fail "the kept worktree is not registered: $(git -C "$P" worktree list)"
  assert_equal "$(agent_field kept status)" Stopped "kept's status"

  # the same through the front door: fracta kill [--keep-files]
  spawn cli-kept 'echo draft >draft.txt; exec sleep 300'
  spawn cli-gone 'echo draft >draft.txt; exec sleep 300'
  wait_for 20 test -f "$P/.worktrees/cli-kept/draft.txt"
  wait_for 20 test -f "$P/.worktrees/cli-gone/draft.txt"
  cd "$P"
  run --separate-stderr "$FRACTA_BIN/fracta" kill cli-kept --keep-files
  assert_status 0
  assert_json '.keep_files == true'
  run --separate-stderr "$FRACTA_BIN/fracta" kill cli-gone
  assert_status 0
  assert_json '.keep_files == false'
  [[ -f $P/.worktrees/cli-kept/draft.txt ]] || fail "--keep-files lost the worktree"
  [[ ! -e $P/.worktrees/cli-gone ]] || fail "fracta kill left the worktree"

  # a worktree git will not remove (locked) is kept, and the answer says so
  spawn locked 'echo draft >draft.txt; exec sleep 300'
  wait_for 20 test -f "$P/.worktrees/locked/draft.txt"
  git -C "$P" worktree lock "$P/.worktrees/locked"
  expect_api 200 DELETE /api/v1/agents/locked
  assert_json '.status == "Stopped" and .keep_files == false and (.message | startswith("worktree kept: ")) and (.message | contains("locked"))' "$API_BODY"
  [[ -f $P/.worktrees/locked/draft.txt ]] || fail "the locked worktree went"
  assert_equal "$(agent_field locked status)" Stopped "locked's status"

  # a keep_files that is not a boolean is refused before anything is stopped
  spawn odd 'exec sleep 300'
  expect_api 400 DELETE /api/v1/agents/odd '{"keep_files":"yes"}'
  assert_json '.error == "keep_files: must be true or false"' "$API_BODY"
  [[ $(agent_field odd status) != Stopped ]] || fail "a refused kill stopped the agent"
}

@test "POST /agents/{task}/events: accepted as the agent's own; events about another agent are dropped" {
  cp_project sqlite
  cp_start
  spawn a1 'exec sleep 300'
  spawn b1 'exec sleep 300'
  local body
  body=$(jq -cn '{events: [
    {type: "agent.note", message: "first finding"},
    {type: "agent.note", subject: "a1", actor: "a1-helper", message: "second finding", payload: {n: 2}},
    {type: "agent.note", subject: "b1", message: "about b1"},
    "not an event",
    {message: "no type"}]}')
  expect_api 202 POST /api/v1/agents/a1/events "$body"
  assert_json '.accepted == 2 and .dropped == 3' "$API_BODY"

  expect_api 200 GET /api/v1/agents/a1/events
  assert_json '[.events[] | select(.type == "agent.note") | [.subject, .actor, .message]] ==
    [["a1", "a1", "first finding"], ["a1", "a1-helper", "second finding"]]' "$API_BODY"
  assert_json '[.events[] | select(.type == "agent.note")][1].payload.n == 2' "$API_BODY"
  # nothing reached b1's log through a1's route
  expect_api 200 GET /api/v1/agents/b1/events
  assert_json '[.events[] | select(.type == "agent.note")] == []' "$API_BODY"
  # and the event log as a whole has exactly the two
  run --separate-stderr env FRACTA_EVENTS_STORE="$STORE_URL" "$FRACTA_BIN/fracta-events" query --type agent.note
  assert_status 0
  assert_equal "$(jq -s 'length' <<<"$output")" 2 "agent.note events in the log"

  expect_api 400 POST /api/v1/agents/a1/events '{"events":{"type":"x"}}'
  expect_api 404 POST /api/v1/agents/nobody/events '{"events":[{"type":"agent.note"}]}'
}

# running_seq TASK — the seq of its lifecycle.running event
running_seq() {
  api GET "/api/v1/agents/$1/events" || return 1
  jq -r '[.events[] | select(.type == "lifecycle.running") | .seq] | first // empty' <<<"$API_BODY"
}

@test "priority and dispatch direct: with the one slot held, the highest priority is claimed first, direct before all" {
  # one agent at a time (max_concurrent, not the workers: a worker is free
  # again once its agent runs): `hold` keeps the slot until it ends
  cp_project sqlite "reaper: {max_concurrent: 1}"
  cp_start
  spawn hold 'while [ ! -e release ]; do sleep 0.1; done'
  wait_for 20 status_is hold Running
  spawn low 'true' '{priority: -5}'
  spawn plain 'true'
  spawn high 'true' '{priority: 7}'
  spawn urgent 'true' '{dispatch: "direct"}'
  # spawned last, but it jumps the queue; nobody else started meanwhile
  for t in low plain high urgent; do
    assert_equal "$(agent_field "$t" status)" Queued "$t while the slot is held"
  done
  touch "$P/.worktrees/hold/release"
  for t in low plain high urgent; do
    wait_agent "$t" 60
    assert_json '.status == "Completed"' "$API_BODY"
  done
  local order="" t
  for t in low plain high urgent; do order+="$(running_seq "$t") $t"$'\n'; done
  assert_equal "$(sort -n <<<"${order%$'\n'}" | cut -d' ' -f2 | paste -sd' ')" "urgent high plain low" "claim order"
}

# side_branch NAME — a branch NAME holding NAME.txt ("NAME"), a commit main does not have
side_branch() {
  git -C "$P" checkout -q -b "$1" || return 1
  echo "$1" >"$P/$1.txt"
  git -C "$P" add "$1.txt"
  git -C "$P" commit -qm "$1" || return 1
  git -C "$P" checkout -q main
}

@test "env reaches the agent's environment; base_branch is the worktree's start; tier picks the runtime's model" {
  cp_project sqlite
  # a runtime on the claude adapter whose program records its command line
  cat >"$BATS_TEST_TMPDIR/claude-rec" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >argv.txt
exec $FRACTA_SOURCE/tests/fixtures/claude "\$@"
EOF
  chmod +x "$BATS_TEST_TMPDIR/claude-rec"
  sed -i "1s|}\$|, agent_runtimes: {tiered: {adapter: claude, program: $BATS_TEST_TMPDIR/claude-rec, model: base-model, model_tiers: {heavy: big-model, light: small-model}}}}|" "$P/fracta.yaml"
  side_branch topic
  cp_start

  spawn envy 'printf "%s|%s" "$GREETING" "$FRACTA_TASK" >env.out' '{env: {GREETING: "hello there", EMPTY: ""}}'
  spawn based 'cat topic.txt >seen.txt' '{base_branch: "topic"}'
  spawn tier-heavy 'Say hi.' '{runtime: "tiered", tier: "heavy"}'
  spawn tier-none 'Say hi.' '{runtime: "tiered"}'
  spawn tier-model 'Say hi.' '{runtime: "tiered", tier: "light", model: "chosen-model"}'
  for t in envy based tier-heavy tier-none tier-model; do
    wait_agent "$t" 60
    assert_json '.status == "Completed"' "$API_BODY"
  done

  assert_equal "$(cat "$P/.worktrees/envy/env.out")" "hello there|envy" "the agent's environment"
  assert_equal "$(cat "$P/.worktrees/based/seen.txt")" topic "a file only on topic"
  git -C "$P/.worktrees/based" merge-base --is-ancestor topic HEAD || fail "the worktree does not start at topic"
  assert_equal "$(agent_field based base_branch)" topic "the agent's base_branch"
  # a worktree from the default base has no topic.txt
  [[ ! -e $P/.worktrees/envy/topic.txt ]] || fail "envy's worktree started from topic"

  assert_equal "$(agent_field tier-heavy model)" big-model "heavy's model"
  grep -qx big-model "$P/.worktrees/tier-heavy/argv.txt" || fail "heavy: $(cat "$P/.worktrees/tier-heavy/argv.txt")"
  assert_equal "$(agent_field tier-none model)" base-model "no tier: the runtime's model"
  grep -qx base-model "$P/.worktrees/tier-none/argv.txt" || fail "none: $(cat "$P/.worktrees/tier-none/argv.txt")"
  # an explicit model wins over the tier
  assert_equal "$(agent_field tier-model model)" chosen-model "explicit model"
  grep -qx chosen-model "$P/.worktrees/tier-model/argv.txt" || fail "model: $(cat "$P/.worktrees/tier-model/argv.txt")"
  grep -qx small-model "$P/.worktrees/tier-model/argv.txt" && fail "the tier's model was passed too"

  # the names fracta sets itself cannot be overridden: refused, nothing spawned
  local name
  for name in FRACTA_TASK FRACTA_GATEWAY_URL FRACTA_GATEWAY_TOKEN; do
    expect_api 400 POST /api/v1/agents "{\"task\":\"impostor\",\"contract\":\"true\",\"env\":{\"$name\":\"x\"}}"
    assert_json ".error == \"env.$name: reserved (fracta sets it for every agent)\"" "$API_BODY"
  done
  expect_api 404 GET /api/v1/agents/impostor

  # a base branch that does not exist: the agent fails and says why
  spawn nobase 'true' '{base_branch: "no-such-branch"}'
  wait_agent nobase 60
  assert_json '.status == "Failed" and (.reason | contains("no-such-branch"))' "$API_BODY"
}

@test "fracta spawn: --contract-file (a file, and - for stdin), --env, --base-branch, --priority, --tier reach the agent" {
  CP_AGENTS='agent_runtimes: {shell: {model_tiers: {light: small-model}}}' cp_project sqlite
  side_branch side
  cp_start
  cd "$P"
  printf 'echo "from the file: $WHO $(cat side.txt)" >file.out\n' >"$BATS_TEST_TMPDIR/contract.sh"
  run --separate-stderr "$FRACTA_BIN/fracta" spawn by-file --contract-file "$BATS_TEST_TMPDIR/contract.sh" \
    --env WHO=file-agent --base-branch side --priority 3 --tier light --wait --timeout 60s
  assert_status 0
  assert_equal "$(cat "$P/.worktrees/by-file/file.out")" "from the file: file-agent side" "the contract from the file ran"
  expect_api 200 GET /api/v1/agents/by-file
  assert_json '.agent.base_branch == "side" and .agent.model == "small-model" and .agent.status == "Completed"' "$API_BODY"
  [[ $(sqlite3 "$P/.fracta/state.db" "SELECT priority FROM missions WHERE task = 'by-file'") == 3 ]] ||
    fail "mission priority: $(sqlite3 "$P/.fracta/state.db" "SELECT priority FROM missions WHERE task = 'by-file'")"
  run --separate-stderr bash -c 'echo "echo from stdin >stdin.out" | "$1" spawn by-stdin --contract-file - --wait --timeout 60s' _ "$FRACTA_BIN/fracta"
  assert_status 0
  assert_equal "$(cat "$P/.worktrees/by-stdin/stdin.out")" "from stdin" "the contract from stdin ran"
  # both ways at once is a usage error, and nothing is spawned
  run --separate-stderr "$FRACTA_BIN/fracta" spawn both --contract x --contract-file "$BATS_TEST_TMPDIR/contract.sh"
  assert_status 100
  [[ $stderr == *"--contract or --contract-file"* ]] || fail "unclear: $stderr"
  expect_api 404 GET /api/v1/agents/both
}

# burst_children PARENT N — N child spawns of PARENT sent at once; CODES holds one HTTP status per line
burst_children() {
  local i pids=()
  CODES="$BATS_TEST_TMPDIR/codes"
  : >"$CODES"
  for ((i = 1; i <= $2; i++)); do
    curl -sS -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
      --data-binary "{\"task\":\"$1-c$i\",\"contract\":\"exec sleep 300\",\"parent\":\"$1\"}" \
      "$CP_URL/api/v1/agents" >>"$CODES" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || return 1; done
}

live_children() {
  api GET /api/v1/agents || return 1
  jq --arg p "$1" '[.agents[] | select(.parent == $p and (.status | IN("Completed", "Failed", "Stopped") | not))] | length' <<<"$API_BODY"
}

max_children_under_burst() {
  cp_project "$1"
  sed -i '1s/}$/, max_children: 3}/' "$P/fracta.yaml"
  cp_start
  local round
  for round in 1 2 3; do
    spawn "p$round" 'exec sleep 300'
    burst_children "p$round" 40
    assert_equal "$(grep -c '^201$' "$CODES")" 3 "round $round: spawns accepted ($(sort "$CODES" | uniq -c | tr -s '\n ' ' '))"
    assert_equal "$(grep -c '^400$' "$CODES")" 37 "round $round: spawns refused"
    assert_equal "$(live_children "p$round")" 3 "round $round: live children"
  done
}

@test "sqlite: agents.max_children holds under 40 concurrent child spawns" { max_children_under_burst sqlite; }
@test "postgres: agents.max_children holds under 40 concurrent child spawns" { max_children_under_burst postgres; }
