#!/usr/bin/env bats
# fracta-cp with runtime.backend kubernetes against the API double, whose
# kubelet runs the pods for real (tests/k8s/kubelet.mjs): every
# runtime.kubernetes key of fracta.yaml(5) reaches the Job, no secret value
# is written into any object but a Secret, agents run to their end in their
# pods, and a pod's workspace comes from a git remote (with a token from a
# Secret) and its branch goes back there for `fracta merge`.
#
# shellcheck disable=SC2154

load ../lib/common
load ../lib/k8s
load ../lib/cp
load ../lib/model
load ../lib/sshd

setup_file() {
  require_cmd openssl node jq curl kubectl git unshare setpriv ssh ssh-keygen /usr/sbin/sshd
  k8s_file_certs
}

setup() {
  common_setup
  k8s_team_pods
  # the ambient kubeconfig is refused: only fracta.yaml's can reach the cluster
  export KUBECONFIG="$BATS_TEST_TMPDIR/ambient-kubeconfig"
  k8s_kubeconfig "$KUBECONFIG" token not-a-valid-token
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

# ------------------------------------------------------------------ git --
# The project's origin is a loopback smart-HTTP server (tests/lib/git-http.mjs)
# that wants a token; the pod gets it from a Secret (runtime.kubernetes.git.
# token_secret), the control plane's checkout from its own git config.

GIT_TOKEN=tok-$RANDOM$RANDOM

# git_remote — the server, a bare project.git holding the project's main, and
# the Secret git-token holding TOKEN (default $GIT_TOKEN) under KEY (default token):
# git_remote [TOKEN [KEY]]
git_remote() {
  mkdir -p "$BATS_TEST_TMPDIR/git"
  git init -q --bare "$BATS_TEST_TMPDIR/git/project.git"
  start_bg node "$FRACTA_SOURCE/tests/lib/git-http.mjs" "$BATS_TEST_TMPDIR/git" "$GIT_TOKEN" "$BATS_TEST_TMPDIR/git.ready" \
    2>>"$BATS_TEST_TMPDIR/git-http.log"
  wait_for 20 test -s "$BATS_TEST_TMPDIR/git.ready"
  ORIGIN="$(jq -r .url "$BATS_TEST_TMPDIR/git.ready")/project.git"
  git -C "$P" remote add origin "$ORIGIN"
  git -C "$P" config http.extraHeader "Authorization: Basic $(printf 'x:%s' "$GIT_TOKEN" | base64 -w0)"
  git -C "$P" push -q origin main
  jq -n --arg t "${1:-$GIT_TOKEN}" --arg k "${2:-token}" '{apiVersion: "v1", kind: "Secret", metadata: {name: "git-token"}, stringData: {($k): $t}}' |
    kc create -f - >/dev/null
}
no_pods_of() { [[ $(kc get pods -l "fracta-agent-id=$1" -o json | jq '.items | length') == 0 ]]; }
remote_has() { git --git-dir "$BATS_TEST_TMPDIR/git/project.git" rev-parse --verify -q "refs/heads/$1" >/dev/null; }
reason_of() { agent_field "$1" reason; }

# a gate every pod sees: a PersistentVolumeClaim, a directory here
GATE="extra_volumes: [{name: gate, persistentVolumeClaim: {claimName: gate}}], extra_volume_mounts: [{name: gate, mountPath: /gate}]"
open_gate() { mkdir -p "$PODS/.claims/team/gate" && : >"$PODS/.claims/team/gate/open"; }

GIT_BLOCK="namespace: team, context: double, image: registry.example/agent:7, git: {token_secret: git-token}"

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
  "git.url|git: {url: \"@ORIGIN@\", token_secret: git-token, token_key: pat, depth: 1, ssh_key_secret: deploy-key, ssh_key_key: id, known_hosts_key: hosts}|.spec.template.spec.containers[0].command | (index(\"--git-url\") as \$i | .[\$i + 1] == \"@ORIGIN@\")"
  "git.token_secret||any(.spec.template.spec.containers[0].env[]; .name == \"FRACTA_GIT_TOKEN\" and .valueFrom.secretKeyRef.name == \"git-token\")"
  "git.token_key||any(.spec.template.spec.containers[0].env[]; .name == \"FRACTA_GIT_TOKEN\" and .valueFrom.secretKeyRef.key == \"pat\")"
  "git.ssh_key_secret||any(.spec.template.spec.containers[0].env[]; .name == \"FRACTA_GIT_SSH_KEY\" and .valueFrom.secretKeyRef.name == \"deploy-key\")"
  "git.ssh_key_key||any(.spec.template.spec.containers[0].env[]; .name == \"FRACTA_GIT_SSH_KEY\" and .valueFrom.secretKeyRef.key == \"id\")"
  "git.known_hosts_key||any(.spec.template.spec.containers[0].env[]; .name == \"FRACTA_GIT_KNOWN_HOSTS\" and .valueFrom.secretKeyRef == {name: \"deploy-key\", key: \"hosts\"})"
  "git.depth||.spec.template.spec.containers[0].command | (index(\"--git-depth\") as \$i | .[\$i + 1] == \"1\")"
  "push|push: true|.spec.template.spec.containers[0].command | index(\"--git-push\") != null"
  "pvc|pvc: work|any(.spec.template.spec.volumes[]; . == {name: \"fracta-workspace\", persistentVolumeClaim: {claimName: \"work\"}}) and any(.spec.template.spec.containers[0].volumeMounts[]; .name == \"fracta-workspace\" and .subPath == \"agents/keys\")"
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
  [[ $(wc -l <<<"$keys") -ge 19 ]] || fail "found only these keys in fracta.yaml(5): $keys"
  for key in $keys; do
    printf '%s\n' "${KEY_TABLE[@]}" | grep -q "^$key|" || fail "runtime.kubernetes.$key is documented but has no row in KEY_TABLE"
  done
  for row in "${KEY_TABLE[@]}"; do
    IFS='|' read -r key value check <<<"$row"
    [[ -n $value ]] && block+="${block:+, }$value"
  done
  export S16_SECRET="never-in-an-object-$RANDOM$RANDOM"
  # TEAM_KEY: a credentials profile's variable from the team's own Secret,
  # read by the pod; fracta-cp never has it (its env fallback is unset)
  local team_secret="team-only-$RANDOM$RANDOM"
  unset TEAM_FALLBACK
  CP_AGENTS="agent_runtimes: {shell: {credentials: team, secret_env: {TEST_KEY: {env: S16_SECRET}}}}" \
    k8s_project sqlite "$block" "credentials: {team: {TEAM_KEY: {secret: team-keys, key: anthropic, env: TEAM_FALLBACK}}}"
  jq -n --arg v "$team_secret" '{apiVersion: "v1", kind: "Secret", metadata: {name: "team-keys"}, stringData: {anthropic: $v}}' |
    kc create -f - >/dev/null
  printf '%s\n' "apiVersion: v1" "kind: ServiceAccount" "metadata: {name: builder}" | kc create -f - >/dev/null
  git_remote "$GIT_TOKEN" pat
  # an HTTP remote: git has no use for the SSH key, which must still come by reference
  jq -n '{apiVersion: "v1", kind: "Secret", metadata: {name: "deploy-key"}, stringData: {id: "unused key", hosts: "unused"}}' |
    kc create -f - >/dev/null
  sed -i "s|@ORIGIN@|$ORIGIN|" "$P/fracta.yaml"
  cp_start
  spawn keys 'echo "key has ${#TEST_KEY} characters, team key $TEAM_KEY"'
  wait_for 60 status_is keys Completed
  run kc get job -l fracta-agent-id=keys -o json
  assert_status 0
  job=$(jq '.items[0]' <<<"$output")
  for row in "${KEY_TABLE[@]}"; do
    IFS='|' read -r key value check <<<"$row"
    check=${check//@ORIGIN@/$ORIGIN}
    jq -e "$check" <<<"$job" >/dev/null || fail "runtime.kubernetes.$key ($value) is not in the Job: $check"
  done
  remote_has feature/keys || fail "feature/keys was not pushed"
  # the pod saw the secret, by reference
  run kc logs "job/$(jq -r .metadata.name <<<"$job")"
  [[ $output == *"key has ${#S16_SECRET} characters, team key $team_secret"* ]] ||
    fail "the agent did not get TEST_KEY and TEAM_KEY: $output"
  run kc get job -l fracta-agent-id=keys -o json
  jq -e '[.items[0].spec.template.spec.containers[0].env[] | select(.name == "TEAM_KEY")] == [{name: "TEAM_KEY", valueFrom: {secretKeyRef: {name: "team-keys", key: "anthropic"}}}]' \
    <<<"$output" >/dev/null || fail "TEAM_KEY is not a reference to team-keys: $output"
  # every object of every kind, as YAML and JSON: the value is nowhere in
  # clear, and base64-encoded only in the session's Secret
  local kind b64
  b64=$(printf %s "$S16_SECRET" | base64 -w0)
  for kind in jobs pods configmaps secrets events serviceaccounts; do
    for fmt in yaml json; do
      run kc get "$kind" -o "$fmt"
      assert_status 0
      [[ $output != *"$S16_SECRET"* && $output != *"$GIT_TOKEN"* && $output != *"$team_secret"* ]] ||
        fail "a secret's value is in $kind ($fmt)"
      if [[ $kind != secrets ]]; then [[ $output != *"$b64"* ]] || fail "the secret's value (base64) is in $kind"; fi
    done
  done
  run kc get secrets -o json
  jq -e --arg b "$b64" '[.items[] | select(.data.TEST_KEY == $b)] | length == 1' <<<"$output" >/dev/null ||
    fail "the session's Secret does not hold TEST_KEY"
  jq -e --arg b "$(printf %s "$team_secret" | base64 -w0)" '[.items[] | select(.data // {} | to_entries | any(.value == $b)) | .metadata.name] == ["team-keys"]' \
    <<<"$output" >/dev/null || fail "the team's key was copied out of team-keys"
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

git_flow() {
  k8s_project "$1" "$GIT_BLOCK"
  git_remote
  cp_start
  spawn work 'test -f base.txt && [ "$(git branch --show-current)" = feature/work ] && echo agent >agent.txt && git add agent.txt && git commit -qm "agent work"'
  spawn clash 'echo from-agent >clash.txt && git add clash.txt && git commit -qm "agent clash"'
  wait_for 60 status_is work Completed || { echo "$(reason_of work)"; false; }
  wait_for 60 status_is clash Completed || { echo "$(reason_of clash)"; false; }
  remote_has feature/work || fail "feature/work was not pushed"
  [[ $(git --git-dir "$BATS_TEST_TMPDIR/git/project.git" log -1 --format=%s feature/work) == "agent work" ]]
  # the token is nowhere in the objects
  run kc get jobs,pods,configmaps,events -o yaml
  [[ $output != *"$GIT_TOKEN"* ]] || fail "the git token is in an object"
  run kc get pods -o json
  jq -e '[.items[].spec.containers[].env[] | select(.name == "FRACTA_GIT_TOKEN") | .valueFrom.secretKeyRef.name] | unique == ["git-token"]' <<<"$output" >/dev/null ||
    fail "FRACTA_GIT_TOKEN is not a secretKeyRef to git-token"

  expect_api 200 POST /api/v1/agents/work/merge
  [[ $(git -C "$P" show HEAD:agent.txt) == agent ]] || fail "the merge did not bring agent.txt"

  echo from-here >"$P/clash.txt"
  git -C "$P" add clash.txt
  git -C "$P" commit -qm "local clash"
  before=$(git -C "$P" rev-parse HEAD)
  expect_api 409 POST /api/v1/agents/clash/merge
  assert_json '.conflicts == ["clash.txt"]' "$API_BODY"
  assert_equal "$(git -C "$P" rev-parse HEAD)" "$before" "HEAD after the failed merge"
}

@test "k8s git (sqlite): the pod clones with the Secret's token, commits and pushes feature/<task>; merge brings it; a conflicting merge is 409 naming the files" {
  git_flow sqlite
}

@test "k8s git (postgres): the pod clones with the Secret's token, commits and pushes feature/<task>; merge brings it; a conflicting merge is 409 naming the files" {
  git_flow postgres
}

@test "k8s git: a wrong token fails the agent naming the clone; an unreachable remote too, with git's line; a refused push is non-fast-forward, its work kept on the PVC" {
  k8s_project sqlite "$GIT_BLOCK, $GATE, pvc: work"
  git_remote wrong-token
  cp_start
  spawn denied 'echo never'
  wait_for 60 status_is denied Failed
  [[ $(reason_of denied) == "clone $ORIGIN: git ls-remote: fatal: could not read Username"* ]] || fail "reason: $(reason_of denied)"
  cp_stop

  # the right token; while the agent works, someone else pushes its branch:
  # the agent's push cannot fast-forward it
  kc delete secret git-token >/dev/null
  jq -n --arg t "$GIT_TOKEN" '{apiVersion: "v1", kind: "Secret", metadata: {name: "git-token"}, stringData: {token: $t}}' | kc create -f - >/dev/null
  cp_start
  # Running comes before the clone: the agent says when it has its workspace,
  # else a slow clone would take the other push and fast-forward over it
  spawn late ': >/gate/cloned; while [ ! -e /gate/open ]; do sleep 0.2; done; echo mine >mine.txt && git add mine.txt && git commit -qm mine'
  wait_for 60 test -e "$PODS/.claims/team/gate/cloned"
  git -C "$P" checkout -q -b feature/late
  git -C "$P" commit -q --allow-empty -m "someone else's"
  git -C "$P" push -q origin feature/late
  git -C "$P" checkout -q main
  open_gate
  wait_for 60 status_is late Failed
  [[ $(reason_of late) == "push feature/late: rejected as non-fast-forward ("*"); git: ! HEAD:refs/heads/feature/late [rejected] (fetch first)" ]] ||
    fail "reason: $(reason_of late)"
  [[ $(git --git-dir "$BATS_TEST_TMPDIR/git/project.git" log -1 --format=%s feature/late) == "someone else's" ]]
  # the work outlives the pod on the claim, in the agent's own directory
  kc delete jobs -l fracta-agent-id=late >/dev/null
  wait_for 60 no_pods_of late
  [[ $(git -C "$PODS/.claims/team/work/agents/late" log -1 --format=%s feature/late) == mine ]] ||
    fail "the agent's commit is not on the claim: $(ls -la "$PODS/.claims/team/work/agents/late" 2>&1)"
  cp_stop

  port=$(free_port)
  sed -i "s|git: {token_secret: git-token}|git: {token_secret: git-token, url: \"http://127.0.0.1:$port/project.git\"}|" "$P/fracta.yaml"
  cp_start
  spawn away 'echo never'
  wait_for 60 status_is away Failed
  [[ $(reason_of away) == "clone http://127.0.0.1:$port/project.git: git ls-remote: fatal: unable to access"*"127.0.0.1"* ]] ||
    fail "reason: $(reason_of away)"
}

# ssh_remote — a bare project.git reached over SSH (a real sshd), the
# project's main pushed there with the control plane's own key, and the
# Secret deploy-key holding the pod's key and the server's host key under
# the kubernetes.io/ssh-auth key names (the defaults)
ssh_remote() {
  sshd_start "$BATS_TEST_TMPDIR/sshd"
  mkdir -p "$BATS_TEST_TMPDIR/git"
  git init -q --bare "$BATS_TEST_TMPDIR/git/project.git"
  ORIGIN="ssh://$SSHD_USER@127.0.0.1:$SSHD_PORT$BATS_TEST_TMPDIR/git/project.git"
  git -C "$P" remote add origin "$ORIGIN"
  git -C "$P" config core.sshCommand "$(ssh_command)"
  git -C "$P" push -q origin main
  jq -n --rawfile k "$SSH_KEY" --rawfile h "$SSH_KNOWN_HOSTS" \
    '{apiVersion: "v1", kind: "Secret", metadata: {name: "deploy-key"}, type: "kubernetes.io/ssh-auth", stringData: {"ssh-privatekey": $k, known_hosts: $h}}' |
    kc create -f - >/dev/null
}

@test "k8s git over SSH: the pod clones and pushes with a deploy key from a Secret, checked against its known_hosts; a host key it does not know fails the clone" {
  k8s_project sqlite "namespace: team, context: double, image: registry.example/agent:7, git: {ssh_key_secret: deploy-key}"
  ssh_remote
  cp_start
  spawn viassh 'echo ssh >ssh.txt && git add ssh.txt && git commit -qm "over ssh"'
  wait_for 60 status_is viassh Completed || fail "reason: $(reason_of viassh)"
  [[ $(git --git-dir "$BATS_TEST_TMPDIR/git/project.git" log -1 --format=%s feature/viassh) == "over ssh" ]] ||
    fail "feature/viassh was not pushed over SSH"
  expect_api 200 POST /api/v1/agents/viassh/merge
  [[ $(git -C "$P" show HEAD:ssh.txt) == ssh ]] || fail "the merge did not bring ssh.txt"
  git -C "$P" push -q origin main
  # the key is in the user's Secret only: referenced, never copied
  local keyline
  keyline=$(sed -n 2p "$SSH_KEY")
  run kc get jobs,pods,configmaps,events -o yaml
  [[ $output != *"$keyline"* ]] || fail "the SSH key is in an object"
  run kc get secrets -o json
  jq -e '[.items[] | select(.data["ssh-privatekey"] != null)] | length == 1' <<<"$output" >/dev/null ||
    fail "the SSH key was copied into another Secret"

  # another server's host key in known_hosts: the clone is refused, not trusted
  ssh-keygen -q -t ed25519 -N '' -f "$BATS_TEST_TMPDIR/other_host"
  printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$BATS_TEST_TMPDIR/other_host.pub")" >"$BATS_TEST_TMPDIR/wrong_hosts"
  kc delete secret deploy-key >/dev/null
  jq -n --rawfile k "$SSH_KEY" --rawfile h "$BATS_TEST_TMPDIR/wrong_hosts" \
    '{apiVersion: "v1", kind: "Secret", metadata: {name: "deploy-key"}, stringData: {"ssh-privatekey": $k, known_hosts: $h}}' |
    kc create -f - >/dev/null
  spawn spoofed 'echo never'
  wait_for 60 status_is spoofed Failed
  [[ $(reason_of spoofed) == "clone $ORIGIN: git ls-remote: fatal: Could not read from remote repository: Host key verification failed." ]] || fail "reason: $(reason_of spoofed)"
  remote_has feature/spoofed && fail "feature/spoofed was pushed through an unknown host"
  # the key never stays on the pod's disk: nothing under the pods' /tmp
  run find "$PODS" -path '*fracta-git-ssh*'
  assert_equal "$output" "" "SSH key directories left behind"
}

# agents_with_status STATUS — how many agents have it
agents_with_status() {
  api GET "/api/v1/agents?status=$1" >/dev/null || return 1
  jq '.agents | length' <<<"$API_BODY"
}
running_is() { (($(agents_with_status Running) == $1)); }
completed_is() { (($(agents_with_status Completed) == $1)); }

kill9_flow() {
  local n=20 i
  CP_QUEUE="workers: $n, lease_timeout: 2s, start_timeout: 60s, max_attempts: 100" \
    k8s_project "$1" "$GIT_BLOCK, $GATE"
  git_remote
  cp_start
  for ((i = 1; i <= n; i++)); do
    spawn "k$i" "while [ ! -e /gate/open ]; do sleep 0.2; done; echo $i >k$i.txt && git add k$i.txt && git commit -qm k$i"
  done
  wait_for 120 running_is "$n"
  kill -9 "$CP_PID"
  wait_for 30 process_gone "$CP_PID"
  cp_start
  open_gate
  wait_for 300 completed_is "$n" || { api GET /api/v1/agents; jq -c '[.agents[] | {name, status, reason}]' <<<"$API_BODY"; false; }
  for ((i = 1; i <= n; i++)); do
    [[ $(git --git-dir "$BATS_TEST_TMPDIR/git/project.git" log -1 --format=%s "feature/k$i" 2>/dev/null) == "k$i" ]] ||
      fail "feature/k$i was not pushed"
  done
  # adopted, not started again: one Job create each, never two pods for one
  # agent (a Completed agent's Job and pod may already be cleaned up, so the
  # pods are not counted against n)
  assert_equal "$(k8s_requests | jq -s '[.[] | select(.method == "POST" and .resource == "jobs")] | length')" "$n" "Job creates"
  assert_equal "$(k8s_ctl GET /objects/pods/team | jq -c '[.[] | .metadata.labels["fracta-agent-id"] // "" | select(startswith("k"))] | group_by(.) | map(select(length > 1))')" "[]" "agents with more than one pod"
}

@test "k8s: kill -9 of fracta-cp with 20 agents running in pods; after restart each is adopted, none started twice, all Completed and pushed (sqlite)" {
  kill9_flow sqlite
}

@test "k8s: kill -9 of fracta-cp with 20 agents running in pods; after restart each is adopted, none started twice, all Completed and pushed (postgres)" {
  kill9_flow postgres
}

claude_flow() {
  local bin
  bin=$(agent_cli_path) || return 1
  jq -n '{conversations: [{match: "kfix", turns: [
      {tools: [{name: "Bash", input: {command: "echo fixed-by-claude >claude.txt && git add claude.txt && git commit -qm \"claude was here\" && git branch --show-current", description: "commit"}}]},
      {text: "Committed claude.txt."}]}],
    fallback: {text: "ok"}}' >"$BATS_TEST_TMPDIR/script.json"
  model_start "$BATS_TEST_TMPDIR/script.json"
  # the pod's environment is its spec's only: the CLI's PATH, the model's
  # URL and the key (by reference) come from the runtime's config
  CP_AGENTS="agent_runtimes: {claude: {base_url: \"$MODEL_URL\", secret_env: {ANTHROPIC_API_KEY: sk-ant-test-dummy},
    env: {PATH: \"$bin:/opt/fracta/bin:/usr/local/bin:/usr/bin:/bin\", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: \"1\", DISABLE_AUTOUPDATER: \"1\"}}}" \
    k8s_project "$1" "$GIT_BLOCK"
  git_remote
  cp_start
  spawn kfix 'kfix: add claude.txt and commit it' '{"runtime": "claude"}'
  wait_for 120 status_is kfix Completed || { echo "reason: $(reason_of kfix)"; kc logs -l fracta-agent-id=kfix; false; }
  [[ $(agent_field kfix last_output) == "Committed claude.txt." ]] || fail "last output: $(agent_field kfix last_output)"
  model_calls_at_least 2 || fail "the model was not asked twice"
  [[ $(git --git-dir "$BATS_TEST_TMPDIR/git/project.git" log -1 --format=%s feature/kfix) == "claude was here" ]] ||
    fail "feature/kfix was not pushed with Claude's commit"
  expect_api 200 POST /api/v1/agents/kfix/merge
  [[ $(git -C "$P" show HEAD:claude.txt) == fixed-by-claude ]] || fail "the merge did not bring claude.txt"
}

@test "k8s git (sqlite): a real Claude Code agent in its pod (scripted model server) commits on feature/<task>, pushed; merge brings it" {
  claude_flow sqlite
}

@test "k8s git (postgres): a real Claude Code agent in its pod (scripted model server) commits on feature/<task>, pushed; merge brings it" {
  claude_flow postgres
}
