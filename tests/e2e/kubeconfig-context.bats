#!/usr/bin/env bats
# runtime.kubernetes.kubeconfig and .context of fracta.yaml, honoured by
# fracta-spawn-k8s (--config), fracta-reap and fracta-cp, against the
# Kubernetes API double. The project's kubeconfig holds two contexts: the
# current one, "wrong", presents a token the API server refuses; "right"
# (namespace team) a valid one. The ambient $KUBECONFIG is refused too, so
# only the file's kubeconfig and context can succeed.

load ../lib/common
load ../lib/k8s
load ../lib/cp

setup() {
  common_setup
  require_cmd node kubectl curl git
  export HOME="$BATS_TEST_TMPDIR"
  unset FRACTA_K8S_CONTEXT FRACTA_K8S_NAMESPACE KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT FRACTA_K8S_SA_DIR
  k8s_start_default --auto-run --namespace team
  export KUBECONFIG="$BATS_TEST_TMPDIR/ambient-kubeconfig"
  k8s_kubeconfig "$KUBECONFIG" token not-a-valid-token
  P="$BATS_TEST_TMPDIR/project"
  mkdir -p "$P/kube" "$P/.fracta"
  two_contexts "$P/kube/config"
  # the test's own view of the cluster, for checks
  RIGHT=(kubectl --kubeconfig "$P/kube/config" --context right)
}

teardown() {
  cp_stop
  common_teardown
}

# two_contexts FILE — contexts "wrong" (current) and "right" for the double
two_contexts() {
  {
    k8s_kubeconfig_head
    cat <<EOF
    certificate-authority: $K8S_CERTS/ca.crt
users:
- name: tester
  user:
    token: $K8S_TOKEN
- name: stranger
  user:
    token: not-a-valid-token
contexts:
- name: wrong
  context: {cluster: double, user: stranger, namespace: default}
- name: right
  context: {cluster: double, user: tester, namespace: team}
current-context: wrong
EOF
  } >"$1"
}

# k8s_yaml [EXTRA-KEYS] — fracta.yaml naming the kubeconfig (relative to
# the project) and the context "right", plus EXTRA-KEYS inside
# runtime.kubernetes
k8s_yaml() {
  printf '%s\n' "runtime:" "  backend: kubernetes" \
    "  kubernetes: {kubeconfig: kube/config, context: right, image: registry.example/agent:9${1:+, $1}}" \
    >"$P/fracta.yaml"
}

@test "fracta-spawn-k8s --config: the file's kubeconfig and context are used; flags and FRACTA_K8S_CONTEXT outrank them" {
  k8s_yaml
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" --config "$P/fracta.yaml" start kc1 <<<'{"command":"sleep 300","mode":"batch"}'
  assert_status 0
  run "${RIGHT[@]}" get job fracta-agent-kc1 -o json
  assert_status 0
  assert_json '.metadata.namespace == "team" and .spec.template.spec.containers[0].image == "registry.example/agent:9"'
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" --config "$P/fracta.yaml" list-running ""
  assert_status 0
  assert_equal "$output" kc1 "list-running"

  # the environment's context and the flag win over the file's
  FRACTA_K8S_CONTEXT=wrong run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" --config "$P/fracta.yaml" is-running kc1
  assert_status 1
  [[ $stderr == *401* || ${stderr,,} == *unauthorized* ]] || fail "stderr: $stderr"
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" --context wrong --config "$P/fracta.yaml" is-running kc1
  assert_status 1
  # --kubeconfig outranks the file's kubeconfig (whose context it lacks)
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" --kubeconfig "$KUBECONFIG" --config "$P/fracta.yaml" is-running kc1
  assert_status 100
  [[ $stderr == *"$KUBECONFIG: no context named \"right\""* ]] || fail "stderr: $stderr"

  # without the context key: the kubeconfig's current context, refused
  sed -i 's/context: right, //' "$P/fracta.yaml"
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" --config "$P/fracta.yaml" is-running kc1
  assert_status 1
  # without either key: $KUBECONFIG, refused
  printf '%s\n' "runtime: {kubernetes: {namespace: team}}" >"$P/fracta.yaml"
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" --config "$P/fracta.yaml" is-running kc1
  assert_status 1
}

@test "fracta-spawn-k8s --config: a kubeconfig that is not a string is a usage error naming the key" {
  printf '%s\n' "runtime: {kubernetes: {kubeconfig: [a, b]}}" >"$P/fracta.yaml"
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" --config "$P/fracta.yaml" is-running x
  assert_status 100
  [[ $stderr == *"runtime.kubernetes.kubeconfig"* ]] || fail "stderr: $stderr"
}

@test "fracta-reap: the file's kubeconfig and context reach the cluster (an orphan ConfigMap is deleted)" {
  k8s_yaml
  jq -nc '{apiVersion: "v1", kind: "ConfigMap",
    metadata: {name: "fracta-config-gone", namespace: "team",
      labels: {"app.kubernetes.io/name": "fracta", "app.kubernetes.io/component": "agent",
               "app.kubernetes.io/managed-by": "fracta", "fracta-agent-id": "gone"},
      annotations: {"fracta/session-name": "gone"},
      ownerReferences: [{apiVersion: "batch/v1", kind: "Job", name: "fracta-agent-gone",
                         uid: "0d6b1a6e-dead-4bad-9bad-000000000000", controller: true}]},
    data: {k: "v"}}' | "${RIGHT[@]}" create -f - >/dev/null
  run --separate-stderr bash -c 'cd "$1" && "$2" --once' _ "$P" "$FRACTA_BIN/fracta-reap"
  assert_status 0
  assert_equal "$(jq -r '.action + " " + (.reason | split(":")[0])' <<<"$output")" "k8s_orphan configmaps/fracta-config-gone"
  run "${RIGHT[@]}" get configmap fracta-config-gone
  assert_status 1
}

@test "fracta-cp: runtime.backend kubernetes starts agents with the file's kubeconfig, context and image" {
  k8s_yaml
  printf '%s\n' "agents: {default_runtime: shell}" "control_plane_api: {listen: \"127.0.0.1:0\"}" \
    "gateway: {listen: \"127.0.0.1:0\"}" >>"$P/fracta.yaml"
  cp_start
  spawn kc-agent 'echo hi'
  wait_for 60 status_is kc-agent Running
  run "${RIGHT[@]}" get job fracta-agent-kc-agent -o json
  assert_status 0
  assert_json '.metadata.namespace == "team" and .spec.template.spec.containers[0].image == "registry.example/agent:9"'
}
