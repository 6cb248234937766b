#!/usr/bin/env bats
# Workers start agents; they do not sit with them (issue 20). Many agents
# run at once on four workers, followed by one thread and one provider
# `watch` process: fracta-cp's threads and child processes do not grow with
# the number running. max_concurrent, not the worker count, bounds running
# agents. Timings belong to tests/bench (section follow), not here.
#
# The agents wait on a lock the test holds (flock -s), so they end when the
# test lets them, with no polling loop per agent and no window to miss.

load ../lib/common
load ../lib/cp

setup() {
  common_setup
  require_cmd curl flock ps
  counting_provider
  GATE="$BATS_TEST_TMPDIR/gate.lock"
  : >"$GATE"
}

teardown() {
  [[ -n ${GATE_FD:-} ]] && exec {GATE_FD}>&-
  cp_stop
  common_teardown
}

# A plain-directory project (no worktrees: this is about following, not git).
scale_project() {
  CP_QUEUE="workers: 4, lease_timeout: 10s, start_timeout: 60s, max_attempts: 100" \
    cp_project sqlite "  backend: exec:$COUNTING" "reaper: {interval: 1h${1:+, $1}}"
  rm -rf "$P/.git"
}


spawn_gated() { # spawn_gated PREFIX FROM TO
  local i
  for ((i = $2; i <= $3; i++)); do
    spawn "$1-$i" "flock -s '$GATE' true; echo done-$i" >/dev/null || return 1
  done
}


# The daemon's threads and children, once `n` agents run and no start is
# under way (the workers idle: nothing pending, every claim Running).
sample() {
  wait_for 300 running_is "$1"
  wait_for 60 no_start_under_way
  THREADS[$1]=$(threads_of "$CP_PID")
  CHILDREN[$1]=$(children_of "$CP_PID")
  echo "# $1 running: ${THREADS[$1]} threads, ${CHILDREN[$1]} children" >&3
}

@test "200 running agents on 4 workers: threads and children do not grow with N; every exit seen, all Completed" {
  scale_project
  cp_start
  close_gate
  declare -A THREADS CHILDREN
  spawn_gated s 1 10
  sample 10
  spawn_gated s 11 100
  sample 100
  spawn_gated s 101 200
  sample 200
  assert_equal "${THREADS[200]}" "${THREADS[10]}" "fracta-cp threads at 200 running vs 10"
  assert_equal "${THREADS[100]}" "${THREADS[10]}" "fracta-cp threads at 100 running vs 10"
  assert_equal "${CHILDREN[200]}" "${CHILDREN[10]}" "fracta-cp child processes at 200 running vs 10"
  # the one follower's watch is there, and no per-agent wait
  run pgrep -c -P "$CP_PID" -f "fracta-spawn-local watch"
  assert_equal "$output" 1 "watch processes under fracta-cp"
  run pgrep -P "$CP_PID" -f "fracta-spawn-local (wait|is-running)"
  assert_equal "$status" 1 "no wait process under fracta-cp (pgrep exit)"
  open_gate
  wait_for 300 completed_is 200
  assert_equal "$(sort -u "$STARTS" | wc -l)" 200 "sessions started"
  assert_equal "$(line_count "$STARTS")" 200 "starts (none twice)"
  api GET "/api/v1/agents/s-137"
  assert_equal "$(jq -r .agent.last_output <<<"$API_BODY")" "done-137" "an agent's output"
}

# Running agents at every sample until `n` are Completed: never above `cap`;
# MAX_RUNNING is the most seen.
sample_until_completed() { # N CAP
  local end=$((SECONDS + 600 * ${FRACTA_TEST_PATIENCE:-4} / 4)) m running completed
  MAX_RUNNING=0
  while ((SECONDS < end)); do
    m=$(curl -s "$CP_URL/metrics") || return 1
    running=$(awk '$1 == "fracta_agents{status=\"Running\"}" { n = $2 } END { print n + 0 }' <<<"$m")
    completed=$(awk '$1 == "fracta_agents{status=\"Completed\"}" { n = $2 } END { print n + 0 }' <<<"$m")
    ((running > MAX_RUNNING)) && MAX_RUNNING=$running
    ((running <= $2)) || { fail "$running Running at once, over max_concurrent $2"; return 1; }
    ((completed == $1)) && return 0
    sleep 0.1
  done
  fail "not all $1 Completed in time ($completed)"
}

@test "reaper.max_concurrent 10, 50 spawned on 4 workers: never more than 10 Running, all Completed, none started twice" {
  scale_project "max_concurrent: 10"
  cp_start
  close_gate
  spawn_gated m 1 50
  wait_for 120 running_is 10
  # held at the cap while the gate is shut: the rest stay Queued
  run count_with_status Queued
  assert_equal "$output" 40 "Queued while 10 run"
  open_gate
  # (that the cap was reached is checked above, gate shut: a sample taken
  # after the release may come after the first ends were settled)
  sample_until_completed 50 10
  assert_equal "$(line_count "$STARTS")" 50 "starts (none twice)"
  assert_equal "$(sort -u "$STARTS" | wc -l)" 50 "sessions started"
}

@test "a runtime's max_concurrent caps its agents only; the worker count caps nothing" {
  CP_AGENTS="agent_runtimes: {shell: {max_concurrent: 3}, sh2: {adapter: shell}}" scale_project
  cp_start
  close_gate
  spawn_gated c 1 6
  local i
  for ((i = 1; i <= 6; i++)); do
    spawn "u-$i" "flock -s '$GATE' true" '{"runtime":"sh2"}' >/dev/null
  done
  wait_for 120 running_is 9
  api GET '/api/v1/agents?status=Running'
  assert_equal "$(jq '[.agents[] | select(.runtime == "shell")] | length' <<<"$API_BODY")" 3 "shell agents Running"
  assert_equal "$(jq '[.agents[] | select(.runtime == "sh2")] | length' <<<"$API_BODY")" 6 "sh2 agents Running"
  open_gate
  wait_for 120 completed_is 12
}
