#!/usr/bin/env bats
# Many agents running in pods on the API double (whose kubelet runs them for
# real), followed by one fracta-cp with four workers: its threads, child
# processes and connections to the API server do not grow with the number
# running, it keeps one pod watch per namespace, and while the agents run
# and nothing changes it asks the API server for almost nothing (the
# Kubernetes issue's scale item; the follower issue's acceptance 2).
# Timings belong to tests/bench, not here.
#
# The agents wait on a lock the test holds, in a volume every pod mounts, so
# they end when the test lets them, with no polling loop per agent.

load ../lib/common
load ../lib/k8s
load ../lib/cp

setup_file() {
  require_cmd openssl node jq curl kubectl unshare setpriv flock ss
  k8s_file_certs
}

setup() {
  common_setup
  k8s_team_pods
  export KUBECONFIG="$KC"
  # the claim "gate" of namespace team, as the kubelet keeps it
  GATE="$PODS/.claims/team/gate/lock"
  mkdir -p "${GATE%/*}"
  : >"$GATE"
}

teardown() {
  [[ -n ${GATE_FD:-} ]] && exec {GATE_FD}>&-
  cp_stop
  common_teardown
}


spawn_gated() { # spawn_gated FROM TO
  local i
  for ((i = $1; i <= $2; i++)); do
    spawn "p-$i" "flock -s /gate/lock true; echo done-$i" >/dev/null || return 1
  done
}

api_port() { sed -E 's|.*:([0-9]+)/?$|\1|' <<<"$K8S_URL"; }
# established TCP connections to the API server (the pods make none)
api_connections() { ss -Htn state established "( dport = :$(api_port) )" | wc -l; }
# the watches open now: [{resource, namespace, labelSelector, user}]
open_watches() { k8s_ctl GET /watches; }
job_creates() { k8s_requests | jq -s '[.[] | select(.method == "POST" and .resource == "jobs")] | length'; }

sample() {
  wait_for 600 running_is "$1"
  wait_for 60 no_start_under_way
  THREADS[$1]=$(threads_of "$CP_PID")
  CHILDREN[$1]=$(children_of "$CP_PID")
  CONNS[$1]=$(api_connections)
  echo "# $1 running: ${THREADS[$1]} threads, ${CHILDREN[$1]} children, ${CONNS[$1]} API connections" >&3
}

@test "k8s: 200 agents running in pods on 4 workers: threads, children and API connections constant in N; one pod watch; idle API requests per agent per minute at most 1; all Completed, none started twice" {
  local n=200 idle=60 watches requests created
  CP_QUEUE="workers: 4, lease_timeout: 10s, start_timeout: 120s, max_attempts: 100" cp_project sqlite "reaper: {interval: 1h}"
  sed -i "s|^runtime:\$|runtime:\n  backend: kubernetes\n  kubernetes: {kubeconfig: $KC, namespace: team, context: double, image: registry.example/agent:7, extra_volumes: [{name: gate, persistentVolumeClaim: {claimName: gate}}], extra_volume_mounts: [{name: gate, mountPath: /gate}]}|" "$P/fracta.yaml"
  rm -rf "$P/.git"
  cp_start
  close_gate
  declare -A THREADS CHILDREN CONNS
  spawn_gated 1 10
  sample 10
  spawn_gated 11 100
  sample 100
  spawn_gated 101 "$n"
  sample "$n"
  assert_equal "${THREADS[$n]}" "${THREADS[10]}" "fracta-cp threads at $n running vs 10"
  assert_equal "${THREADS[100]}" "${THREADS[10]}" "fracta-cp threads at 100 running vs 10"
  assert_equal "${CHILDREN[$n]}" "${CHILDREN[10]}" "fracta-cp child processes at $n running vs 10"
  assert_equal "${CONNS[$n]}" "${CONNS[10]}" "connections to the API server at $n running vs 10"
  watches=$(open_watches)
  assert_json '[.[] | select(.resource == "pods")] | length == 1' "$watches"
  assert_json '[.[] | select(.resource == "pods")][0].namespace == "team"' "$watches"

  created=$(job_creates)
  # idle: nothing starts, nothing ends
  k8s_ctl DELETE /requests >/dev/null
  sleep "$idle"
  requests=$(k8s_requests | jq -s 'length')
  echo "# idle $idle s with $n running: $requests API requests ($(jq -n "$requests * 60 / $idle / $n") per agent per minute)" >&3
  ((requests * 60 <= n * idle)) || fail "$requests API requests in $idle s idle with $n agents running: over 1 per agent per minute"
  assert_json '[.[] | select(.resource == "pods")] | length == 1' "$(open_watches)"

  open_gate
  wait_for 600 completed_is "$n" || { api GET /api/v1/agents; jq -c '[.agents[] | select(.status != "Completed") | {name, status, reason}]' <<<"$API_BODY"; false; }
  assert_equal "$((created + $(job_creates)))" "$n" "Job creates (one each, none started twice)"
  api GET /api/v1/agents/p-137
  assert_equal "$(jq -r .agent.last_output <<<"$API_BODY")" "done-137" "an agent's output"
}
