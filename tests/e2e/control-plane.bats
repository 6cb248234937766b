#!/usr/bin/env bats
# The control plane end to end (spec: control-plane.md), on sqlite and on
# Postgres: the real fracta-cp daemon, the real fracta-spawn-local provider,
# shell-runtime agents in real git worktrees.

load ../lib/common
load ../lib/cp

setup() { common_setup; require_cmd curl git; }
teardown() { cp_stop; common_teardown; }

flow_completes_with_output() {
  cp_project "$1"
  cp_start
  spawn t1 'echo hello >f.txt && git add f.txt && git commit -qm "add f" && echo all done'
  assert_json '.agent == "t1" and .status == "Queued" and .branch == "feature/t1" and .mission_id > 0' "$API_BODY"
  wait_agent t1
  assert_json '.status == "Completed" and .last_output == "all done" and .exit_code == 0 and .started_at != "" and .ended_at != ""' "$API_BODY"
  # the commit is on the agent's branch, not on main
  git -C "$P" show feature/t1:f.txt | grep -qx hello
  run git -C "$P" show main:f.txt
  [[ $status -eq 128 && $output == *"f.txt' "*"in 'main'"* ]] || fail "f.txt on main: $status $output"
  expect_api 200 GET /api/v1/agents/t1/events
  assert_equal "$(jq -r '[.events[].type] | join(" ")' <<<"$API_BODY")" \
    "lifecycle.queued lifecycle.running lifecycle.completed" "lifecycle events"
  expect_api 200 GET /api/v1/agents
  assert_json '.agents | length == 1 and .[0].name == "t1"' "$API_BODY"
  expect_api 200 GET '/api/v1/agents?status=Completed'
  assert_json '.agents | length == 1' "$API_BODY"
  expect_api 200 GET '/api/v1/agents?status=Running'
  assert_json '.agents | length == 0' "$API_BODY"
  expect_api 200 GET '/api/v1/agents/t1/logs?lines=1'
  assert_json '.output == "all done"' "$API_BODY"
}

flow_failure_has_exit_code_and_reason() {
  cp_project "$1"
  cp_start
  spawn bad 'echo oops >&2; exit 3'
  wait_agent bad
  assert_json '.status == "Failed" and .exit_code == 3 and (.reason | length > 0)' "$API_BODY"
  expect_api 200 GET /api/v1/agents/bad/events
  assert_json '[.events[].type] | index("lifecycle.failed") != null' "$API_BODY"
}

flow_kill_running_agent() {
  cp_project "$1"
  cp_start
  spawn long 'echo started; exec sleep 60'
  wait_for 20 status_is long Running
  wait_for 10 session_running long
  expect_api 200 DELETE /api/v1/agents/long
  assert_json '.status == "Stopped"' "$API_BODY"
  # the session is gone at once, not when a worker next looks
  run "$FRACTA_BIN/fracta-spawn-local" is-running long
  assert_equal "$output" "false" "is-running after kill"
  # the worker sees the session end; the late exit must not overwrite Stopped
  wait_for 20 workers_idle
  assert_equal "$(agent_field long status)" "Stopped" "status after the worker finished"
  expect_api 200 GET /api/v1/agents/long/events
  assert_equal "$(jq -r '[.events[].type | select(startswith("lifecycle."))] | last' <<<"$API_BODY")" \
    "lifecycle.stopped" "last lifecycle event"
  # kill is idempotent
  expect_api 200 DELETE /api/v1/agents/long
  assert_json '.status == "Stopped"' "$API_BODY"
  expect_api 404 DELETE /api/v1/agents/nobody
}

# admissions_refused — the control plane's workers have held a claim back
admissions_refused() {
  api GET /metrics && grep -qE '^fracta_admissions_refused_total [1-9]' <<<"$API_BODY"
}

session_running() { [[ $("$FRACTA_BIN/fracta-spawn-local" is-running "$1") == true ]]; }

flow_kill_queued_agent() {
  cp_project "$1" "reaper: {max_concurrent: 1}"
  cp_start
  spawn first 'exec sleep 60'
  wait_for 20 status_is first Running
  spawn second 'echo never'
  # a worker has tried second and been refused, not merely not got to it yet
  wait_for 20 admissions_refused
  assert_equal "$(agent_field second status)" "Queued" "held back by max_concurrent"
  expect_api 200 DELETE /api/v1/agents/second
  expect_api 200 DELETE /api/v1/agents/first
  wait_for 20 workers_idle
  assert_equal "$(agent_field second status)" "Stopped" "queued agent killed"
  ! grep -q . "$P/.fracta/sessions/second/output.log" 2>/dev/null
}

flow_say_reaches_stream_agent() {
  cp_project "$1"
  cp_start
  spawn talk '' '{mode: "stream"}'
  wait_for 20 status_is talk Running
  expect_api 200 POST /api/v1/agents/talk/say '{"message":"echo said-$((40+2)) >said.txt"}'
  assert_json '.status == "dispatched"' "$API_BODY"
  wait_for 10 test -f "$P/.worktrees/talk/said.txt"
  grep -qx said-42 "$P/.worktrees/talk/said.txt"
  expect_api 200 GET '/api/v1/agents/talk/peek?lines=20'
  assert_json '.output | contains("said-")' "$API_BODY"
  expect_api 200 POST /api/v1/agents/talk/say '{"message":"exit 0"}'
  wait_agent talk
  assert_json '.status == "Completed"' "$API_BODY"
  # a batch agent's messages go to its inbox, read once
  spawn quiet 'sleep 1'
  expect_api 200 POST /api/v1/agents/quiet/say '{"message":"hello inbox"}'
  assert_json '.delivery == "inbox"' "$API_BODY"
  expect_api 201 POST /api/v1/messages '{"from":"talk","to":"quiet","message":"second"}'
  expect_api 200 GET /api/v1/agents/quiet
  assert_json '.agent.unread_messages == 2' "$API_BODY"
  expect_api 200 GET /api/v1/agents/quiet/inbox
  assert_json '[.messages[].message] == ["hello inbox", "second"]' "$API_BODY"
  expect_api 200 GET /api/v1/agents/quiet/inbox
  assert_json '.messages == []' "$API_BODY"
}

flow_say_resumes_ended_batch_agent() {
  cp_project "$1" "agents:" "  default_runtime: shell" \
    "  agent_runtimes: {claude: {program: $FRACTA_SOURCE/tests/fixtures/claude}}"
  sed -i '1d' "$P/fracta.yaml"  # the agents: line cp_project wrote; ours replaces it
  cp_start
  spawn chat 'Write a haiku.' '{runtime: "claude"}'
  wait_agent chat
  assert_json '.status == "Completed" and (.resume_token | length > 0)' "$API_BODY"
  local token
  token=$(jq -r .resume_token <<<"$API_BODY")
  expect_api 200 POST /api/v1/agents/chat/say '{"message":"Now one about rain."}'
  assert_json '.delivery == "resume"' "$API_BODY"
  wait_agent chat
  assert_json '.status == "Completed" and (.last_output | contains("Now one about rain.")) and .ended_at != ""' "$API_BODY"
  assert_equal "$(jq -r .resume_token <<<"$API_BODY")" "$token" "the conversation resumed"
  # both runs happened in the same worktree, the second with --resume
  assert_equal "$(cut -d' ' -f1 "$P/.worktrees/chat/fixture-claude.log" | sort -u)" "$token" "session ids"
  assert_equal "$(line_count "$P/.worktrees/chat/fixture-claude.log")" "2" "runs"
  # a shell agent has nothing to resume: 409
  spawn sh 'true'
  wait_agent sh
  expect_api 409 POST /api/v1/agents/sh/say '{"message":"again"}'
}

flow_merge_and_conflict() {
  cp_project "$1"
  cp_start
  spawn a 'echo from-a >shared.txt && git add shared.txt && git commit -qm a'
  spawn b 'echo from-b >shared.txt && git add shared.txt && git commit -qm b'
  wait_agent a
  wait_agent b
  expect_api 200 POST /api/v1/agents/a/merge
  assert_json '.status == "merged" and (.message | length > 0)' "$API_BODY"
  grep -qx from-a "$P/shared.txt"
  git -C "$P" log --format=%s -1 | grep -q "feature/a"
  before=$(git -C "$P" rev-parse HEAD)
  expect_api 409 POST /api/v1/agents/b/merge
  assert_json '(.error | length > 0) and .conflicts == ["shared.txt"]' "$API_BODY"
  assert_equal "$(git -C "$P" rev-parse HEAD)" "$before" "HEAD after the failed merge"
  assert_equal "$(git -C "$P" status --porcelain --untracked-files=no)" "" "tree after the failed merge"
  [[ ! -e $P/.git/MERGE_HEAD ]]
  expect_api 200 GET /api/v1/agents/b/events
  assert_json '[.events[].type] | index("merge.conflict") != null' "$API_BODY"
}

flow_watch_streams_and_resumes() {
  cp_project "$1"
  cp_start
  spawn w 'sleep 1; echo watched'
  curl -sN "$CP_URL/api/v1/agents/w/watch" >"$BATS_TEST_TMPDIR/watch.out" &
  local curl_pid=$!
  BG_PIDS+=("$curl_pid")
  # the stream ends by itself once the agent has ended
  wait_for 30 process_gone "$curl_pid"
  local out
  out=$(<"$BATS_TEST_TMPDIR/watch.out")
  grep -q '^event: snapshot$' <<<"$out"
  grep -q '^event: lifecycle.running$' <<<"$out"
  grep -q '^event: lifecycle.completed$' <<<"$out"
  [[ $(grep -m1 '^event:' <<<"$out") == "event: snapshot" ]]
  # ids are the event seqs; resuming after the running event, by either
  # Last-Event-ID or after_seq, sends the snapshot and then exactly the
  # agent's events that followed it (the server's cursor, not a client filter)
  local running_seq
  running_seq=$(awk '/^id: /{id=$2} /^event: lifecycle.running$/{print id; exit}' <<<"$out")
  [[ $running_seq =~ ^[0-9]+$ ]]
  expect_api 200 GET /api/v1/agents/w/events
  local all after
  all=$(jq -r '.events[] | "\(.seq) \(.type)"' <<<"$API_BODY")
  after=$(jq -r --argjson s "$running_seq" '.events[] | select(.seq > $s) | "\(.seq) \(.type)"' <<<"$API_BODY")
  [[ $after == *" lifecycle.completed" ]] || fail "no completion after the running event: $all"
  assert_equal "$(sse_frames "$BATS_TEST_TMPDIR/watch.out")" "snapshot"$'\n'"$all" "the whole stream"
  curl -sSN -H "Last-Event-ID: $running_seq" "$CP_URL/api/v1/agents/w/watch" >"$BATS_TEST_TMPDIR/resumed.out"
  assert_equal "$(sse_frames "$BATS_TEST_TMPDIR/resumed.out")" "snapshot"$'\n'"$after" "resumed with Last-Event-ID: $running_seq"
  curl -sSN "$CP_URL/api/v1/agents/w/watch?after_seq=$running_seq" >"$BATS_TEST_TMPDIR/resumed.out"
  assert_equal "$(sse_frames "$BATS_TEST_TMPDIR/resumed.out")" "snapshot"$'\n'"$after" "resumed with after_seq=$running_seq"
}

# sse_frames FILE — one line per SSE event in FILE: "SEQ TYPE", or just the
# type for an event without an id (the snapshot).
sse_frames() {
  awk '/^id: /{id=$2" "} /^event: /{print id $2; id=""}' "$1"
}

@test "sqlite: completes with output" { flow_completes_with_output sqlite; }
@test "sqlite: failure has exit code and reason" { flow_failure_has_exit_code_and_reason sqlite; }
@test "sqlite: kill running agent" { flow_kill_running_agent sqlite; }
@test "sqlite: kill queued agent" { flow_kill_queued_agent sqlite; }
@test "sqlite: say reaches stream agent" { flow_say_reaches_stream_agent sqlite; }
@test "sqlite: say resumes an ended batch agent" { flow_say_resumes_ended_batch_agent sqlite; }
@test "postgres: say resumes an ended batch agent" { flow_say_resumes_ended_batch_agent postgres; }
@test "sqlite: merge and conflict" { flow_merge_and_conflict sqlite; }
@test "sqlite: watch streams and resumes" { flow_watch_streams_and_resumes sqlite; }
@test "postgres: completes with output" { flow_completes_with_output postgres; }
@test "postgres: failure has exit code and reason" { flow_failure_has_exit_code_and_reason postgres; }
@test "postgres: kill running agent" { flow_kill_running_agent postgres; }
@test "postgres: kill queued agent" { flow_kill_queued_agent postgres; }
@test "postgres: say reaches stream agent" { flow_say_reaches_stream_agent postgres; }
@test "postgres: merge and conflict" { flow_merge_and_conflict postgres; }
@test "postgres: watch streams and resumes" { flow_watch_streams_and_resumes postgres; }
