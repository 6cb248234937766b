# k8s.bash — helpers for suites that talk to the Kubernetes API double
# (tests/k8s/double.mjs). Load after common.
#
#   k8s_certs DIR             a server CA + server cert (SAN 127.0.0.1, localhost)
#                             and a client CA + client cert (CN fracta-test,
#                             O fracta-testers) in DIR; K8S_CERTS=DIR
#   k8s_file_certs            k8s_certs once for the whole file (setup_file)
#   k8s_start [ARGS…]         start the double on free ports (HTTPS API + plain
#                             HTTP for control) with the certs and ARGS; sets
#                             K8S_URL, K8S_CTL (control base URL), K8S_PID
#   k8s_started [ARGS…]       k8s_start_default ARGS, and a token kubeconfig in $KC
#   k8s_team_pods             HOME the test's, no cluster in the environment;
#                             the double with namespace team whose kubelet
#                             runs the pods (in $PODS, with $FRACTA_BIN); a
#                             token kubeconfig for team in $KC; NS=team
#   kc ARGS…                  kubectl with the kubeconfig $KC (else $KUBECONFIG),
#                             in namespace $NS when set
#   k8s_kubeconfig FILE MODE [ARG…]   write a kubeconfig for K8S_URL; MODE:
#       token TOKEN | token-file PATH | cert | cert-data | none | insecure-token TOKEN
#       | users FILE   (FILE holds the YAML of the `user:` mapping, indented 4
#                       spaces, e.g. an exec plugin block)
#   k8s_kubeconfig_head       its first lines (through the double's server URL)
#   k8s_ctl METHOD PATH [JSON]  call the control API (PATH after /_double);
#                             prints the body, fails on a non-2xx status
#   k8s_pod_running NAME [NS]   k8s_pod_exit NAME CODE [NS]
#   k8s_pod_waiting NAME REASON [MESSAGE] [NS]   k8s_log NAME TEXT [NS]
#   k8s_proxy NAME PORT TARGET [NS]   (TARGET http://127.0.0.1:P or unix:/path)
#   k8s_fault JSON            e.g. '{"method":"GET","path":"/pods","code":429,"retryAfter":1,"count":2}'
#   k8s_requests [SINCE]      the request log, one JSON object a line
#   k8s_job_pod JOB [NS]      the name of the job's (first) pod, from the control API
#   k8s_job_yaml NAME CONTAINER [SPEC-LINE…]   a Job's manifest on stdout (backoffLimit 0,
#                             the SPEC-LINEs, one CONTAINER that is never restarted)
#   k8s_curl ARGS…            curl against K8S_URL with the CA and K8S_TOKEN
#   k8s_events_store [NS]     an empty k8s: event store: the double (with
#                             namespace NS, default "gc") and a token kubeconfig
#                             in $KUBECONFIG; sets STORE_KIND=k8s,
#                             STORE_URL=k8s:NS, exports FRACTA_EVENTS_STORE
#
# shellcheck disable=SC2154

K8S_DOUBLE="$FRACTA_SOURCE/tests/k8s/double.mjs"
K8S_TOKEN=${K8S_TOKEN:-test-token}

k8s_certs() {
  local dir=$1
  require_cmd openssl || return 1
  mkdir -p "$dir"
  (
    set -e
    cd "$dir"
    local curve=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${curve[@]}" -keyout ca.key -out ca.crt -days 3 -subj "/CN=double-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req "${curve[@]}" -keyout server.key -out server.csr -subj "/CN=kube-apiserver" 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth" \
      "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
      -days 3 -extfile server.ext -out server.crt 2>/dev/null
    openssl req -x509 "${curve[@]}" -keyout client-ca.key -out client-ca.crt -days 3 -subj "/CN=double-client-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req "${curve[@]}" -keyout client.key -out client.csr -subj "/O=fracta-testers/CN=fracta-test" 2>/dev/null
    printf '%s\n' "extendedKeyUsage=clientAuth" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" >client.ext
    openssl x509 -req -in client.csr -CA client-ca.crt -CAkey client-ca.key -set_serial "0x$(openssl rand -hex 8)" \
      -days 3 -extfile client.ext -out client.crt 2>/dev/null
    # a certificate from a CA the double does not trust
    openssl req -x509 "${curve[@]}" -keyout rogue.key -out rogue.crt -days 3 -subj "/CN=rogue" 2>/dev/null
  ) || { fail "k8s_certs: openssl failed in $dir"; return 1; }
  K8S_CERTS=$dir
}

k8s_file_certs() {
  BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR k8s_certs "$BATS_FILE_TMPDIR/certs" || return 1
  export K8S_CERTS="$BATS_FILE_TMPDIR/certs"
}

# k8s_start [ARGS…] — the double with the certs, the client CA, token
# $K8S_TOKEN (user "tester") unless ARGS say otherwise, HTTPS and HTTP
k8s_start() {
  require_cmd node || return 1
  [[ -n ${K8S_CERTS:-} ]] || k8s_certs "$BATS_TEST_TMPDIR/certs" || return 1
  local ready="$BATS_TEST_TMPDIR/k8s.ready"
  rm -f "$ready"
  start_bg node "$K8S_DOUBLE" --tls-cert "$K8S_CERTS/server.crt" --tls-key "$K8S_CERTS/server.key" \
    --http-listen 127.0.0.1:0 --ready-file "$ready" "$@" 2>>"$BATS_TEST_TMPDIR/k8s-double.log"
  export K8S_PID=$BG_PID
  wait_for 20 test -s "$ready" || { cat "$BATS_TEST_TMPDIR/k8s-double.log" >&2; return 1; }
  K8S_URL=$(jq -r .url "$ready")
  K8S_CTL="$(jq -r .http_url "$ready")/_double"
}

# k8s_start_default [ARGS…] — client-cert and token auth, the usual setup
k8s_start_default() {
  [[ -n ${K8S_CERTS:-} ]] || k8s_certs "$BATS_TEST_TMPDIR/certs" || return 1
  k8s_start --client-ca "$K8S_CERTS/client-ca.crt" --token "$K8S_TOKEN,tester,1001,testers" "$@"
}

k8s_started() {
  k8s_start_default "$@" || return 1
  k8s_kubeconfig "$KC" token "$K8S_TOKEN"
}

k8s_team_pods() {
  export HOME="$BATS_TEST_TMPDIR"
  unset FRACTA_K8S_CONTEXT FRACTA_K8S_NAMESPACE KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT FRACTA_K8S_SA_DIR
  PODS="$BATS_TEST_TMPDIR/pods"
  k8s_start_default --namespace team --run-pods "$PODS" --pod-bin "$FRACTA_BIN" || return 1
  KC="$BATS_TEST_TMPDIR/kubeconfig"
  K8S_NAMESPACE=team k8s_kubeconfig "$KC" token "$K8S_TOKEN"
  NS=team
}

kc() { kubectl --kubeconfig "${KC:-$KUBECONFIG}" ${NS:+-n "$NS"} "$@"; }

_k8s_b64() { base64 -w0 <"$1"; }

k8s_kubeconfig() {
  local file=$1 mode=$2
  shift 2
  local cluster user
  cluster="    certificate-authority: $K8S_CERTS/ca.crt"
  case $mode in
  token) user="    token: $1" ;;
  insecure-token)
    cluster="    insecure-skip-tls-verify: true"
    user="    token: $1"
    ;;
  token-file) user="    tokenFile: $1" ;;
  cert) user=$(printf '    client-certificate: %s\n    client-key: %s' "$K8S_CERTS/client.crt" "$K8S_CERTS/client.key") ;;
  cert-data)
    cluster="    certificate-authority-data: $(_k8s_b64 "$K8S_CERTS/ca.crt")"
    user=$(printf '    client-certificate-data: %s\n    client-key-data: %s' \
      "$(_k8s_b64 "$K8S_CERTS/client.crt")" "$(_k8s_b64 "$K8S_CERTS/client.key")")
    ;;
  rogue-cert) user=$(printf '    client-certificate: %s\n    client-key: %s' "$K8S_CERTS/rogue.crt" "$K8S_CERTS/rogue.key") ;;
  none) user="    {}" ;;
  users) user=$(<"$1") ;;
  *) fail "k8s_kubeconfig: unknown mode $mode"; return 1 ;;
  esac
  {
    k8s_kubeconfig_head
    cat <<EOF
$cluster
users:
- name: tester
  user:
$user
contexts:
- name: double
  context:
    cluster: double
    user: tester
    namespace: ${K8S_NAMESPACE:-default}
current-context: double
EOF
  } >"$file"
}

# k8s_kubeconfig_head — a kubeconfig's first lines, up to the cluster "double"'s
# server (K8S_URL); the caller adds the rest of the cluster and users, contexts.
k8s_kubeconfig_head() {
  printf '%s\n' "apiVersion: v1" "kind: Config" "clusters:" "- name: double" "  cluster:" "    server: $K8S_URL"
}

k8s_ctl() {
  local method=$1 path=$2 body=${3-} out code
  out=$(curl -sS -X "$method" -w '\n%{http_code}' ${body:+-H 'Content-Type: application/json' --data-binary "$body"} \
    "$K8S_CTL$path") || { fail "k8s_ctl: curl failed: $method $path"; return 1; }
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  if [[ $code != 2?? ]]; then
    fail "k8s_ctl $method $path: HTTP $code: $out"
    return 1
  fi
  printf '%s\n' "$out"
}

k8s_pod_running() { k8s_ctl POST "/pods/${2:-default}/$1/run" '{}' >/dev/null; }
k8s_pod_exit() { k8s_ctl POST "/pods/${3:-default}/$1/exit" "{\"code\":$2}" >/dev/null; }
k8s_pod_waiting() {
  k8s_ctl POST "/pods/${4:-default}/$1/waiting" "$(jq -cn --arg r "$2" --arg m "${3:-}" '{reason:$r} + (if $m == "" then {} else {message:$m} end)')" >/dev/null
}
k8s_log() { k8s_ctl POST "/pods/${3:-default}/$1/log" "$(jq -cn --arg t "$2" '{text:$t}')" >/dev/null; }
k8s_proxy() { k8s_ctl POST "/pods/${4:-default}/$1/proxy" "$(jq -cn --arg p "$2" --arg t "$3" '{port:$p, target:$t}')" >/dev/null; }
k8s_fault() { k8s_ctl POST /faults "$1" >/dev/null; }
k8s_requests() { k8s_ctl GET "/requests?since=${1:-0}"; }

k8s_job_pod() {
  local pods
  pods=$(k8s_ctl GET "/objects/pods/${2:-default}") || return 1
  jq -er --arg j "$1" '[.[] | select(.metadata.labels["job-name"] == $j)][0].metadata.name' <<<"$pods"
}

# k8s_job_yaml NAME CONTAINER [SPEC-LINE…] — prints a Job manifest: backoffLimit 0
# and the SPEC-LINEs, a pod template that never restarts its one CONTAINER (a
# flow mapping, e.g. '{name: c, image: x}')
k8s_job_yaml() {
  local name=$1 container=$2 line
  shift 2
  printf '%s\n' 'apiVersion: batch/v1' 'kind: Job' "metadata: {name: $name}" 'spec:' '  backoffLimit: 0'
  for line in "$@"; do printf '  %s\n' "$line"; done
  printf '%s\n' '  template:' '    spec:' '      restartPolicy: Never' '      containers:' "      - $container"
}

k8s_curl() {
  curl -sS --cacert "$K8S_CERTS/ca.crt" -H "Authorization: Bearer $K8S_TOKEN" "$@"
}

k8s_events_store() {
  local ns=${1:-gc}
  k8s_start_default --namespace "$ns" || return 1
  export KUBECONFIG="$BATS_TEST_TMPDIR/kubeconfig"
  k8s_kubeconfig "$KUBECONFIG" token "$K8S_TOKEN" || return 1
  # shellcheck disable=SC2034  # STORE_KIND: read by the suites (store_is_untouched, contracts)
  STORE_KIND=k8s
  STORE_URL="k8s:$ns"
  export FRACTA_EVENTS_STORE=$STORE_URL
}
