#!/usr/bin/env bats
# fracta-spawn-k8s: the session contract (spec/exec-provider.md) and the
# Kubernetes provider (spec/kubernetes.md), against the API double
# (tests/k8s/double.mjs) playing API server and kubelet: pods go Running on
# their own (--auto-run); the tests drive exit codes, logs, waiting reasons,
# faults and proxy targets through its control API.
#
#   conformance: …  tests/lib/provider-conformance.bash, shared with
#                   fracta-spawn-local and the exec fixture
#   contract: …     names, bad input, unsupported ops, requests per op
#   faults: …       409, 403, 5xx, the API gone, rollback, dropped watches
#   auth: …         client cert, token file, exec plugin, in-cluster
#   control: …      nudge/meta/activity through pods/proxy to a real supervisor
#
# shellcheck disable=SC2154,SC2119  # stderr: set by bats' run --separate-stderr; started() rarely takes arguments

load ../lib/common
load ../lib/session
load ../lib/k8s
load ../lib/provider-conformance

setup_file() {
  require_cmd openssl node jq curl
  k8s_file_certs
}

setup() {
  common_setup
  SK="$FRACTA_BIN/fracta-spawn-k8s"
  KC="$BATS_TEST_TMPDIR/kubeconfig"
  export HOME="$BATS_TEST_TMPDIR" KUBECONFIG="$KC"
  unset FRACTA_K8S_CONTEXT FRACTA_K8S_NAMESPACE KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT FRACTA_K8S_SA_DIR
}

teardown() { common_teardown; }

# a running double (auto-run unless told otherwise) and a token kubeconfig
# shellcheck disable=SC2120
started() { k8s_started --auto-run "$@"; }

sk() { "$SK" "$@"; }
start_ok() {
  run --separate-stderr "$SK" start "$1" <<<"${2:-{\"command\":\"sleep 300\",\"mode\":\"batch\"\}}"
  assert_status 0
}
objects() { k8s_ctl GET "/objects/$1/default"; }
count() { objects "$1" | jq 'length'; }
none_left() { [[ $(count jobs) == 0 && $(count configmaps) == 0 && $(count secrets) == 0 && $(count pods) == 0 ]]; }
seq_now() { k8s_requests | jq -s 'map(.seq) | max // 0'; }
# requests since SEQ, as [METHOD, resource/subresource, watch?] lines
requests_since() {
  k8s_requests "$1" | jq -c 'select(.seq > '"$1"') | [.method, .resource + (if .subresource then "/" + .subresource else "" end), (.query.watch // "")]'
}
pod_of() { k8s_job_pod "fracta-agent-$1"; }
job_watched() { k8s_requests | jq -e -s 'any(.[]; .resource == "jobs" and .verb == "watch")' >/dev/null; }
set_auto_run() { k8s_ctl POST /config "{\"autoRun\":$1}" >/dev/null; }
# start_held NAME — `start NAME` (batch) in the background, its pod made but
# not run (the test plays kubelet); START_PID, start.out and start.err
start_held() {
  set_auto_run false
  start_bg "$SK" start "$1" <<<'{"mode":"batch","command":"true"}' >"$BATS_TEST_TMPDIR/start.out" 2>"$BATS_TEST_TMPDIR/start.err"
  START_PID=$BG_PID
  wait_for 10 pod_of "$1"
}

# ---------------------------------------------------------- conformance --
# tests/lib/provider-conformance.bash: the checks every provider passes. The
# ops that need the session's supervisor get a real one behind the pod proxy
# (conf_live); it runs `sleep` and `cat`, whatever the start asked, so
# process-alive finds sleep in every session, and the pod's log is not its
# scrollback.

conf_provider() { "$SK" "$@"; }
CONF_SLEEP_JSON='{"command":"sleep 300","mode":"batch"}'
CONF_READER_JSON='{"command":"cat","mode":"stream"}'
CONF_OPS="status process-alive process-names meta input activity clear copy-to"
# the pod of session NAME, batch or stream
conf_pod() {
  local pod
  if pod=$(pod_of "$1" 2>/dev/null); then echo "$pod"; else echo "fracta-stream-$1"; fi
}
conf_saying() {
  start_ok "$1"
  k8s_log "$(pod_of "$1")" "$2"
}
conf_live() { supervisor_for "$1" "$(conf_pod "$1")"; }

@test "conformance: start → is-running true; a duplicate start exits 1 with 'already exists'" { started; conf_check_start; }
@test "conformance: stop → is-running false; stop is idempotent" { started; conf_check_stop; }
@test "conformance: is-running on an unknown session is false, its status absent" { started; conf_check_unknown; }
@test "conformance: list-running finds sessions, filters by prefix, drops stopped ones" { started; conf_check_list_running; }
@test "conformance: peek, get-last-activity, clear-scrollback" { started; conf_check_peek; }
@test "conformance: process-alive while the session's command runs, false after stop" { started; conf_check_process_alive; }
@test "conformance: meta round-trip, unset is empty, remove, overwrite, two keys" { started; conf_check_meta; }
@test "conformance: send-keys, nudge and interrupt succeed on a live and on a missing session" { started; conf_check_input; }
@test "conformance: copy-to of a missing source succeeds" { started; conf_check_copy_missing; }
@test "conformance: bad names exit 100; unknown ops and check-image exit 2" { started; conf_check_bad_input; }
@test "conformance: concurrent start, is-running, list-running, stop on 3 names" { started; conf_check_concurrent; }

@test "contract: a duplicate start deletes nothing of the first; stop removes every object" {
  started
  start_ok s1
  run --separate-stderr "$SK" start s1 <<<'{"mode":"batch","command":"sleep 300"}'
  assert_status 1
  [[ $(count configmaps) == 1 && $(count secrets) == 1 && $(count jobs) == 1 ]] || fail "objects after the duplicate"
  run --separate-stderr "$SK" stop s1
  assert_status 0
  # Background propagation: the ConfigMap, Secret and pod go with the Job
  wait_for 10 none_left
}

@test "contract: stream mode runs a bare Pod; stop deletes it" {
  started
  start_ok st1 '{"command":"cat","mode":"stream"}'
  [[ $(objects pods | jq -r '.[0].metadata.name') == fracta-stream-st1 ]]
  [[ $(count jobs) == 0 ]]
  run --separate-stderr "$SK" status st1
  assert_json '.state == "running" and .ref == "fracta-stream-st1" and .mode == "stream"'
  [[ $(objects configmaps | jq -r '.[0].metadata.ownerReferences[0].kind') == Pod ]]
  sk stop st1
  run --separate-stderr "$SK" is-running st1
  assert_equal "$output" false
  wait_for 10 none_left
}

# ------------------------------------------------------------- contract --

@test "contract: invalid names exit 100 and send no request" {
  started
  local since
  since=$(seq_now)
  for n in 'a b' 'a/b' '' 'x.y' 'café' "$(printf 'a%.0s' {1..300})"; do
    run --separate-stderr "$SK" start "$n" <<<'{"mode":"batch"}'
    assert_status 100
    run --separate-stderr "$SK" is-running "$n"
    assert_status 100
  done
  [[ -z $(requests_since "$since") ]] || fail "requests were sent: $(requests_since "$since")"
}

@test "contract: malformed start JSON exits 100 and creates nothing; unknown keys are ignored" {
  started
  for bad in '{' '[1,2]' '"x"' '{"env":"notamap"}' '{"mode":"weird"}' '{"workspace_files":{"../x":"y"}}'; do
    run --separate-stderr "$SK" start bad1 <<<"$bad"
    assert_status 100
  done
  [[ $(count jobs) == 0 && $(count pods) == 0 && $(count configmaps) == 0 ]]
  printf '{"mode":"batch","command":"sleep 1","unknown_key":[1]}' >"$BATS_TEST_TMPDIR/in.json"  # no trailing newline
  run --separate-stderr "$SK" start ok1 <"$BATS_TEST_TMPDIR/in.json"
  assert_status 0
}

@test "contract: work_dir is the pod's working directory, with the workspace volume mounted there" {
  started
  start_ok wd1 '{"mode":"batch","command":"sleep 300","work_dir":"/home/gc/city/rigs/app"}'
  local c
  c=$(objects jobs | jq -c '.[0].spec.template.spec.containers[0]')
  assert_json '.workingDir == "/home/gc/city/rigs/app"' "$c"
  assert_json 'any(.volumeMounts[]; .name == "fracta-workspace" and .mountPath == "/home/gc/city/rigs/app")' "$c"
  # without work_dir: a directory of its own under /workspace/agents
  run --separate-stderr "$SK" render wd2 <<<'{"mode":"batch"}'
  assert_status 0
  assert_json '.items[0].spec.template.spec.containers[0].workingDir == "/workspace/agents/wd2"'
  for bad in 'rel/dir' '/' '/a/../b' '/a//b' '/a/./b' '/tmp' '/home/fracta' '/etc/fracta/files/x'; do
    run --separate-stderr "$SK" start wd3 <<<"{\"mode\":\"batch\",\"work_dir\":\"$bad\"}"
    assert_status 100
    [[ $stderr == "fracta-spawn-k8s: error: "*"work_dir \"$bad\""* ]] || fail "work_dir $bad: $stderr"
  done
  assert_equal "$(count jobs)" 1 "jobs"
}

@test "contract: pre_start, session_setup(_script), copy_files and ready_prompt_prefix are refused (exit 1), never dropped" {
  started
  local since key
  since=$(seq_now)
  for key in '"pre_start":["make deps"]' '"session_setup":["tmux set x"]' '"session_setup_script":"/bin/setup"' \
    '"copy_files":[{"src":"/etc/hostname","rel_dst":"h"}]' '"ready_prompt_prefix":"> "'; do
    run --separate-stderr "$SK" start ref1 <<<"{\"mode\":\"batch\",\"command\":\"sleep 1\",$key}"
    assert_status 1
    [[ $stderr == "fracta-spawn-k8s: error: "*"${key%%:*}"*" is not supported in a pod: "* ]] || fail "$key: $stderr"
    assert_equal "$(wc -l <<<"$stderr")" 1 "stderr lines"
    run --separate-stderr "$SK" render ref1 <<<"{\"mode\":\"batch\",$key}"
    assert_status 1
  done
  [[ -z $(requests_since "$since") ]] || fail "requests were sent: $(requests_since "$since")"
  # empty values ask for nothing
  start_ok ref2 '{"mode":"batch","command":"sleep 1","pre_start":[],"session_setup":[],"copy_files":[],"ready_prompt_prefix":""}'
}

@test "contract: usage errors exit 100; check-image and unknown ops exit 2" {
  run --separate-stderr "$SK"
  assert_status 100
  run --separate-stderr "$SK" --bogus-flag start x
  assert_status 100
  run --separate-stderr "$SK" attach s1 --detach-key x
  assert_status 100
  run --separate-stderr "$SK" check-image busybox
  assert_status 2
  run --separate-stderr "$SK" frobnicate s1
  assert_status 2
  run --separate-stderr "$SK" peek s1 lots
  assert_status 100
  run --separate-stderr "$SK" --help
  assert_status 0
  [[ $output == *"render NAME"* ]]
  run --separate-stderr "$SK" --version
  assert_status 0
  [[ $output == fracta-spawn-k8s* ]]
}

@test "contract: start = 3 creates + one watch (no polling, no LIST); list of N sessions = one request" {
  started
  local since
  since=$(seq_now)
  start_ok r1
  run requests_since "$since"
  assert_equal "$output" '["POST","jobs",""]
["POST","configmaps",""]
["POST","secrets",""]
["GET","pods","true"]'
  start_ok r2
  start_ok r3
  since=$(seq_now)
  run --separate-stderr "$SK" list ""
  assert_status 0
  assert_json 'length == 3 and (map(.name) == ["r1","r2","r3"]) and all(.state == "running")'
  run requests_since "$since"
  assert_equal "$output" '["GET","pods",""]'
  since=$(seq_now)
  run --separate-stderr "$SK" list-running r
  assert_status 0
  assert_equal "$output" $'r1\nr2\nr3' "list-running r"
  [[ $(requests_since "$since" | wc -l) == 1 ]]
}

@test "contract: raw names with '--', '__' and upper case work and are listed raw" {
  started
  start_ok 'Team--a__B'
  start_ok 'team-a-b'
  run --separate-stderr "$SK" list-running ""
  assert_equal "$output" $'Team--a__B\nteam-a-b'
  run --separate-stderr "$SK" status 'Team--a__B'
  assert_json '.state == "running" and .name == "Team--a__B"'
  [[ $(objects jobs | jq -r '[.[].metadata.annotations["fracta/session-name"]] | sort | join(",")') == "Team--a__B,team-a-b" ]]
}

@test "contract: start after stop of the same name starts a fresh session" {
  started
  start_ok again
  sk stop again
  wait_for 10 none_left
  start_ok again
  run --separate-stderr "$SK" is-running again
  assert_equal "$output" true
}

@test "contract: render prints a valid List without API calls; kubectl accepts it against the double" {
  require_cmd kubectl
  started
  local since
  since=$(seq_now)
  run --separate-stderr "$SK" render rend1 <<<'{"mode":"batch","command":"echo hi","workspace_files":{"CLAUDE.md":"x"},"secret_env":{"K":"v"}}'
  assert_status 0
  [[ -z $(requests_since "$since") ]] || fail "render sent requests"
  assert_json '.kind == "List" and (.items | map(.kind)) == ["Job","ConfigMap","Secret"]'
  printf '%s' "$output" >"$BATS_TEST_TMPDIR/list.json"
  run node "$FRACTA_SOURCE/tests/k8s/validate.mjs" "$BATS_TEST_TMPDIR/list.json"
  assert_status 0
  run --separate-stderr kubectl --kubeconfig "$KC" create --dry-run=client -f "$BATS_TEST_TMPDIR/list.json" --validate=false -o json
  assert_status 0
  run --separate-stderr kubectl --kubeconfig "$KC" create -f "$BATS_TEST_TMPDIR/list.json" --validate=false -o name
  assert_status 0
  [[ $output == *"job.batch/fracta-agent-rend1"* ]]
}

@test "contract: --config's runtime.kubernetes settings shape the objects; --namespace picks the namespace" {
  k8s_start_default --auto-run --namespace team || return 1
  k8s_kubeconfig "$KC" token "$K8S_TOKEN"
  cat >"$BATS_TEST_TMPDIR/fracta.yaml" <<'EOF2'
runtime:
  kubernetes:
    image: registry.example/agent:7
    job_ttl_seconds: 42
EOF2
  run --separate-stderr "$SK" --config "$BATS_TEST_TMPDIR/fracta.yaml" --namespace team start cfg1 <<<'{"mode":"batch"}'
  assert_status 0
  run k8s_ctl GET /objects/jobs/team
  assert_json '.[0].spec.ttlSecondsAfterFinished == 42 and .[0].spec.template.spec.containers[0].image == "registry.example/agent:7"'
  FRACTA_K8S_NAMESPACE=team run --separate-stderr "$SK" is-running cfg1
  assert_equal "$output" true
  run --separate-stderr "$SK" is-running cfg1  # the context's namespace: default
  assert_equal "$output" false
}

# ---------------------------------------------------------- wait & logs --

@test "batch: wait returns the exit code and the output tail" {
  started
  start_ok w1
  start_ok w2
  local p1 p2
  p1=$(pod_of w1)
  p2=$(pod_of w2)
  k8s_log "$p1" $'line one\nline two'
  k8s_pod_exit "$p1" 0
  k8s_log "$p2" "boom"
  k8s_pod_exit "$p2" 7
  run --separate-stderr "$SK" wait w1 20
  assert_status 0
  assert_json '.name == "w1" and .state == "exited" and .exit_code == 0 and .output_tail == "line one\nline two\n" and (.started_at | length > 0) and (.ended_at | length > 0)'
  run --separate-stderr "$SK" wait w2 20
  assert_status 0
  assert_json '.state == "exited" and .exit_code == 7 and .output_tail == "boom\n"'
  run --separate-stderr "$SK" status w2
  assert_json '.state == "exited" and .exit_code == 7'
  run --separate-stderr "$SK" is-running w2
  assert_equal "$output" false
}

@test "batch: wait follows the Job with a watch while it runs; a still-running session at the timeout exits 111" {
  started
  start_ok w3
  run --separate-stderr "$SK" wait w3 1
  assert_status 111
  run --separate-stderr "$SK" wait nosuch 1
  assert_status 1
  local since
  since=$(seq_now)
  start_bg "$SK" wait w3 30 >"$BATS_TEST_TMPDIR/wait.out" 2>"$BATS_TEST_TMPDIR/wait.err"
  local wpid=$BG_PID
  wait_for 10 bash -c "k8s_requests() { curl -sS '$K8S_CTL/requests?since=$since'; }; k8s_requests | jq -e 'select(.resource == \"jobs\" and .query.watch == \"true\")' >/dev/null"
  k8s_pod_exit "$(pod_of w3)" 3
  wait "$wpid"
  jq -e '.state == "exited" and .exit_code == 3' "$BATS_TEST_TMPDIR/wait.out"
  # no polling: one GET of the Job, one watch
  [[ $(requests_since "$since" | grep -c '"jobs"') == 2 ]] || fail "$(requests_since "$since")"
}

@test "faults: a watch that drops reconnects without missing the pod's completion" {
  started
  start_ok w4
  local since
  since=$(seq_now)
  start_bg "$SK" wait w4 30 >"$BATS_TEST_TMPDIR/wait.out" 2>"$BATS_TEST_TMPDIR/wait.err"
  local wpid=$BG_PID
  wait_for 10 bash -c "curl -sS '$K8S_CTL/requests?since=$since' | jq -e 'select(.resource == \"jobs\" and .query.watch == \"true\")' >/dev/null"
  k8s_ctl POST /watches/drop '{"mode":"reset"}' >/dev/null
  k8s_pod_exit "$(pod_of w4)" 5
  wait "$wpid"
  jq -e '.state == "exited" and .exit_code == 5' "$BATS_TEST_TMPDIR/wait.out"
}

# watch_opened SINCE: a pod watch was asked for after request SINCE
watch_opened() { requests_since "$1" | grep -qF '["GET","pods","true"]'; }
watched() { jq -e -s "$1" "$BATS_TEST_TMPDIR/watch.out" >/dev/null; }

@test "watch: every session over one pod watch; ends are told with no request per session, across a dropped stream" {
  started
  local i
  for i in 1 2 3 4 5 6 7 8; do start_ok "f$i"; done
  local since opened
  since=$(seq_now)
  start_bg "$SK" watch "" >"$BATS_TEST_TMPDIR/watch.out" 2>"$BATS_TEST_TMPDIR/watch.err"
  wait_for 20 watched 'any(.[]; .synced == true)'
  watched '[.[] | select(.name)] | length == 8 and all(.state == "running")' \
    || fail "the listing: $(cat "$BATS_TEST_TMPDIR/watch.out")"
  wait_for 20 watch_opened "$since"
  # one LIST, one watch: for 8 sessions as for 1
  run requests_since "$since"
  assert_equal "$output" '["GET","pods",""]
["GET","pods","true"]'
  opened=$(seq_now)
  k8s_pod_exit "$(pod_of f3)" 4
  wait_for 20 watched 'any(.[]; .name == "f3" and .state == "exited" and .exit_code == 4)'
  run requests_since "$opened"
  assert_equal "$output" "" "API requests while following 8 sessions and seeing one end"
  # a dropped stream is resumed from its resourceVersion; nothing is missed
  k8s_ctl POST /watches/drop '{"mode":"reset"}' >/dev/null
  k8s_pod_exit "$(pod_of f5)" 0
  wait_for 20 watched 'any(.[]; .name == "f5" and .state == "exited" and .exit_code == 0)'
  watched '[.[] | select(.name == "f1")] | length == 1' || fail "f1 told twice: $(cat "$BATS_TEST_TMPDIR/watch.out")"
}

@test "batch: a stopped session waits as 'killed'" {
  started
  start_ok w5
  since=$(seq_now)
  start_bg "$SK" wait w5 30 >"$BATS_TEST_TMPDIR/wait.out" 2>"$BATS_TEST_TMPDIR/wait.err"
  local wpid=$BG_PID
  # stop only once wait is watching the Job (before that, it would find no session)
  wait_for 10 bash -c "curl -sS '$K8S_CTL/requests?since=$since' | jq -e 'select(.resource == \"jobs\" and .query.watch == \"true\")' >/dev/null"
  sk stop w5
  wait "$wpid"
  jq -e '.state == "killed"' "$BATS_TEST_TMPDIR/wait.out"
}

@test "logs: peek N gives the last N lines (<= 0: all); logs gives everything; logs --follow streams" {
  started
  start_ok l1
  local p
  p=$(pod_of l1)
  k8s_log "$p" $'a\nb\nc\nd'
  run --separate-stderr "$SK" peek l1 2
  assert_status 0
  assert_equal "$output" $'c\nd'
  run --separate-stderr "$SK" peek l1 0
  assert_equal "$output" $'a\nb\nc\nd'
  run --separate-stderr "$SK" logs l1
  assert_equal "$output" $'a\nb\nc\nd'
  run --separate-stderr "$SK" logs nosuch
  assert_status 1
  run --separate-stderr "$SK" peek nosuch 5
  assert_status 0
  assert_equal "$output" ""
  start_bg "$SK" logs l1 --follow >"$BATS_TEST_TMPDIR/follow.out" 2>"$BATS_TEST_TMPDIR/follow.err"
  local fpid=$BG_PID
  wait_for 10 grep -q '^d$' "$BATS_TEST_TMPDIR/follow.out"
  k8s_log "$p" "later"
  wait_for 10 grep -q '^later$' "$BATS_TEST_TMPDIR/follow.out"
  k8s_pod_exit "$p" 0
  wait "$fpid"
}

# --------------------------------------------------------------- start --

@test "start: a waiting reason like ImagePullBackOff fails the start with it, and nothing is left" {
  started
  start_held img1
  k8s_pod_waiting "$(pod_of img1)" ImagePullBackOff 'Back-off pulling image "nope:1"'
  local rc=0
  wait "$START_PID" || rc=$?
  assert_equal "$rc" 1 "start's exit status"
  grep -q 'ImagePullBackOff' "$BATS_TEST_TMPDIR/start.err" || fail "stderr: $(cat "$BATS_TEST_TMPDIR/start.err")"
  wait_for 10 none_left
}

@test "start: returns only once the pod is Running (the test plays kubelet)" {
  started
  start_held run1
  run --separate-stderr "$SK" status run1
  assert_json '.state == "starting"'
  kill -0 "$START_PID"  # still waiting
  k8s_pod_running "$(pod_of run1)"
  wait "$START_PID"
  run --separate-stderr "$SK" is-running run1
  assert_equal "$output" true
}

@test "start: no Running pod within --start-timeout exits 111 and cleans up" {
  started
  set_auto_run false
  run --separate-stderr "$SK" --start-timeout 1 start slow1 <<<'{"mode":"batch"}'
  assert_status 111
  wait_for 10 none_left
}

# --------------------------------------------------------------- faults --

@test "faults: 409 on create → exit 1 'already exists', nothing created" {
  started
  k8s_fault '{"method":"POST","path":"/jobs","code":409,"reason":"AlreadyExists","message":"jobs.batch \"fracta-agent-f1\" already exists"}'
  run --separate-stderr "$SK" start f1 <<<'{"mode":"batch"}'
  assert_status 1
  [[ ${stderr,,} == *"already exists"* ]] || fail "$stderr"
  [[ $(count jobs) == 0 && $(count configmaps) == 0 ]]
}

@test "faults: 403 → exit 1 naming the verb and the resource" {
  started
  k8s_ctl POST /deny '{"verb":"create","resource":"jobs"}' >/dev/null
  run --separate-stderr "$SK" start f2 <<<'{"mode":"batch"}'
  assert_status 1
  [[ $stderr == "fracta-spawn-k8s: error: "*create*jobs* ]] || fail "$stderr"
  k8s_ctl DELETE /deny >/dev/null
  k8s_ctl POST /deny '{"verb":"list","resource":"pods"}' >/dev/null
  run --separate-stderr "$SK" list ""
  assert_status 1
  [[ $stderr == *list*pods* ]] || fail "$stderr"
}

@test "faults: 500s then success → the op succeeds" {
  started
  k8s_fault '{"method":"POST","path":"/jobs","code":500,"count":2}'
  k8s_fault '{"method":"GET","path":"/pods\\?labelSelector=app","code":503,"count":2}'
  start_ok f3
  run --separate-stderr "$SK" list ""
  assert_status 0
  assert_json 'length == 1 and .[0].name == "f3"'
}

@test "faults: the API server gone → exit 111" {
  started
  k8s_ctl POST /stop '{"listener":"https"}' >/dev/null
  run --separate-stderr "$SK" is-running f4
  assert_status 111
  run --separate-stderr "$SK" start f4 <<<'{"mode":"batch"}'
  assert_status 111
}

@test "faults: a failed ConfigMap or Secret create after the workload leaves nothing behind" {
  started
  k8s_ctl POST /deny '{"verb":"create","resource":"configmaps"}' >/dev/null
  run --separate-stderr "$SK" start f5 <<<'{"mode":"batch"}'
  assert_status 1
  [[ $stderr == *create*configmaps* ]] || fail "$stderr"
  wait_for 10 none_left
  k8s_ctl DELETE /deny >/dev/null
  k8s_ctl POST /deny '{"verb":"create","resource":"secrets"}' >/dev/null
  run --separate-stderr "$SK" start f5 <<<'{"mode":"stream"}'
  assert_status 1
  wait_for 10 none_left
  k8s_ctl DELETE /deny >/dev/null
  k8s_fault '{"method":"POST","path":"/configmaps","code":500,"count":-1}'
  run --separate-stderr "$SK" start f5 <<<'{"mode":"batch"}'
  assert_status 111
  k8s_ctl DELETE /faults >/dev/null
  wait_for 10 none_left
  start_ok f5
}

# ----------------------------------------------------------------- auth --

auth_of_last() { k8s_requests | jq -sr 'map(select(.resource == "pods")) | last | "\(.auth) \(.user)"'; }

@test "auth: kubeconfig with a client certificate (files and -data)" {
  k8s_start_default --auto-run || return 1
  k8s_kubeconfig "$KC" cert
  run --separate-stderr "$SK" is-running a1
  assert_status 0
  assert_equal "$(auth_of_last)" "x509 fracta-test"
  k8s_kubeconfig "$KC" cert-data
  start_ok a1
  assert_equal "$(auth_of_last)" "x509 fracta-test"
  k8s_kubeconfig "$KC" rogue-cert
  run --separate-stderr "$SK" is-running a1
  assert_status 1
}

@test "auth: kubeconfig with a token file, re-read when it changes" {
  local tf="$BATS_TEST_TMPDIR/server-tokens"
  echo "tok-1,filer,2001" >"$tf"
  k8s_start --auto-run --token-file "$tf" || return 1
  echo tok-1 >"$BATS_TEST_TMPDIR/token"
  k8s_kubeconfig "$KC" token-file "$BATS_TEST_TMPDIR/token"
  run --separate-stderr "$SK" is-running t1
  assert_status 0
  assert_equal "$(auth_of_last)" "token filer"
  echo "tok-2,filer2,2002" >"$tf"
  run --separate-stderr "$SK" is-running t1
  assert_status 1
  [[ $stderr == *fracta-spawn-k8s:\ error:* ]]
  echo tok-2 >"$BATS_TEST_TMPDIR/token"
  run --separate-stderr "$SK" is-running t1
  assert_status 0
  assert_equal "$(auth_of_last)" "token filer2"
}

@test "auth: kubeconfig with an exec plugin; an expiring credential is fetched again" {
  k8s_start_default --auto-run || return 1
  local plugin="$BATS_TEST_TMPDIR/plugin" runs="$BATS_TEST_TMPDIR/runs"
  cat >"$plugin" <<EOF2
#!/bin/sh
echo run >>"$runs"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"$K8S_TOKEN","expirationTimestamp":"%s"}}\n' "\$EXPIRES"
EOF2
  chmod +x "$plugin"
  printf '    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: %s\n      interactiveMode: Never\n' "$plugin" >"$BATS_TEST_TMPDIR/user.yaml"
  k8s_kubeconfig "$KC" users "$BATS_TEST_TMPDIR/user.yaml"
  # valid for an hour: one run serves every request of an op
  EXPIRES=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ) run --separate-stderr "$SK" status e1
  assert_status 0
  assert_json '.state == "absent"'   # a LIST and a GET
  assert_equal "$(line_count "$runs")" 1
  assert_equal "$(auth_of_last)" "token tester"
  # already expired: run again for each request
  rm -f "$runs"
  EXPIRES=2000-01-01T00:00:00Z run --separate-stderr "$SK" status e1
  assert_status 0
  (($(line_count "$runs") >= 2)) || fail "plugin ran $(line_count "$runs") times"
}

@test "auth: in-cluster (KUBERNETES_SERVICE_HOST/PORT + service account dir) with a rotating token" {
  local tf="$BATS_TEST_TMPDIR/server-tokens" sa="$BATS_TEST_TMPDIR/sa"
  echo "sa-1,system:serviceaccount:team:fracta,3001" >"$tf"
  k8s_start --auto-run --token-file "$tf" --namespace team || return 1
  mkdir -p "$sa"
  cp "$K8S_CERTS/ca.crt" "$sa/ca.crt"
  echo sa-1 >"$sa/token"
  echo team >"$sa/namespace"
  local hostport=${K8S_URL#https://}
  unset KUBECONFIG  # and no ~/.kube/config: in-cluster
  export FRACTA_K8S_SA_DIR=$sa
  export KUBERNETES_SERVICE_HOST=${hostport%:*} KUBERNETES_SERVICE_PORT=${hostport##*:}
  start_ok ic1
  assert_equal "$(auth_of_last)" "token system:serviceaccount:team:fracta"
  [[ $(k8s_ctl GET /objects/jobs/team | jq length) == 1 ]]
  # the kubelet rotates the projected token; the server accepts only the new one
  echo "sa-2,system:serviceaccount:team:fracta,3001" >"$tf"
  echo sa-2 >"$sa/token.new" && mv "$sa/token.new" "$sa/token"
  run --separate-stderr "$SK" is-running ic1
  assert_status 0
  assert_equal "$output" true
}

# -------------------------------------------------------------- control --

# a real supervisor standing in for the agent container of session NAME. It
# takes a free port itself (--control 127.0.0.1:0) and says which in its
# state.json: a port picked beforehand can be taken by another process before
# the supervisor binds it, and then the supervisor is gone while whatever
# took the port answers the readiness probe.
supervisor_for() {
  local name=$1 pod token
  pod=$2
  token=$(objects secrets | jq -r --arg n "fracta-auth-$name" '.[] | select(.metadata.name == $n) | .data.FRACTA_SUPERVISOR_TOKEN' | base64 -d)
  [[ -n $token ]] || { fail "no token in the Secret"; return 1; }
  FRACTA_SUPERVISOR_TOKEN=$token FRACTA_STATE_DIR="$BATS_TEST_TMPDIR/state" \
    start_bg "$FRACTA_BIN/fracta-spawn-local" supervise "$name" --control 127.0.0.1:0 --mode stream -- \
    /bin/sh -c 'sleep 300 & exec cat' \
    >"$BATS_TEST_TMPDIR/sup.out" 2>"$BATS_TEST_TMPDIR/sup.err" </dev/null
  SUP_PID=$BG_PID
  wait_for 10 control_listening "$name" || { fail "supervisor: $(cat "$BATS_TEST_TMPDIR/sup.err")"; return 1; }
  SUP_PORT=${SUP_ADDR##*:}
  k8s_proxy "$pod" 7070 "http://127.0.0.1:$SUP_PORT"
}

# control_listening NAME — the supervisor runs and its control API listens;
# SUP_ADDR is its address
control_listening() {
  SUP_ADDR=$(jq -r 'select(.phase == "running") | .control // empty' "$BATS_TEST_TMPDIR/state/$1/state.json" 2>/dev/null)
  [[ -n $SUP_ADDR ]]
}

# sup_peek NAME — the scrollback of the supervisor supervisor_for started
sup_peek() { FRACTA_STATE_DIR="$BATS_TEST_TMPDIR/state" "$FRACTA_BIN/fracta-spawn-local" peek "$1" 0 </dev/null; }
# typed_twice NAME TEXT — TEXT is on two lines of its scrollback
typed_twice() { (($(sup_peek "$1" | grep -c "$2") >= 2)); }

@test "control: nudge, send-keys, meta, activity, clear, process-alive through the pod proxy" {
  started
  use_store sqlite
  start_ok c1 '{"command":"cat","mode":"stream"}'
  supervisor_for c1 fracta-stream-c1
  run --separate-stderr "$SK" nudge c1 <<<'hello from k8s'
  assert_status 0
  wait_for 10 typed_twice c1 'hello from k8s'
  # recorded as for fracta-spawn-local: the text's digest and typing order, not the text
  run --separate-stderr "$FRACTA_BIN/fracta-events" list <<<'{"type":"nudge.delivered"}'
  assert_status 0
  assert_json '[.[] | select(.subject == "c1" and .actor == "fracta-spawn-k8s" and .payload.ordinal == 1)] | length == 1'
  assert_json ".[0].payload.text_sha256 == \"$(printf 'hello from k8s' | sha256sum | cut -c1-16)\""
  [[ $output != *'hello from k8s'* ]] || fail "the nudge's text is in the event: $output"
  # a program that reads nothing (stopped): 111 within the timeout, and nudge.failed
  local pgid
  pgid=$(jq -r .pgid "$BATS_TEST_TMPDIR/state/c1/state.json")
  kill -STOP -- "-$pgid"
  run --separate-stderr "$SK" nudge c1 --timeout 1 <<<'anyone there'
  kill -CONT -- "-$pgid"
  assert_status 111
  run --separate-stderr "$FRACTA_BIN/fracta-events" list <<<'{"type":"nudge.failed"}'
  assert_status 0
  assert_json 'length == 1 and .[0].subject == "c1" and .[0].actor == "fracta-spawn-k8s" and (.[0].message | contains("did not read"))'
  run --separate-stderr "$SK" send-keys c1 more Enter
  assert_status 0
  # the terminal's echo and cat's copy: all of it is in before the clear below
  wait_for 10 typed_twice c1 more
  run --separate-stderr "$SK" get-meta c1 color
  assert_status 0
  assert_equal "$output" ""
  run --separate-stderr "$SK" set-meta c1 color <<<'blue'
  assert_status 0
  run --separate-stderr "$SK" get-meta c1 color
  assert_equal "$output" "blue"
  run --separate-stderr "$SK" remove-meta c1 color
  assert_status 0
  run --separate-stderr "$SK" get-meta c1 color
  assert_equal "$output" ""
  run --separate-stderr "$SK" get-last-activity c1
  assert_status 0
  [[ $output =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]] || fail "activity: $output"
  run --separate-stderr "$SK" process-alive c1 <<<'cat'
  assert_equal "$output" true
  run --separate-stderr "$SK" clear-scrollback c1
  assert_status 0
  run --separate-stderr sup_peek c1
  assert_status 0
  assert_equal "$output" "" "the supervisor's scrollback after clear-scrollback"
  # everything went through pods/proxy, and the token really guards the port
  (($(k8s_requests | jq -s 'map(select(.subresource == "proxy")) | length') >= 8))
  assert_equal "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Fracta-Token: wrong' "http://127.0.0.1:$SUP_PORT/v1/status")" 401
  # interrupt: SIGINT ends `cat`, and with it the session
  run --separate-stderr "$SK" interrupt c1
  assert_status 0
  wait_for 10 process_gone "$SUP_PID"
}

@test "control: copy-to writes a regular file or a directory's files through the pod proxy; the session lives on" {
  started
  start_ok c2 '{"command":"cat","mode":"stream"}'
  supervisor_for c2 fracta-stream-c2
  echo payload >"$BATS_TEST_TMPDIR/f.txt"
  run --separate-stderr "$SK" copy-to c2 "$BATS_TEST_TMPDIR/f.txt" sub/f.txt
  assert_status 0
  assert_equal "$(cat "$BATS_TEST_TMPDIR/sub/f.txt")" payload
  mkdir -p "$BATS_TEST_TMPDIR/adir/deep/er"
  echo one >"$BATS_TEST_TMPDIR/adir/one.txt"
  echo two >"$BATS_TEST_TMPDIR/adir/deep/er/two.txt"
  run --separate-stderr "$SK" copy-to c2 "$BATS_TEST_TMPDIR/adir" d
  assert_status 0
  assert_equal "$(cat "$BATS_TEST_TMPDIR/d/one.txt")" one
  assert_equal "$(cat "$BATS_TEST_TMPDIR/d/deep/er/two.txt")" two
  # the supervisor is still there and still serves its session
  kill -0 "$SUP_PID" || fail "the supervisor is gone: $(cat "$BATS_TEST_TMPDIR/sup.err")"
  run --separate-stderr "$SK" process-alive c2 <<<'cat'
  assert_status 0
  assert_equal "$output" true "process-alive after copy-to"
  run --separate-stderr "$SK" interrupt c2
  assert_status 0
  wait_for 10 process_gone "$SUP_PID"
}

@test "control: ops on a session whose command ended answer 'not running' once the pod says so, without waiting out the retries" {
  started
  start_ok e1 '{"command":"cat","mode":"stream"}'
  supervisor_for e1 fracta-stream-e1
  run --separate-stderr "$SK" interrupt e1
  assert_status 0
  wait_for 10 process_gone "$SUP_PID"
  # The pod still reads Running (this test is its kubelet, and has not said
  # otherwise): the supervisor is gone, the pod proxy answers 503.
  since=$(seq_now)
  start_bg "$SK" nudge e1 <<<'too late' >"$BATS_TEST_TMPDIR/nudge.out" 2>"$BATS_TEST_TMPDIR/nudge.err"
  nudge_pid=$BG_PID
  proxied() { [[ $(requests_since "$since" | grep -c '"pods/proxy"') -ge 1 ]]; }
  wait_for 10 proxied
  # The kubelet reports the container's end: the nudge answers 0 now, before
  # the retries (6 tries, about 8 s) would have run out.
  k8s_ctl POST /pods/default/fracta-stream-e1/exit '{"code":130,"container":"agent"}' >/dev/null
  wait_for 20 process_gone "$nudge_pid"
  wait "$nudge_pid" || fail "nudge: exit $?: $(cat "$BATS_TEST_TMPDIR/nudge.err")"
  (($(requests_since "$since" | grep -c '"pods/proxy"') < 6)) || fail "the nudge waited out the retries"
  run --separate-stderr "$SK" send-keys e1 Enter
  assert_status 0
  run --separate-stderr "$SK" process-alive e1 <<<'cat'
  assert_equal "$output" false
}

@test "control: ops on a missing session are no-ops (nudge, keys, interrupt, meta) or false" {
  started
  run --separate-stderr "$SK" nudge gone1 <<<'hi'
  assert_status 0
  run --separate-stderr "$SK" send-keys gone1 Enter
  assert_status 0
  run --separate-stderr "$SK" interrupt gone1
  assert_status 0
  run --separate-stderr "$SK" get-meta gone1 k
  assert_status 0
  assert_equal "$output" ""
  run --separate-stderr "$SK" remove-meta gone1 k
  assert_status 0
  run --separate-stderr "$SK" set-meta gone1 k <<<'v'
  assert_status 1
  run --separate-stderr "$SK" process-alive gone1 <<<'cat'
  assert_equal "$output" false
  run --separate-stderr "$SK" copy-to gone1 /nonexistent/src x
  assert_status 0
  run --separate-stderr "$SK" get-meta gone1 'bad key/..'
  assert_status 100
}

# ----------------------------------------------------------------- rbac --

@test "rbac: the Role of manifests/ grants exactly the verbs the provider and the reaper use" {
  started
  # every op of the provider, batch and stream, through to the end
  start_ok r1
  sk status r1 >/dev/null
  sk is-running r1 >/dev/null
  sk list "" >/dev/null
  sk list-running "" >/dev/null
  k8s_log "$(pod_of r1)" "out"
  sk peek r1 5 >/dev/null
  sk logs r1 >/dev/null
  # wait while it runs: it watches the Job until the pod ends
  "$SK" wait r1 30 >"$BATS_TEST_TMPDIR/wait.out" &
  local waiter=$!
  wait_for 10 job_watched
  k8s_pod_exit "$(pod_of r1)" 0
  wait "$waiter" || fail "wait failed: $(cat "$BATS_TEST_TMPDIR/wait.out")"
  sk logs r1 --follow >/dev/null
  sk stop r1
  start_ok r2 '{"command":"cat","mode":"stream"}'
  supervisor_for r2 fracta-stream-r2
  sk nudge r2 <<<'hi'
  sk send-keys r2 Enter
  sk set-meta r2 k <<<'v'
  sk get-meta r2 k >/dev/null
  sk remove-meta r2 k
  sk get-last-activity r2 >/dev/null
  sk clear-scrollback r2
  echo x >"$BATS_TEST_TMPDIR/x"
  sk copy-to r2 "$BATS_TEST_TMPDIR/x" x
  sk process-alive r2 <<<'cat' >/dev/null
  run --separate-stderr "$SK" wait r2 1  # a stream session: the Pod itself
  assert_status 111
  sk stop r2
  # leftovers of a session whose Job is gone, for the reaper
  local leftover
  for kind in ConfigMap Secret; do
    leftover=$(jq -nc --arg kind "$kind" '{apiVersion: "v1", kind: $kind, metadata: {name: ("fracta-left-" + ($kind | ascii_downcase)),
      labels: {"app.kubernetes.io/managed-by": "fracta", "app.kubernetes.io/component": "agent"},
      ownerReferences: [{apiVersion: "batch/v1", kind: "Job", name: "fracta-agent-gone", uid: "00000000-0000-4000-8000-000000000000"}]}}')
    k8s_curl -X POST -H 'Content-Type: application/json' --data-binary "$leftover" \
      "$K8S_URL/api/v1/namespaces/default/$(tr 'A-Z' 'a-z' <<<"$kind")s" >/dev/null
  done
  # and a reaper pass in a project on this cluster
  mkdir -p "$BATS_TEST_TMPDIR/p/.fracta"
  printf '%s\n' 'runtime: {backend: kubernetes, kubernetes: {namespace: default}}' >"$BATS_TEST_TMPDIR/p/fracta.yaml"
  run --separate-stderr bash -c "cd '$BATS_TEST_TMPDIR/p' && '$FRACTA_BIN/fracta-reap' --once"
  assert_status 0
  assert_equal "$(jq -r .action <<<"$output" | sort | uniq -c | tr -s ' ')" " 2 k8s_orphan"

  local used granted
  used=$(k8s_requests | jq -r 'select(.resource != null and .resource != "")
      | (.resource + (if .subresource then "/" + .subresource else "" end)) + " " + .verb' | sort -u)
  granted=$(kubectl kustomize "$FRACTA_SOURCE/manifests" | node "$FRACTA_SOURCE/tests/k8s/validate.mjs" --json - |
    jq -r '.[] | select(.kind == "Role" and .metadata.name == "fracta-control-plane") | .rules[]
      | .resources[] as $r | .verbs[] as $v | $r + " " + $v' | sort -u)
  [[ -n $used && -n $granted ]] || fail "used: $used granted: $granted"
  # every call allowed, and nothing allowed that is never called
  [[ $granted == "$used" ]] || fail "the Role (<) and the API calls made (>) differ:" "$(diff <(echo "$granted") <(echo "$used"))"
}
