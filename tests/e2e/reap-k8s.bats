#!/usr/bin/env bats
# fracta-reap on runtime.backend kubernetes, against the Kubernetes API
# double: agent ConfigMaps and Secrets whose owner is gone are deleted (step
# 6), those of live workloads and those just created are kept, and objects
# of fracta that are not an agent's (the events store's) are never touched.

load ../lib/common
load ../lib/k8s

setup() {
  common_setup
  require_cmd kubectl node jq
  export K8S_NAMESPACE=fracta
  k8s_start_default
  k8s_kubeconfig "$BATS_TEST_TMPDIR/kubeconfig" token "$K8S_TOKEN"
  export KUBECONFIG="$BATS_TEST_TMPDIR/kubeconfig"
  echo '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fracta"}}' | kubectl create -f - >/dev/null
  P="$BATS_TEST_TMPDIR/project"
  mkdir -p "$P/.fracta"
  printf '%s\n' 'runtime: {backend: kubernetes, kubernetes: {namespace: fracta}}' >"$P/fracta.yaml"
}

teardown() { common_teardown; }

# object KIND NAME COMPONENT SESSION [OWNER-UID OWNER-NAME] — an object as fracta-spawn-k8s makes them
object() {
  local owner='[]'
  [[ -n ${5:-} ]] && owner=$(jq -nc --arg uid "$5" --arg name "$6" \
    '[{apiVersion: "batch/v1", kind: "Job", name: $name, uid: $uid, controller: true}]')
  jq -nc --arg kind "$1" --arg name "$2" --arg component "$3" --arg session "$4" --argjson owner "$owner" '{
    apiVersion: (if $kind == "Job" then "batch/v1" else "v1" end), kind: $kind,
    metadata: {name: $name, ownerReferences: $owner,
      labels: {"app.kubernetes.io/name": "fracta", "app.kubernetes.io/component": $component,
               "app.kubernetes.io/managed-by": "fracta", "fracta-agent-id": $session},
      annotations: {"fracta/session-name": $session}}}
    + (if $kind == "Job" then {spec: {template: {spec: {restartPolicy: "Never",
        containers: [{name: "agent", image: "busybox"}]}}}} else {data: {k: "dg=="}} end)' |
    kubectl create -f - -o json | jq -r .metadata.uid
}

reap() {
  REAP_OUT=$(cd "$P" && "$FRACTA_BIN/fracta-reap" --once "$@")
  REAP_STATUS=$?
}

fresh_is_old() {
  reap --dry-run --grace 1s
  [[ $REAP_OUT == *fracta-config-fresh* ]]
}

exists() { kubectl get "$1" "$2" >/dev/null 2>&1; }

@test "k8s_orphan: owned objects of a gone workload are deleted; live, fresh and non-agent objects stay" {
  local live
  live=$(object Job fracta-agent-live agent live)
  object ConfigMap fracta-config-live agent live "$live" fracta-agent-live >/dev/null
  object ConfigMap fracta-config-gone agent gone 0d6b1a6e-dead-4bad-9bad-000000000000 fracta-agent-gone >/dev/null
  object Secret fracta-auth-gone agent gone 0d6b1a6e-dead-4bad-9bad-000000000000 fracta-agent-gone >/dev/null
  object ConfigMap fracta-config-fresh agent fresh >/dev/null
  object ConfigMap fracta-events-seq events "" >/dev/null

  reap --dry-run
  assert_equal "$REAP_STATUS" 0 "dry run"
  local plan=$REAP_OUT
  assert_equal "$(jq -r '[.action, .task, (.reason | split(":")[0])] | join(" ")' <<<"$plan" | sort)" \
    "$(printf '%s\n' 'k8s_orphan gone configmaps/fracta-config-gone' 'k8s_orphan gone secrets/fracta-auth-gone')"
  exists configmap fracta-config-gone || fail "the dry run deleted something"

  reap
  assert_equal "$REAP_STATUS" 0 "pass"
  assert_equal "$REAP_OUT" "$plan" "the pass did what the dry run planned"
  ! exists configmap fracta-config-gone || fail "configmap left"
  ! exists secret fracta-auth-gone || fail "secret left"
  for o in "job fracta-agent-live" "configmap fracta-config-live" "configmap fracta-config-fresh" "configmap fracta-events-seq"; do
    exists $o || fail "$o was deleted"
  done
  reap
  assert_equal "$REAP_OUT" "" "second pass"

  # an agent object that never got its owner, older than the grace period
  wait_for 10 fresh_is_old
  reap --grace 1s
  assert_equal "$(jq -r '.action + " " + (.reason | split(":")[0])' <<<"$REAP_OUT")" "k8s_orphan configmaps/fracta-config-fresh"
  exists configmap fracta-events-seq || fail "the events store's counter was deleted"
}
