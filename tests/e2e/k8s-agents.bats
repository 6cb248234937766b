#!/usr/bin/env bats
# fracta-cp with runtime.backend kubernetes against the API double, whose
# kubelet runs the pods for real (tests/k8s/kubelet.mjs): every
# runtime.kubernetes key of fracta.yaml(5) reaches the Job, no secret value
# is written into any object but a Secret, and agents run to their end in
# their pods.
#
# shellcheck disable=SC2154

load ../lib/common
load ../lib/k8s
load ../lib/cp

setup_file() {
  require_cmd openssl node jq curl kubectl git unshare setpriv
  k8s_file_certs
}

setup() {
  common_setup
  export HOME="$BATS_TEST_TMPDIR"
  unset FRACTA_K8S_CONTEXT FRACTA_K8S_NAMESPACE KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT FRACTA_K8S_SA_DIR
  PODS="$BATS_TEST_TMPDIR/pods"
  k8s_start_default --namespace team --run-pods "$PODS" --pod-bin "$FRACTA_BIN"
  KC="$BATS_TEST_TMPDIR/kubeconfig"
  K8S_NAMESPACE=team k8s_kubeconfig "$KC" token "$K8S_TOKEN"
  # the ambient kubeconfig is refused: only fracta.yaml's can reach the cluster
  export KUBECONFIG="$BATS_TEST_TMPDIR/ambient-kubeconfig"
  k8s_kubeconfig "$KUBECONFIG" token not-a-valid-token
  NS=team
}

teardown() {
  cp_stop
  common_teardown
}

# k8s_project sqlite|postgres KUBERNETES-FLOW-MAPPING [YAML…]
k8s_project() {
  local kind=$1 block=$2
  shift 2
  cp_project "$kind" "$@" || return 1
  sed -i "s|^runtime:\$|runtime:\n  backend: kubernetes\n  kubernetes: {kubeconfig: $KC, $block}|" "$P/fracta.yaml"
}

# Every runtime.kubernetes key that fracta.yaml(5) documents, a value for it,
# and where the created Job shows it (a jq filter on the Job). A key the page
# documents without a row here fails the test.
KEY_TABLE=(
  "namespace|namespace: team|.metadata.namespace == \"team\""
  "image|image: registry.example/agent:7|.spec.template.spec.containers[0].image == \"registry.example/agent:7\""
  "image_pull_policy|image_pull_policy: Always|.spec.template.spec.containers[0].imagePullPolicy == \"Always\""
  "service_account|service_account: builder|.spec.template.spec.serviceAccountName == \"builder\""
  "job_ttl_seconds|job_ttl_seconds: 77|.spec.ttlSecondsAfterFinished == 77"
  "resources|resources: {cpu_request: 250m, cpu_limit: 3, memory_request: 300Mi, memory_limit: 3Gi}|.spec.template.spec.containers[0].resources == {requests: {cpu: \"250m\", memory: \"300Mi\"}, limits: {cpu: \"3\", memory: \"3Gi\"}}"
  "labels|labels: {team: blue}|.metadata.labels.team == \"blue\" and .spec.template.metadata.labels.team == \"blue\""
  "annotations|annotations: {owner.example/who: ops}|.metadata.annotations[\"owner.example/who\"] == \"ops\""
  "node_selector|node_selector: {pool: agents}|.spec.template.spec.nodeSelector == {pool: \"agents\"}"
  "tolerations|tolerations: [{key: dedicated, operator: Equal, value: agents, effect: NoSchedule}]|.spec.template.spec.tolerations == [{key: \"dedicated\", operator: \"Equal\", value: \"agents\", effect: \"NoSchedule\"}]"
  "extra_volumes|extra_volumes: [{name: cache, emptyDir: {}}]|any(.spec.template.spec.volumes[]; . == {name: \"cache\", emptyDir: {}})"
  "extra_volume_mounts|extra_volume_mounts: [{name: cache, mountPath: /cache}]|any(.spec.template.spec.containers[0].volumeMounts[]; . == {name: \"cache\", mountPath: \"/cache\"})"
  # the kubeconfig (in every project's block) holds the only token the
  # double accepts, and the context names the namespace: the Job exists
  "kubeconfig||.metadata.name | startswith(\"fracta-agent-\")"
  "context|context: double|.metadata.namespace == \"team\""
)

documented_keys() {
  grep -E '^\.It Cm runtime\.kubernetes\.' "$FRACTA_SOURCE/man/fracta.yaml.5" |
    sed -E 's/^\.It Cm //; s/ , /\n/g' | sed -E 's/^runtime\.kubernetes\.//; s/[ ,].*$//' | sort -u
}

@test "k8s: every runtime.kubernetes key of fracta.yaml(5) reaches the Job fracta-cp creates; no secret value outside a Secret" {
  local row key value check block="" keys
  keys=$(documented_keys)
  [[ $(wc -l <<<"$keys") -ge 14 ]] || fail "found only these keys in fracta.yaml(5): $keys"
  for key in $keys; do
    printf '%s\n' "${KEY_TABLE[@]}" | grep -q "^$key|" || fail "runtime.kubernetes.$key is documented but has no row in KEY_TABLE"
  done
  for row in "${KEY_TABLE[@]}"; do
    IFS='|' read -r key value check <<<"$row"
    [[ -n $value ]] && block+="${block:+, }$value"
  done
  export S16_SECRET="never-in-an-object-$RANDOM$RANDOM"
  CP_AGENTS="agent_runtimes: {shell: {secret_env: {TEST_KEY: {env: S16_SECRET}}}}" k8s_project sqlite "$block"
  printf '%s\n' "apiVersion: v1" "kind: ServiceAccount" "metadata: {name: builder}" | kc create -f - >/dev/null
  cp_start
  spawn keys 'echo "key has ${#TEST_KEY} characters"'
  wait_for 60 status_is keys Completed
  run kc get job -l fracta-agent-id=keys -o json
  assert_status 0
  job=$(jq '.items[0]' <<<"$output")
  for row in "${KEY_TABLE[@]}"; do
    IFS='|' read -r key value check <<<"$row"
    jq -e "$check" <<<"$job" >/dev/null || fail "runtime.kubernetes.$key ($value) is not in the Job: $check"
  done
  # the pod saw the secret, by reference
  run kc logs "job/$(jq -r .metadata.name <<<"$job")"
  [[ $output == *"key has ${#S16_SECRET} characters"* ]] || fail "the agent did not get TEST_KEY: $output"
  # every object of every kind, as YAML and JSON: the value is nowhere in
  # clear, and base64-encoded only in the session's Secret
  local kind b64
  b64=$(printf %s "$S16_SECRET" | base64 -w0)
  for kind in jobs pods configmaps secrets events serviceaccounts; do
    for fmt in yaml json; do
      run kc get "$kind" -o "$fmt"
      assert_status 0
      [[ $output != *"$S16_SECRET"* ]] || fail "the secret's value is in $kind ($fmt)"
      if [[ $kind != secrets ]]; then [[ $output != *"$b64"* ]] || fail "the secret's value (base64) is in $kind"; fi
    done
  done
  run kc get secrets -o json
  jq -e --arg b "$b64" '[.items[] | select(.data.TEST_KEY == $b)] | length == 1' <<<"$output" >/dev/null ||
    fail "the session's Secret does not hold TEST_KEY"
  run kc get pods -o json
  jq -e '[.items[].spec.containers[].env[] | select(.name == "TEST_KEY") | .valueFrom.secretKeyRef] | length == 1' <<<"$output" >/dev/null ||
    fail "TEST_KEY is not a secretKeyRef in the pod"
}

@test "k8s: a shell agent runs in its pod to Completed; its output is the agent's log; a failing one is Failed" {
  k8s_project sqlite "namespace: team, context: double, image: registry.example/agent:7"
  cp_start
  spawn ok 'echo "hello from $(hostname)"; pwd'
  spawn bad 'echo about to fail; exit 5'
  wait_for 60 status_is ok Completed || { cp_log; api GET /api/v1/agents/ok; echo "$API_BODY"; kc get jobs -o yaml; false; }
  wait_for 60 status_is bad Failed
  expect_api 200 GET /api/v1/agents/ok/logs
  [[ $(jq -r .output <<<"$API_BODY") == *"hello from fracta-agent-ok-"* ]] || fail "logs: $API_BODY"
  [[ $(agent_field bad exit_code) == 5 ]] || fail "bad's exit code: $(agent_field bad exit_code) ($(agent_field bad reason))"
}
