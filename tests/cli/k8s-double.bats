#!/usr/bin/env bats
# The Kubernetes API double (tests/k8s/double.mjs) checked against the real
# kubectl: if kubectl cannot get, create -f, delete, watch and read logs
# through it, or prints different errors than it does against a real API
# server, the double is wrong. Plus curl checks of wire details kubectl hides
# (Status bodies, resourceVersion conflicts, watch resume, bookmarks, 410).
#
# shellcheck disable=SC2154  # stderr: set by bats' run --separate-stderr

load ../lib/common
load ../lib/k8s



setup_file() {
  require_cmd openssl kubectl node jq curl
  k8s_file_certs
}

setup() {
  common_setup
  require_cmd kubectl openssl node
  KC="$BATS_TEST_TMPDIR/kubeconfig"
  export KUBECONFIG=/nonexistent HOME="$BATS_TEST_TMPDIR"
}

teardown() { common_teardown; }

# the one container of this suite's Jobs
BUSYBOX='{name: agent, image: busybox:1.36}'

manifests() {
  cat >"$BATS_TEST_TMPDIR/objs.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg1
  labels: {app: fracta}
data:
  a: "1"
---
apiVersion: v1
kind: Secret
metadata:
  name: sec1
stringData:
  token: hunter2
---
EOF
  k8s_job_yaml job1 "$BUSYBOX" >>"$BATS_TEST_TMPDIR/objs.yaml"
  cat >"$BATS_TEST_TMPDIR/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: p1
  labels: {app: fracta}
spec:
  restartPolicy: Never
  containers:
  - name: agent
    image: busybox:1.36
    ports: [{containerPort: 7070}]
EOF
}

# has_watch RESOURCE — the double has seen a watch request for RESOURCE
has_watch() {
  k8s_requests | jq -e --arg r "$1" -s 'any(.[]; .verb == "watch" and .resource == $r and .status == 200)' >/dev/null
}
count_items() { kc get "$1" -o json | jq '.items | length'; }
# conditions for wait_for (re-evaluated on every poll)
items_are() { [[ $(count_items "$1") == "$2" ]]; }
jsonpath_is() { [[ $(kc get "$1" -o jsonpath="$2") == "$3" ]]; }
# the request log as one JSON array (entries after seq $1, if given)
# shellcheck disable=SC2120
requests() { k8s_requests "$@" | jq -sc .; }

@test "k8s-double: kubectl get lists namespaces as a table and empty pods as JSON; version is 1.32" {
  k8s_started
  run --separate-stderr kc get pods -o json
  assert_status 0
  assert_json '.kind == "List" and (.items | length) == 0'
  run --separate-stderr kc get namespaces
  assert_status 0
  [[ ${lines[0]} =~ ^NAME\ +STATUS\ +AGE$ ]] || fail "table header: ${lines[0]}"
  [[ $output =~ default\ +Active ]] || fail "no default namespace row: $output"
  run --separate-stderr kc version -o json
  assert_status 0
  assert_json '.serverVersion.gitVersion == "v1.32.4"'
  # kubectl asked for a server-side Table, and got one
  run requests
  assert_json 'any(.[]; .path == "/api/v1/namespaces" and .status == 200 and (.accept | contains("as=Table;v=v1;g=meta.k8s.io")))'
}

@test "k8s-double: kubectl create -f makes a ConfigMap, a Secret and a Job, whose pod appears like the job controller's" {
  k8s_started
  manifests
  run --separate-stderr kc create -f objs.yaml
  assert_status 0
  assert_equal "$output" $'configmap/cfg1 created\nsecret/sec1 created\njob.batch/job1 created'
  # default validation is server-side (fieldValidation=Strict), from /openapi/v3
  run requests
  assert_json 'any(.[]; .method == "POST" and .resource == "jobs" and .query.fieldValidation == "Strict" and .status == 201)'

  run --separate-stderr kc get secret sec1 -o json
  assert_status 0
  assert_json '.data.token == ("hunter2" | @base64) and .type == "Opaque" and (.stringData == null)'
  local job pod
  job=$(kc get job job1 -o json)
  wait_for 10 items_are pods 1
  run --separate-stderr kc get pods -o json
  assert_status 0
  pod=$(jq -c '.items[0]' <<<"$output")
  assert_json '.metadata.name | test("^job1-[bcdfghjklmnpqrstvwxz2456789]{5}$")' "$pod"
  local juid
  juid=$(jq -r .metadata.uid <<<"$job")
  assert_json ".metadata.labels[\"job-name\"] == \"job1\" and .metadata.labels[\"batch.kubernetes.io/job-name\"] == \"job1\"
    and .metadata.labels[\"controller-uid\"] == \"$juid\" and .metadata.labels[\"batch.kubernetes.io/controller-uid\"] == \"$juid\"
    and .metadata.ownerReferences == [{apiVersion: \"batch/v1\", kind: \"Job\", name: \"job1\", uid: \"$juid\", controller: true, blockOwnerDeletion: true}]
    and .status.phase == \"Pending\" and .spec.restartPolicy == \"Never\"" "$pod"
  assert_json ".spec.selector.matchLabels[\"batch.kubernetes.io/controller-uid\"] == \"$juid\" and .status.active == 1" "$(kc get job job1 -o json)"

  run --separate-stderr kc get configmaps,secrets,jobs
  assert_status 0
  [[ $output =~ configmap/cfg1\ +1\  ]] || fail "configmap row: $output"
  [[ $output =~ secret/sec1\ +Opaque\ +1\  ]] || fail "secret row: $output"
  [[ $output =~ job.batch/job1\ +Running\ +0/1\  ]] || fail "job row: $output"
  run --separate-stderr kc get configmaps -l app=fracta -o name
  assert_equal "$output" "configmap/cfg1"
  run --separate-stderr kc get configmaps -l 'app notin (fracta)' -o name
  assert_status 0
  assert_equal "$output" ""
}

@test "k8s-double: errors read as kubectl prints them from a real server (404, 409, 422, strict fields, namespace, service account)" {
  k8s_started
  manifests
  run --separate-stderr kc get pod nope
  assert_status 1
  assert_equal "$stderr" 'Error from server (NotFound): pods "nope" not found'
  run --separate-stderr kc get job nope
  assert_equal "$stderr" 'Error from server (NotFound): jobs.batch "nope" not found'
  kc create -f objs.yaml >/dev/null
  run --separate-stderr kc create -f objs.yaml
  assert_status 1
  [[ $stderr == *'Error from server (AlreadyExists): error when creating "objs.yaml": configmaps "cfg1" already exists'* ]] || fail "$stderr"
  [[ $stderr == *'Error from server (AlreadyExists): error when creating "objs.yaml": jobs.batch "job1" already exists'* ]] || fail "$stderr"
  printf '%s\n' 'apiVersion: v1' 'kind: ConfigMap' 'metadata: {name: Bad_Name}' >bad.yaml
  run --separate-stderr kc create -f bad.yaml
  assert_status 1
  [[ $stderr == *'The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'* ]] || fail "$stderr"
  printf '%s\n' 'apiVersion: v1' 'kind: ConfigMap' 'metadata: {name: typo}' 'datta: {a: b}' >typo.yaml
  run --separate-stderr kc create -f typo.yaml
  assert_status 1
  [[ $stderr == *'strict decoding error: unknown field "datta"'* ]] || fail "$stderr"
  run --separate-stderr kc create -f pod.yaml -n nope
  assert_status 1
  [[ $stderr == *'Error from server (NotFound): error when creating "pod.yaml": namespaces "nope" not found'* ]] || fail "$stderr"
  sed 's/restartPolicy: Never/restartPolicy: Never\n  serviceAccountName: ghost/' pod.yaml >ghost.yaml
  run --separate-stderr kc create -f ghost.yaml
  assert_status 1
  [[ $stderr == *'pods "p1" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found'* ]] || fail "$stderr"
}

@test "k8s-double: kubectl delete of a Job garbage-collects its pod and the objects it owns" {
  k8s_started
  manifests
  kc create -f objs.yaml >/dev/null
  wait_for 10 items_are pods 1
  local pod juid
  pod=$(k8s_job_pod job1)
  k8s_pod_running "$pod"
  juid=$(kc get job job1 -o jsonpath='{.metadata.uid}')
  local owner="{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"name\":\"job1\",\"uid\":\"$juid\",\"controller\":true}]}}"
  kc patch configmap cfg1 --type=merge -p "$owner" >/dev/null
  kc patch secret sec1 --type=merge -p "$owner" >/dev/null
  kc create configmap keep --dry-run=client -o json | kc create -f - >/dev/null

  run --separate-stderr kc delete job job1
  assert_status 0
  assert_equal "$output" 'job.batch "job1" deleted'
  wait_for 10 items_are pods 0
  wait_for 10 items_are secrets 0
  run --separate-stderr kc get configmaps -o name
  assert_equal "$output" "configmap/keep"
  # kubectl asked for background propagation, as fracta must (the API's
  # default for batch/v1 Jobs is to orphan the pods)
  run requests
  assert_json 'any(.[]; .method == "DELETE" and .resource == "jobs" and .status == 200)'
}

@test "k8s-double: kubectl get -w sees a pod added, running, succeeded and deleted" {
  k8s_started
  manifests
  start_bg kubectl --kubeconfig "$KC" get pods -w --output-watch-events >watch.out 2>watch.err
  wait_for 10 has_watch pods
  kc create -f pod.yaml >/dev/null
  wait_for 10 file_has watch.out 'ADDED'
  k8s_pod_running p1
  wait_for 10 file_has watch.out 'Running'
  k8s_pod_exit p1 0
  wait_for 10 file_has watch.out 'Completed'
  kc delete pod p1 >/dev/null
  wait_for 10 file_has watch.out 'DELETED'
  run cat watch.out
  [[ ${lines[0]} =~ ^EVENT\ +NAME\ +READY\ +STATUS\ +RESTARTS\ +AGE$ ]] || fail "header: ${lines[0]}"
  [[ ${lines[1]} =~ ^ADDED\ +p1\ +0/1\ +Pending\  ]] || fail "line 1: ${lines[1]}"
  [[ ${lines[2]} =~ ^MODIFIED\ +p1\ +1/1\ +Running\  ]] || fail "line 2: ${lines[2]}"
  [[ ${lines[3]} =~ ^MODIFIED\ +p1\ +0/1\ +Completed\  ]] || fail "line 3: ${lines[3]}"
  [[ ${lines[4]} =~ ^DELETED\ +p1\  ]] || fail "line 4: ${lines[4]}"
  assert_equal "${#lines[@]}" 5 "watch lines"
}

@test "k8s-double: kubectl logs, logs --tail, logs -f and the waiting-container error" {
  k8s_started
  manifests
  kc create -f pod.yaml >/dev/null
  k8s_pod_waiting p1 ImagePullBackOff 'Back-off pulling image "busybox:1.36"'
  run --separate-stderr kc logs p1
  assert_status 1
  assert_equal "$stderr" 'Error from server (BadRequest): container "agent" in pod "p1" is waiting to start: trying and failing to pull image'
  run --separate-stderr kc get pods
  [[ $output =~ p1\ +0/1\ +ImagePullBackOff ]] || fail "$output"

  k8s_pod_running p1
  k8s_log p1 $'one\ntwo\nthree'
  run --separate-stderr kc logs p1
  assert_status 0
  assert_equal "$output" $'one\ntwo\nthree'
  run --separate-stderr kc logs --tail=2 p1
  assert_equal "$output" $'two\nthree'
  run --separate-stderr kc logs --tail=1 -c agent pod/p1
  assert_equal "$output" 'three'
  run --separate-stderr kc logs p1 -c nope
  assert_status 1
  assert_equal "$stderr" 'error: container nope is not valid for pod p1'
  run k8s_curl "$K8S_URL/api/v1/namespaces/default/pods/p1/log?container=nope"
  assert_json '.code == 400 and .message == "container nope is not valid for pod p1"'
  run k8s_curl "$K8S_URL/api/v1/namespaces/default/pods/p1/log?tailLines=2&timestamps=true"
  [[ $output =~ ^[0-9-]+T[0-9:.]+Z\ two$'\n'[0-9-]+T[0-9:.]+Z\ three$ ]] || fail "timestamps: $output"

  start_bg kubectl --kubeconfig "$KC" logs -f --tail=1 p1 >follow.out 2>follow.err
  local follower=$BG_PID
  wait_for 10 file_has follow.out three
  k8s_log p1 'four'
  wait_for 10 file_has follow.out four
  k8s_pod_exit p1 0
  local rc=0
  wait "$follower" || rc=$?
  assert_equal "$rc" 0 "kubectl logs -f exit status once the container ended"
  assert_equal "$(<follow.out)" $'three\nfour'
}

@test "k8s-double: create --dry-run=client -f - and --dry-run=server store nothing" {
  k8s_started
  manifests
  run --separate-stderr kc create --dry-run=client -f - --validate=false -o json <pod.yaml
  assert_status 0
  assert_json '.kind == "Pod" and .metadata.name == "p1" and .spec.containers[0].image == "busybox:1.36"'
  run --separate-stderr kc create --dry-run=server -f pod.yaml -o json
  assert_status 0
  assert_json '.kind == "Pod" and .metadata.uid != null and .spec.dnsPolicy == "ClusterFirst" and .status.phase == "Pending"'
  run requests
  assert_json 'map(select(.method == "POST") | .query.dryRun) == ["All"]'
  assert_equal "$(count_items pods)" 0 "pods after dry runs"
}

@test "k8s-double: client certificates and tokens authenticate; bad ones get 401 as kubectl shows it" {
  k8s_started
  manifests
  k8s_kubeconfig "$KC" cert
  run --separate-stderr kc get pods
  assert_status 0
  k8s_kubeconfig "$KC" cert-data
  run --separate-stderr kc get configmaps
  assert_status 0
  run requests
  assert_json 'any(.[]; .path == "/api/v1/namespaces/default/configmaps" and .user == "fracta-test" and .auth == "x509" and .status == 200)'

  k8s_kubeconfig "$KC" rogue-cert
  run --separate-stderr kc get pods
  assert_status 1
  [[ $stderr == *'error: You must be logged in to the server (Unauthorized)'* ]] || fail "$stderr"
  k8s_kubeconfig "$KC" token wrong-token
  run --separate-stderr kc get pods
  assert_status 1
  [[ $stderr == *'error: You must be logged in to the server (Unauthorized)'* ]] || fail "$stderr"
  # (no kubectl check without credentials: kubectl then prompts for a username)
  run curl -sS --cacert "$K8S_CERTS/ca.crt" -w '\n%{http_code}' "$K8S_URL/api/v1/namespaces/default/pods"
  assert_equal "${lines[1]}" 401 "status without credentials"
  run curl -sS --cacert "$K8S_CERTS/ca.crt" -H 'Authorization: Bearer wrong' "$K8S_URL/api/v1/namespaces/default/pods"
  assert_json '. == {kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401}'
}

@test "k8s-double: a token file is re-read on every request, so rotation takes effect" {
  printf 'first,alice,1,devs\n' >tokens.csv
  k8s_start --token-file "$BATS_TEST_TMPDIR/tokens.csv"
  k8s_kubeconfig "$KC" token first
  run --separate-stderr kc get pods
  assert_status 0
  printf 'second,alice,1,devs\n' >tokens.csv
  run --separate-stderr kc get pods
  assert_status 1
  [[ $stderr == *'(Unauthorized)'* ]] || fail "$stderr"
  printf '%s\n' second >"$BATS_TEST_TMPDIR/client-token"
  k8s_kubeconfig "$KC" token-file "$BATS_TEST_TMPDIR/client-token"
  run --separate-stderr kc get pods
  assert_status 0
  run requests
  assert_json '(map(select(.verb == "list" and .status == 200) | .user) | unique) == ["alice"] and any(.[]; .status == 401 and .user == null)'
}

@test "k8s-double: deny rules answer 403 with the RBAC authorizer's message" {
  k8s_started --deny list:pods --deny get:pods/log
  manifests
  run --separate-stderr kc get pods
  assert_status 1
  assert_equal "$stderr" 'Error from server (Forbidden): pods is forbidden: User "tester" cannot list resource "pods" in API group "" in the namespace "default"'
  kc create -f pod.yaml >/dev/null
  k8s_pod_running p1
  run --separate-stderr kc logs p1
  assert_status 1
  assert_equal "$stderr" 'Error from server (Forbidden): pods "p1" is forbidden: User "tester" cannot get resource "pods/log" in API group "" in the namespace "default"'
  k8s_ctl POST /deny '{"rule":"create:jobs"}' >/dev/null
  run curl -sS --cacert "$K8S_CERTS/ca.crt" -H "Authorization: Bearer $K8S_TOKEN" -H 'Content-Type: application/json' \
    -d '{"metadata":{"name":"j"}}' "$K8S_URL/apis/batch/v1/namespaces/default/jobs"
  assert_json '.code == 403 and .reason == "Forbidden" and .details == {group: "batch", kind: "jobs"}
    and .message == "jobs.batch is forbidden: User \"tester\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"default\""'
}

@test "k8s-double: Job status follows its pod: Complete, Failed (backoffLimit), deadline, ttl" {
  k8s_started
  manifests
  kc create -f objs.yaml >/dev/null
  wait_for 10 items_are pods 1
  local pod
  pod=$(k8s_job_pod job1)
  k8s_pod_running "$pod"
  k8s_pod_exit "$pod" 0
  wait_for 10 jsonpath_is job/job1 '{.status.succeeded}' 1
  run --separate-stderr kc get job job1 -o json
  assert_json '[.status.conditions[] | select(.status == "True") | .type] == ["SuccessCriteriaMet", "Complete"]
    and .status.completionTime != null and (.status.active // 0) == 0'
  run --separate-stderr kc get pod "$pod" -o json
  assert_json '.status.phase == "Succeeded" and .status.containerStatuses[0].state.terminated.exitCode == 0
    and .status.containerStatuses[0].state.terminated.reason == "Completed"'

  kc delete job job1 >/dev/null
  k8s_job_yaml job2 "$BUSYBOX" 'ttlSecondsAfterFinished: 0' >job2.yaml
  kc create -f job2.yaml >/dev/null
  wait_for 10 k8s_job_pod job2
  pod=$(k8s_job_pod job2)
  k8s_pod_running "$pod"
  k8s_ctl POST "/pods/default/$pod/exit" '{"code":3}' >/dev/null
  # ttlSecondsAfterFinished: 0 — the finished Job is deleted, with its pod
  wait_for 10 items_are jobs 0
  wait_for 10 items_are pods 0
  run k8s_ctl GET /objects/events/default
  assert_json 'any(.[]; .reason == "BackoffLimitExceeded" and .involvedObject.name == "job2")'

  k8s_job_yaml job3 "$BUSYBOX" 'activeDeadlineSeconds: 1' >job3.yaml
  kc create -f job3.yaml >/dev/null
  wait_for 10 jsonpath_is job/job3 '{.status.conditions[?(@.type=="Failed")].reason}' DeadlineExceeded
}

@test "k8s-double: wire details: Status bodies, resourceVersion conflict, generateName, delete policies" {
  k8s_started
  local api="$K8S_URL/api/v1/namespaces/default" cm
  run k8s_curl -X POST -H 'Content-Type: application/json' -d '{"metadata":{"generateName":"gen-"},"data":{"k":"v"}}' "$api/configmaps"
  assert_json '(.metadata.name | test("^gen-[a-z0-9]{5}$")) and (.metadata.uid | length) == 36
    and (.metadata.resourceVersion | test("^[0-9]+$")) and (.metadata.creationTimestamp | test("Z$"))'
  cm=$(jq -r .metadata.name <<<"$output")
  local rv1
  rv1=$(jq -r .metadata.resourceVersion <<<"$output")
  run k8s_curl -X PUT -H 'Content-Type: application/json' -d "{\"metadata\":{\"name\":\"$cm\",\"resourceVersion\":\"$rv1\"},\"data\":{\"k\":\"w\"}}" "$api/configmaps/$cm"
  assert_json ".data.k == \"w\" and (.metadata.resourceVersion | tonumber) > $rv1"
  run k8s_curl -X PUT -H 'Content-Type: application/json' -d "{\"metadata\":{\"name\":\"$cm\",\"resourceVersion\":\"$rv1\"},\"data\":{}}" "$api/configmaps/$cm"
  assert_json ". == {kind: \"Status\", apiVersion: \"v1\", metadata: {}, status: \"Failure\",
    message: \"Operation cannot be fulfilled on configmaps \\\"$cm\\\": the object has been modified; please apply your changes to the latest version and try again\",
    reason: \"Conflict\", details: {name: \"$cm\", kind: \"configmaps\"}, code: 409}"
  run k8s_curl -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"metadata":{"labels":{"x":"1"}}}' "$api/configmaps/$cm"
  assert_json '.metadata.labels.x == "1" and .data.k == "w"'
  run k8s_curl -X PATCH -H 'Content-Type: application/json-patch+json' -d '[{"op":"replace","path":"/data/k","value":"z"}]' "$api/configmaps/$cm"
  assert_json '.data.k == "z"'
  run k8s_curl -X POST -H 'Content-Type: application/json' -d "{\"metadata\":{\"name\":\"$cm\"}}" "$api/configmaps"
  assert_json ".code == 409 and .reason == \"AlreadyExists\" and .message == \"configmaps \\\"$cm\\\" already exists\""
  run k8s_curl "$K8S_URL/apis/batch/v1/namespaces/default/jobs/zz"
  assert_json '. == {kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "jobs.batch \"zz\" not found",
    reason: "NotFound", details: {name: "zz", group: "batch", kind: "jobs"}, code: 404}'
  run k8s_curl -X DELETE "$api/configmaps/$cm"
  assert_json ".kind == \"Status\" and .status == \"Success\" and .details.name == \"$cm\" and .details.kind == \"configmaps\""
  run k8s_curl "$api/configmaps?labelSelector=a%20in%20(b"
  assert_json '.code == 400 and .reason == "BadRequest"'

  # a Job deleted without a propagationPolicy orphans its pod, like the real API
  manifests
  kc create -f objs.yaml >/dev/null
  wait_for 10 items_are pods 1
  run k8s_curl -X DELETE "$K8S_URL/apis/batch/v1/namespaces/default/jobs/job1"
  assert_json '.status == "Success"'
  run --separate-stderr kc get pods -o json
  assert_json '(.items | length) == 1 and .items[0].metadata.ownerReferences == null'
  # Foreground: the owner stays, marked, until its dependents are gone
  kc delete pods --all >/dev/null
  k8s_job_yaml job1 "$BUSYBOX" >job1.yaml
  kc create -f job1.yaml >/dev/null
  wait_for 10 items_are pods 1
  k8s_pod_running "$(k8s_job_pod job1)"
  run k8s_curl -X DELETE -H 'Content-Type: application/json' -d '{"propagationPolicy":"Foreground"}' "$K8S_URL/apis/batch/v1/namespaces/default/jobs/job1"
  assert_json '.kind == "Job" and .metadata.deletionTimestamp != null and (.metadata.finalizers | index("foregroundDeletion")) != null'
  wait_for 10 items_are jobs 0
  assert_equal "$(count_items pods)" 0 "pods after the foreground deletion"
}

@test "k8s-double: watch resumes from a resourceVersion, filters by label, sends bookmarks, and answers 410 when too old" {
  k8s_started --bookmark-interval-ms 100
  local api="$K8S_URL/api/v1/namespaces/default" rv
  rv=$(k8s_curl -X POST -H 'Content-Type: application/json' -d '{"metadata":{"name":"a","labels":{"w":"y"}}}' "$api/configmaps" | jq -r .metadata.resourceVersion)
  k8s_curl -X POST -H 'Content-Type: application/json' -d '{"metadata":{"name":"b","labels":{"w":"y"}}}' "$api/configmaps" >/dev/null
  k8s_curl -X POST -H 'Content-Type: application/json' -d '{"metadata":{"name":"c"}}' "$api/configmaps" >/dev/null
  k8s_curl -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"metadata":{"labels":{"w":"n"}}}' "$api/configmaps/a" >/dev/null
  k8s_curl -X DELETE "$api/configmaps/b" >/dev/null
  # timeoutSeconds ends the stream on the server's side
  run k8s_curl -N "$api/configmaps?watch=true&resourceVersion=$rv&labelSelector=w%3Dy&timeoutSeconds=1"
  assert_status 0
  assert_equal "$(jq -sc 'map([.type, .object.metadata.name])' <<<"$output")" '[["ADDED","b"],["DELETED","a"],["DELETED","b"]]'
  # without a resourceVersion: the current state as ADDED, then changes
  run k8s_curl -N "$api/configmaps?watch=1&timeoutSeconds=1"
  assert_equal "$(jq -sc 'map([.type, .object.metadata.name])' <<<"$output")" '[["ADDED","a"],["ADDED","c"]]'
  run k8s_curl -N "$api/configmaps?watch=1&resourceVersion=$rv&allowWatchBookmarks=true&timeoutSeconds=1"
  local evs
  evs=$(jq -sc . <<<"$output")
  assert_json 'map(select(.type == "BOOKMARK")) | length >= 1 and all(.object.kind == "ConfigMap"
    and (.object.metadata.resourceVersion | test("^[0-9]+$")))' "$evs"
  assert_json 'map(select(.type != "BOOKMARK") | .type) == ["ADDED", "ADDED", "MODIFIED", "DELETED"]' "$evs"

  k8s_ctl POST /compact >/dev/null
  run k8s_curl -N -w '\n%{http_code}' "$api/configmaps?watch=1&resourceVersion=$rv"
  assert_equal "${lines[1]}" 200 "HTTP status of an expired watch"
  assert_json ".type == \"ERROR\" and .object.code == 410 and .object.reason == \"Expired\"
    and (.object.message | startswith(\"too old resource version: $rv (\"))" "${lines[0]}"
}

@test "k8s-double: watches can be dropped, faults injected (429 Retry-After is retried by kubectl), listening stopped and restarted" {
  k8s_started
  local api="$K8S_URL/api/v1/namespaces/default"
  start_bg curl -sS -N --cacert "$K8S_CERTS/ca.crt" -H "Authorization: Bearer $K8S_TOKEN" "$api/pods?watch=1" >w.out 2>w.err
  local watcher=$BG_PID
  wait_for 10 has_watch pods
  run k8s_ctl POST /watches/drop '{}'
  assert_json '.dropped == 1'
  local rc=0
  wait "$watcher" || rc=$?
  assert_equal "$rc" 0 "curl exit status after the server ended the watch"

  k8s_fault '{"method":"GET","path":"/api/v1/namespaces/default/pods$","code":429,"retryAfter":1,"count":1}'
  run k8s_curl -i "$api/pods"
  [[ $output == *$'\r\nRetry-After: 1\r\n'* ]] || fail "no Retry-After: $output"
  assert_json '.code == 429 and .reason == "TooManyRequests" and .details.retryAfterSeconds == 1' "${lines[-1]}"
  k8s_fault '{"method":"GET","path":"/api/v1/namespaces/default/pods\\?","code":429,"retryAfter":1,"count":1}'
  local since
  since=$(requests 0 | jq 'map(.seq) | max')
  run --separate-stderr kc get pods -o json
  assert_status 0
  run requests "$since"
  assert_equal "$(jq -c '[.[] | select(.verb == "list" and .resource == "pods") | .status]' <<<"$output")" '[429,200]'

  k8s_fault '{"path":"/api/v1/namespaces/default/configmaps","code":503,"count":1}'
  run k8s_curl "$api/configmaps"
  assert_json '.code == 503 and .reason == "ServiceUnavailable"'

  run k8s_ctl POST /stop '{}'
  assert_json '.stopped == ["https"]'
  run curl -sS --cacert "$K8S_CERTS/ca.crt" "$K8S_URL/version"
  assert_status 7
  run k8s_ctl POST /start '{}'
  assert_json '.started == ["https"]'
  run --separate-stderr kc get pods
  assert_status 0
}

@test "k8s-double: pods/proxy forwards to the pod's registered target without the caller's credentials" {
  k8s_started
  manifests
  kc create -f pod.yaml >/dev/null
  run k8s_curl "$K8S_URL/api/v1/namespaces/default/pods/p1:7070/proxy/status"
  assert_json '.code == 400 and .message == "address not allowed"'
  k8s_pod_running p1
  run k8s_curl "$K8S_URL/api/v1/namespaces/default/pods/p1:7070/proxy/status"
  assert_json '.code == 503 and .reason == "ServiceUnavailable" and (.message | test("^error trying to reach service: dial tcp [0-9.]+:7070: connect: connection refused$"))'

  start_bg node "$FRACTA_SOURCE/tests/k8s/echo-server.mjs" "$BATS_TEST_TMPDIR/echo.port"
  wait_for 10 test -s echo.port
  k8s_proxy p1 7070 "http://127.0.0.1:$(<echo.port)"
  run k8s_curl -X POST -H 'X-Fracta-Token: s3cret' -H 'Content-Type: application/json' -d '{"keys":"ls"}' \
    "$K8S_URL/api/v1/namespaces/default/pods/p1:7070/proxy/v1/keys?enter=1"
  assert_status 0
  assert_json '.method == "POST" and .url == "/v1/keys?enter=1" and .body == "{\"keys\":\"ls\"}"
    and .headers["x-fracta-token"] == "s3cret" and .headers.authorization == null'
  # no port: the first container port
  run k8s_curl "$K8S_URL/api/v1/namespaces/default/pods/p1/proxy/"
  assert_json '.url == "/"'
  run k8s_curl -o /dev/null -w '%{http_code}' "$K8S_URL/api/v1/namespaces/default/pods/p1:7070/proxy/teapot"
  assert_equal "$output" 418 "the target's status passes through"

  start_bg node "$FRACTA_SOURCE/tests/k8s/echo-server.mjs" --unix "$BATS_TEST_TMPDIR/sup.sock" "$BATS_TEST_TMPDIR/sock.ready"
  wait_for 10 test -s sock.ready
  k8s_proxy p1 8080 "unix:$BATS_TEST_TMPDIR/sup.sock"
  run k8s_curl "$K8S_URL/api/v1/namespaces/default/pods/p1:8080/proxy/v1/status"
  assert_json '.url == "/v1/status"'
  run requests
  assert_json 'map(select(.subresource == "proxy") | .verb) | unique == ["create", "get"]'
}

@test "k8s-double: --auto-run plays the kubelet; the request log names each verb and resource used" {
  k8s_started --auto-run
  manifests
  kc create -f objs.yaml >/dev/null
  wait_for 10 jsonpath_is pods '{.items[0].status.phase}' Running
  run --separate-stderr kc get pods -o json
  assert_json '.items[0].status.podIP != null and .items[0].status.containerStatuses[0].ready == true
    and .items[0].spec.nodeName == "double-node"'
  run requests
  assert_equal "$(jq -c '[.[] | select(.verb != null) | "\(.verb) \(.resource)"] | unique' <<<"$output")" \
    '["create configmaps","create jobs","create secrets","list pods"]'
}
