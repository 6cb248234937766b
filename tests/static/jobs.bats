#!/usr/bin/env bats
# jobs.bats — each static binary does its real job in an empty root, not
# only --version: the root holds the binaries, /etc/hosts, /etc/resolv.conf,
# and what a container runtime gives a scratch image's process — /proc and
# /dev/null — plus a shell for agents' commands (an agent's contract is a
# shell line): Debian's static busybox as /bin/sh. Nothing from /usr, no
# shared library, no NSS module.
#
#   bats tests/static/jobs.bats        (part of make static-test)
#
# The Kubernetes test runs the API double (tests/k8s/double.mjs, node) on
# the host; everything else runs inside the root.
#
# shellcheck disable=SC2154  # status, output, stderr: set by bats' run

bats_require_minimum_version 1.5.0

load ../lib/common  # free_port
load lib

setup() {
  [[ -d $STATIC_BIN ]] || { echo "no $STATIC_BIN: run 'make static' first (or set FRACTA_STATIC_BIN)"; return 1; }
  ROOT=$BATS_TEST_TMPDIR/root
  ROOT_ENV=()
  DAEMON=""
}

teardown() {
  # a daemon the test started and did not stop (it left its pid in the root)
  if [[ -n $DAEMON && -f $ROOT$DAEMON ]]; then
    kill -9 "$(cat "$ROOT$DAEMON")" 2>/dev/null
  fi
  [[ -n ${BG_PIDS+x} ]] && common_teardown
  return 0
}

bins() {
  local name
  for name in "$@"; do
    [[ -x $STATIC_BIN/$name ]] || { echo "no $STATIC_BIN/$name" >&2; return 1; }
    echo "$STATIC_BIN/$name"
  done
}

# root_with BINARY… — a container root holding these binaries
root_with() {
  local list
  list=$(bins "$@") || return 1
  mapfile -t list <<<"$list"
  container_root "$ROOT" "${list[@]}"
}

# alive PID — running (a zombie waiting for init to reap it is not)
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

http_code() { curl -s -o /dev/null -w '%{http_code}' "$1"; }

@test "fracta-init prints the Kubernetes manifests and the compose file, and scaffolds a project, in an empty root" {
  root_with fracta-init
  run --separate-stderr in_container_root "$ROOT" / /fracta-init --print k8s
  [[ $status == 0 ]] || { echo "--print k8s: exit $status: $stderr"; false; }
  grep -q '^kind: Deployment' <<<"$output" || { echo "no Deployment in: $output"; false; }
  run --separate-stderr in_container_root "$ROOT" / /fracta-init --print docker-compose
  [[ $status == 0 ]] || { echo "--print docker-compose: exit $status: $stderr"; false; }
  grep -q '^services:' <<<"$output" || { echo "no services in: $output"; false; }
  mkdir "$ROOT/proj"
  run --separate-stderr in_container_root "$ROOT" /proj /fracta-init --scaffold docker-compose --format json
  [[ $status == 0 ]] || { echo "--scaffold: exit $status: $stderr"; false; }
  jq -e '.mode == "docker-compose" and (.written | index("fracta.yaml") != null)' <<<"$output" >/dev/null ||
    { echo "scaffold said: $output"; false; }
  [[ -s $ROOT/proj/fracta.yaml ]]
}

@test "fracta-spawn-local starts a command under its supervisor and waits for it, in an empty root" {
  root_with fracta-spawn-local
  mkdir -p "$ROOT/work"
  ROOT_ENV=(FRACTA_STATE_DIR=/state)
  run --separate-stderr in_container_root "$ROOT" / /fracta-spawn-local start s1 \
    <<<'{"command": "echo static-ok >out.txt; exit 3", "work_dir": "/work"}'
  [[ $status == 0 ]] || { echo "start: exit $status: $stderr"; false; }
  run --separate-stderr in_container_root "$ROOT" / /fracta-spawn-local wait s1 120
  [[ $status == 0 ]] || { echo "wait: exit $status: $stderr"; false; }
  jq -e '.state == "exited" and .exit_code == 3' <<<"$output" >/dev/null || { echo "wait said: $output"; false; }
  [[ $(cat "$ROOT/work/out.txt") == static-ok ]]
}

@test "fracta-cp, fracta, fracta-gw, fracta-reap and fracta-events run a project on sqlite in an empty root" {
  root_with fracta fracta-cp fracta-gw fracta-reap fracta-spawn-local fracta-events
  local gw_port
  gw_port=$(free_port)
  mkdir -p "$ROOT/proj/.fracta"  # a project (not a git one: the root has no git)
  cat >"$ROOT/proj/fracta.yaml" <<EOF
agents: {default_runtime: shell}
control_plane_api: {listen: "127.0.0.1:0"}
gateway: {listen: "127.0.0.1:$gw_port", url: "http://127.0.0.1:$gw_port"}
EOF
  DAEMON=/proj/.fracta/controlplane.pid
  # the daemon, with the gateway and the reaper beside it
  run --separate-stderr in_container_root "$ROOT" /proj /fracta-cp start
  [[ $status == 0 ]] || { echo "fracta-cp start: exit $status: $stderr"; cat "$ROOT/proj/.fracta/controlplane.log"; false; }
  local url
  url=$(jq -r .url <<<"$output")
  [[ $(http_code "$url/healthz") == 200 ]] || { echo "no /healthz at $url"; false; }
  [[ $(http_code "$url/readyz") == 200 ]] || { echo "not ready at $url"; false; }

  # the front door: an agent runs its shell contract through the local provider
  run --separate-stderr in_container_root "$ROOT" /proj /fracta spawn s1 --contract 'echo static-ok >out.txt' --wait --timeout 120s
  [[ $status == 0 ]] || { echo "fracta spawn: exit $status: $output $stderr"; cat "$ROOT/proj/.fracta/controlplane.log"; false; }
  run --separate-stderr in_container_root "$ROOT" /proj /fracta list
  [[ $status == 0 ]] || { echo "fracta list: exit $status: $stderr"; false; }
  jq -e '[.agents[] | select(.name == "s1" and .status == "Completed")] | length == 1' <<<"$output" >/dev/null ||
    { echo "fracta list said: $output"; false; }
  run --separate-stderr in_container_root "$ROOT" /proj /fracta get s1
  [[ $status == 0 ]] || { echo "fracta get: exit $status: $stderr"; false; }
  local ws
  ws=$(jq -r .agent.workspace <<<"$output")
  [[ $(cat "$ROOT$ws/out.txt") == static-ok ]] || { echo "no out.txt in $ROOT$ws"; false; }

  # the gateway fracta-cp started from the root serves
  local i
  for ((i = 0; i < 600; i++)); do
    [[ $(http_code "http://127.0.0.1:$gw_port/healthz") == 200 ]] && break
    sleep 0.2
  done
  [[ $(http_code "http://127.0.0.1:$gw_port/healthz") == 200 ]] || { echo "the gateway never served"; false; }

  # a reaper pass (dry run) and the event log, on the same store
  run --separate-stderr in_container_root "$ROOT" /proj /fracta-reap --once --dry-run
  [[ $status == 0 ]] || { echo "fracta-reap: exit $status: $stderr"; false; }
  run --separate-stderr in_container_root "$ROOT" /proj /fracta-events --store sqlite:/proj/.fracta/state.db list <<<'{}'
  [[ $status == 0 ]] || { echo "fracta-events list: exit $status: $stderr"; false; }
  jq -e 'any(.[]; .type == "lifecycle.completed" and .subject == "s1")' <<<"$output" >/dev/null ||
    { echo "no lifecycle.completed for s1 in: $output"; false; }

  local pid
  pid=$(cat "$ROOT$DAEMON")
  run --separate-stderr in_container_root "$ROOT" /proj /fracta-cp stop
  [[ $status == 0 ]] || { echo "fracta-cp stop: exit $status: $stderr"; false; }
  if alive "$pid"; then echo "the daemon $pid still runs after stop"; false; fi
  DAEMON=""
}

@test "fracta-spawn-k8s runs a session through the Kubernetes API double, in an empty root" {
  export FRACTA_SOURCE=$REPO FRACTA_BIN=$STATIC_BIN
  load ../lib/common
  load ../lib/k8s
  common_setup
  require_cmd node openssl
  root_with fracta-spawn-k8s
  k8s_certs "$BATS_TEST_TMPDIR/certs"
  k8s_start --token "$K8S_TOKEN,tester,1001,testers" --auto-run
  cp "$K8S_CERTS/ca.crt" "$ROOT/ca.crt"
  K8S_CERTS="" k8s_kubeconfig "$ROOT/kubeconfig" token "$K8S_TOKEN"  # the CA as /ca.crt, inside the root
  ROOT_ENV=(KUBECONFIG=/kubeconfig)

  run --separate-stderr in_container_root "$ROOT" / /fracta-spawn-k8s start s1 <<<'{"command": "sleep 300"}'
  [[ $status == 0 ]] || { echo "start: exit $status: $stderr"; false; }
  run --separate-stderr in_container_root "$ROOT" / /fracta-spawn-k8s is-running s1
  [[ $status == 0 && $output == true ]] || { echo "is-running: exit $status: $output $stderr"; false; }
  run --separate-stderr in_container_root "$ROOT" / /fracta-spawn-k8s list-running s
  [[ $status == 0 && $output == s1 ]] || { echo "list-running: exit $status: $output $stderr"; false; }
  run --separate-stderr in_container_root "$ROOT" / /fracta-spawn-k8s stop s1
  [[ $status == 0 ]] || { echo "stop: exit $status: $stderr"; false; }
  run --separate-stderr in_container_root "$ROOT" / /fracta-spawn-k8s is-running s1
  [[ $status == 0 && $output == false ]] || { echo "is-running after stop: exit $status: $output $stderr"; false; }
}
