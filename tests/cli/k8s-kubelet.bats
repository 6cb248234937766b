#!/usr/bin/env bats
# The API double's kubelet that runs pods (tests/k8s/kubelet.mjs, --run-pods):
# each container's command a real process in its own root, env and volumes
# from the pod spec, its exit code the pod's phase, its output pods/log, and
# fracta-spawn-k8s driving a real supervisor in a Job's pod through
# pods/proxy. Objects are made with the real kubectl.
#
# shellcheck disable=SC2154  # stderr: set by bats' run --separate-stderr

load ../lib/common
load ../lib/k8s

setup_file() {
  require_cmd openssl node jq curl kubectl unshare setpriv
  k8s_file_certs
}

setup() {
  common_setup
  KC="$BATS_TEST_TMPDIR/kubeconfig"
  export HOME="$BATS_TEST_TMPDIR" KUBECONFIG="$KC"
  unset FRACTA_K8S_CONTEXT FRACTA_K8S_NAMESPACE KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT FRACTA_K8S_SA_DIR
  PODS="$BATS_TEST_TMPDIR/pods"
  k8s_started --run-pods "$PODS" --pod-bin "$FRACTA_BIN"
  TMUX_SOCKET=""
}

teardown() {
  [[ -z $TMUX_SOCKET ]] || tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null || true
  common_teardown
}

pod_json() { kc get pod "$1" -o json; }
phase_is() { [[ $(kc get pod "$1" -o jsonpath='{.status.phase}') == "$2" ]]; }
pod_gone() { [[ $(k8s_ctl GET /objects/pods/default | jq --arg n "$1" '[.[] | select(.metadata.name == $n)] | length') == 0 ]]; }
has_line() { printf '%s\n' "${lines[@]}" | grep -qxF -- "$1" || fail "no line \"$1\" in: $output"; }
waiting_reason() { [[ $(kc get pod "$1" -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}') == "$2" ]]; }

secret_and_config() {
  cat >"$BATS_TEST_TMPDIR/data.yaml" <<'EOF'
apiVersion: v1
kind: Secret
metadata: {name: creds}
data: {token: c2VrcmV0LXZhbHVl}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {level: high, greeting.txt: "hello from a configmap\n"}
EOF
  kc apply -f "$BATS_TEST_TMPDIR/data.yaml" >/dev/null
}

# pod NAME COMMAND [RO] — a pod whose one container runs /bin/sh -c COMMAND
pod() {
  cat >"$BATS_TEST_TMPDIR/$1.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 30
  containers:
  - name: main
    image: example.test/tools:1
    command: ["/bin/sh", "-c", $(jq -Rn --arg c "$2" '$c')]
    workingDir: /work/here
    securityContext: {readOnlyRootFilesystem: ${3:-true}}
    env:
    - {name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}
    - {name: LEVEL, valueFrom: {configMapKeyRef: {name: settings, key: level}}}
    - {name: SAID, value: "level-\$(LEVEL)"}
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    volumeMounts:
    - {name: cfg, mountPath: /etc/cfg, readOnly: true}
    - {name: sec, mountPath: /etc/sec, readOnly: true}
    - {name: scratch, mountPath: /tmp}
    - {name: keep, mountPath: /keep}
  volumes:
  - {name: cfg, configMap: {name: settings}}
  - {name: sec, secret: {secretName: creds}}
  - {name: scratch, emptyDir: {}}
  - {name: keep, persistentVolumeClaim: {claimName: keep-$1}}
EOF
  kc create -f "$BATS_TEST_TMPDIR/$1.yaml" >/dev/null
}

pods_watched() { k8s_requests | jq -e -s 'any(.[]; .resource == "pods" and .verb == "watch")' >/dev/null; }

@test "kubelet: the command runs with the spec's env and volumes; its exit code is the phase, its output the log" {
  secret_and_config
  # a watch from the start sees every phase the pod goes through
  kc get pods --watch -o 'jsonpath={.status.phase}{"\n"}' >"$BATS_TEST_TMPDIR/watch" 2>/dev/null &
  # once kubectl's watch request is in, a pod made now is seen from Pending
  # (before that, its first list could show a later phase)
  wait_for 10 pods_watched
  pod p1 'echo "token=$TOKEN level=$LEVEL said=$SAID pod=$POD"; cat /etc/cfg/greeting.txt; cat /etc/sec/token; echo
pwd; echo "host=$(hostname)"; command -v fracta-spawn-local; echo kept >/keep/file; echo scratch >/tmp/f
touch /not-a-volume 2>/dev/null || echo "root is read-only"; echo oops >&2; exit 3'
  wait_for 20 phase_is p1 Failed
  run pod_json p1
  assert_json '.status.containerStatuses[0].state.terminated.exitCode == 3 and .status.containerStatuses[0].state.terminated.reason == "Error"'
  assert_json '(.status.podIP | test("^127\\.[0-9]+\\.[0-9]+\\.[0-9]+$")) and .spec.nodeName == "double-node"'
  run kc logs p1
  assert_status 0
  has_line "token=sekret-value level=high said=level-high pod=p1"
  has_line "hello from a configmap"
  has_line "sekret-value"
  has_line "/work/here"
  has_line "host=p1"
  has_line "/opt/fracta/bin/fracta-spawn-local"
  has_line "root is read-only"
  has_line "oops"
  [[ $(cat "$PODS/.claims/default/keep-p1/file") == kept ]] || fail "the claim's directory does not hold what the pod wrote"
  [[ ! -e /not-a-volume && ! -e /keep/file ]] || fail "the pod wrote to the host's root"
  wait_for 10 grep -qx Failed "$BATS_TEST_TMPDIR/watch"
  run cat "$BATS_TEST_TMPDIR/watch"
  [[ ${lines[0]} == Pending ]] || fail "watch began with ${lines[0]}"
  has_line Running
  [[ ${lines[-1]} == Failed ]] || fail "watch ended with ${lines[-1]}"
}

@test "kubelet: exit 0 → Succeeded; a Job's pod that succeeds completes the Job" {
  secret_and_config
  k8s_job_yaml j1 '{name: c, image: x, command: ["/bin/sh", "-c", "echo done"]}' >"$BATS_TEST_TMPDIR/job.yaml"
  kc create -f "$BATS_TEST_TMPDIR/job.yaml" >/dev/null
  wait_for 20 kc wait --for=condition=Complete job/j1 --timeout=1s
  run kc logs job/j1
  assert_equal "$output" done
  pod=$(k8s_job_pod j1)
  run pod_json "$pod"
  assert_json '.status.phase == "Succeeded" and .status.containerStatuses[0].state.terminated.exitCode == 0 and .status.containerStatuses[0].state.terminated.reason == "Completed"'
}

@test "kubelet: a missing ConfigMap or Secret: a volume of it waits in ContainerCreating (FailedMount), a key of it in CreateContainerConfigError" {
  pod p2 'echo "token=$TOKEN"'
  wait_for 20 waiting_reason p2 ContainerCreating
  mounts() { kc get events -o json | jq -e 'any(.items[]; .reason == "FailedMount" and (.message | test("volume \"cfg\" : configmap \"settings\" not found")))' >/dev/null; }
  wait_for 20 mounts
  kc create -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: p2env}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: x
    command: ["/bin/sh", "-c", "echo token=$TOKEN"]
    env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}]
EOF
  wait_for 20 waiting_reason p2env CreateContainerConfigError
  run pod_json p2env
  assert_json '.status.phase == "Pending" and .status.containerStatuses[0].state.waiting.message == "secret \"creds\" not found"'
  secret_and_config
  wait_for 20 phase_is p2 Succeeded
  wait_for 20 phase_is p2env Succeeded
  run kc logs p2env
  assert_equal "$output" "token=sekret-value"
}

@test "kubelet: deleting a running pod sends TERM to its command; the pod goes once the command has ended" {
  secret_and_config
  pod p3 'trap "echo terminated >/keep/term; exit 0" TERM; echo up; while :; do sleep 0.1; done'
  wait_for 20 phase_is p3 Running
  wait_for 20 kc logs p3
  kc delete pod p3 --wait=false >/dev/null
  wait_for 20 pod_gone p3
  [[ $(cat "$PODS/.claims/default/keep-p3/term") == terminated ]] || fail "the command did not see TERM"
}

@test "kubelet: fracta-spawn-k8s runs a real supervisor in the pod and reaches it through pods/proxy" {
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" start s1 <<<'{"command":"echo first; read line; echo got:$line; exit 4","mode":"stream","workspace_files":{"notes/a.txt":"from the configmap"}}'
  assert_status 0
  pod=fracta-stream-s1
  wait_for 20 phase_is "$pod" Running
  seen() { "$FRACTA_BIN/fracta-spawn-k8s" peek s1 20 | grep -q first; }
  wait_for 20 seen || { kc logs "$pod"; kc get pod "$pod" -o yaml; cat "$BATS_TEST_TMPDIR/k8s-double.log"; false; }
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" nudge s1 <<<'hello'
  assert_status 0
  wait_for 20 phase_is "$pod" Failed
  run pod_json "$pod"
  assert_json '.status.containerStatuses[0].state.terminated.exitCode == 4'
  run kc logs "$pod"
  [[ $output == *got:hello* ]] || fail "no reply in the log: $output"
}

# said NAME TEXT — TEXT is in the output of session NAME (its pod's log)
said() { "$FRACTA_BIN/fracta-spawn-k8s" peek "$1" 0 | grep -qF -- "$2"; }

@test "kubelet: Gas City's start (no mode) runs a terminal in the pod: isatty(0), the startup nudge, a later nudge and send-keys Enter reach the program" {
  prog='if [ -t 0 ]; then echo tty:yes; else echo tty:no; fi; while IFS= read -r line; do echo "got:[$line]"; done'
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" start g1 <<<"$(jq -cn --arg c "$prog" '{command:$c, nudge:"first words"}')"
  assert_status 0
  assert_equal "$(kc get pod fracta-stream-g1 -o jsonpath='{.metadata.labels.fracta/mode}')" stream
  wait_for 20 said g1 'got:[first words]' || fail "no startup nudge: $(kc logs fracta-stream-g1)"
  said g1 tty:yes || fail "stdin is not a terminal: $(kc logs fracta-stream-g1)"
  # a nudge returns once the program reacted
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" nudge g1 <<<'second words'
  assert_status 0
  wait_for 20 said g1 'got:[second words]' || fail "no second nudge: $(kc logs fracta-stream-g1)"
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" send-keys g1 x y z
  assert_status 0
  said g1 'got:[xyz]' && fail "the line was submitted without Enter"
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" send-keys g1 Enter
  assert_status 0
  wait_for 20 said g1 'got:[xyz]' || fail "Enter did not arrive: $(kc logs fracta-stream-g1)"
}

@test "kubelet: an empty command runs the session's shell: is-running right after start, nudges run in it" {
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" start sh1 <<<'{"env":{"SHELL":"/bin/bash"}}'
  assert_status 0
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" is-running sh1
  assert_status 0
  assert_equal "$output" true
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" nudge sh1 <<<'echo "shell:$((6*7)):${BASH_VERSION:+bash}"'
  assert_status 0
  wait_for 20 said sh1 'shell:42:bash' || fail "the nudge did not run in bash: $(kc logs fracta-stream-sh1)"
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" process-alive sh1 <<<'bash'
  assert_equal "$output" true
}

@test "kubelet: process-alive matches the pod's processes by name; copy-to copies a directory; work_dir is where the command runs" {
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" start pa1 <<<'{"command":"pwd; exec sleep 300","work_dir":"/srv/city/rig"}'
  assert_status 0
  wait_for 20 said pa1 /srv/city/rig || fail "pwd: $(kc logs fracta-stream-pa1)"
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" process-alive pa1 < <(printf 'claude\nsleep')
  assert_status 0
  assert_equal "$output" true
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" process-alive pa1 < <(printf 'claude\ncodex')
  assert_status 0
  assert_equal "$output" false
  mkdir -p "$BATS_TEST_TMPDIR/src/sub"
  echo alpha >"$BATS_TEST_TMPDIR/src/a.txt"
  echo beta >"$BATS_TEST_TMPDIR/src/sub/b.txt"
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" copy-to pa1 "$BATS_TEST_TMPDIR/src" into
  assert_status 0
  # the pod's workspace volume, a directory of the kubelet's
  b=$(find "$PODS/default" -path '*/into/sub/b.txt' | head -1)
  [[ -n $b ]] || fail "no into/sub/b.txt in the pod's volumes: $(find "$PODS/default" | head -50)"
  assert_equal "$(cat "$b")" beta
  assert_equal "$(cat "${b%/sub/b.txt}/a.txt")" alpha
}

@test "kubelet: a nudge to a pod whose command ends before reading it exits 0 (not running), before its timeout" {
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" start end1 <<<'{"command":"sleep 3"}'
  assert_status 0
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" nudge end1 --timeout 60 <<<'too late'
  assert_status 0
  assert_equal "$stderr" "" "stderr"
  wait_for 20 phase_is fracta-stream-end1 Succeeded
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" nudge end1 <<<'later still'
  assert_status 0
}

# tmux on a server of its own; `tmx` is tmux against it.
tmx() { tmux -L "$TMUX_SOCKET" "$@"; }
pane_has() { [[ $(tmx capture-pane -p -t "$1" -S -100) == *"$2"* ]]; }

# attach_in_tmux PANE COMMAND — a tmux session PANE running COMMAND (an
# attach), then printing "attach-exit:<status>".
attach_in_tmux() {
  tmx -f /dev/null new-session -d -s "$1" -x 100 -y 30 \
    "export KUBECONFIG='$KC' HOME='$HOME'; $2; echo attach-exit:\$?; exec sleep 300"
}

@test "kubelet: attach through pods/proxy: typed text reaches the pod's program, its output shows, the detach key returns with the session running; its end is attach's status; fracta attach in a kubernetes project" {
  require_cmd tmux
  TMUX_SOCKET="fracta-test-$$-$BATS_TEST_NUMBER"
  prog='echo ready-for-attach; while IFS= read -r l; do case $l in quit) echo bye; exit 7;; *) echo "got:[$l]";; esac; done'
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" start at1 <<<"$(jq -cn --arg c "$prog" '{command:$c, mode:"stream"}')"
  assert_status 0
  wait_for 20 said at1 ready-for-attach || fail "no output: $(kc logs fracta-stream-at1)"
  attach_in_tmux one "'$FRACTA_BIN/fracta-spawn-k8s' attach at1"
  # the recent output shows on attach
  wait_for 20 pane_has one ready-for-attach || fail "pane: $(tmx capture-pane -p -t one)"
  tmx send-keys -t one "typed-in-tmux" Enter
  wait_for 20 pane_has one "got:[typed-in-tmux]" || fail "pane: $(tmx capture-pane -p -t one)"
  said at1 "got:[typed-in-tmux]" || fail "the session's own output: $(kc logs fracta-stream-at1)"
  tmx send-keys -t one 'C-\'
  wait_for 20 pane_has one "attach-exit:0" || fail "detach: $(tmx capture-pane -p -t one)"
  pane_has one "[detached from at1]" || fail "pane: $(tmx capture-pane -p -t one)"
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" is-running at1
  assert_equal "$output" true "is-running after detach"
  # attached again, by the front door of a kubernetes project: the
  # program's end ends attach with its exit status
  mkdir -p "$BATS_TEST_TMPDIR/p/sub"
  printf '%s\n' 'runtime: {backend: kubernetes, kubernetes: {namespace: default}}' >"$BATS_TEST_TMPDIR/p/fracta.yaml"
  attach_in_tmux two "cd '$BATS_TEST_TMPDIR/p/sub' && '$FRACTA_BIN/fracta' attach at1"
  wait_for 20 pane_has two "got:[typed-in-tmux]" || fail "pane: $(tmx capture-pane -p -t two)"
  tmx send-keys -t two "quit" Enter
  wait_for 20 pane_has two "attach-exit:7" || fail "pane: $(tmx capture-pane -p -t two)"
  pane_has two bye || fail "pane: $(tmx capture-pane -p -t two)"
}

@test "kubelet: attach to an absent session fails (1); a bad detach key is a usage error (100)" {
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" attach nobody-here </dev/null
  assert_status 1
  [[ $stderr == 'fracta-spawn-k8s: error: '*'no session "nobody-here"' ]] || fail "stderr: $stderr"
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-k8s" attach nobody-here --detach-key x </dev/null
  assert_status 100
}
