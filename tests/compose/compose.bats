#!/usr/bin/env bats
# docker-compose mode with a real container engine: rootful podman (runc,
# compose/containers.conf) and podman-compose, on the images `make images`
# built. The README's docker-compose steps, in a throwaway repository:
# `fracta init --scaffold docker-compose`, deployment/.env, `up`; a shell
# agent commits inside the control plane's container, its branch is seen on
# the host and merged; `down`; nothing the test made is left behind. Once
# with podman-compose, once with Debian's docker-compose 1.29 against
# `podman system service` (a socket of the test's own).
#
# ctest label `compose` (not in `make test`): `make compose-test`, which
# .ci/run runs when `podman info` works. The published ports are the
# scaffold's own (127.0.0.1:19090 and :18080).

load ../lib/common

VERSION=0.1.0
AGENT_IMAGE=ghcr.io/fracta-dev/fracta-agent:$VERSION

setup() {
  common_setup
  require_cmd podman podman-compose docker-compose git openssl
  export CONTAINERS_CONF=${CONTAINERS_CONF:-$FRACTA_SOURCE/compose/containers.conf}
  podman image exists "$AGENT_IMAGE" || fail "no $AGENT_IMAGE: run 'make images' first"
  PROJECT=fractatest$$
  SOCK_DIR=""
  CLIENT=""
}

teardown() {
  if [[ -n ${PROJ_DIR:-} ]]; then
    (cd "$PROJ_DIR" && compose down -v >/dev/null 2>&1) || true
    podman network rm -f "${PROJECT}_default" >/dev/null 2>&1 || true
  fi
  common_teardown
  [[ -z $SOCK_DIR ]] || rm -rf "$SOCK_DIR"
}

# compose ARGS… — the compose client under test ($CLIENT) on this project
compose() {
  case $CLIENT in
    podman-compose) podman-compose -p "$PROJECT" -f deployment/docker-compose.yml "$@" ;;
    docker-compose) DOCKER_HOST=unix://$SOCK_DIR/podman.sock docker-compose -p "$PROJECT" -f deployment/docker-compose.yml "$@" ;;
  esac
}

# podman_api — podman's Docker-compatible API on a socket of the test's own,
# for Debian's docker-compose; stopped in teardown
podman_api() {
  SOCK_DIR=$(mktemp -d /tmp/fracta-compose.XXXXXX)
  start_bg podman system service --time=0 "unix://$SOCK_DIR/podman.sock" 2>"$SOCK_DIR/service.log" </dev/null
  wait_for 60 test -S "$SOCK_DIR/podman.sock" || fail "podman system service: $(cat "$SOCK_DIR/service.log")"
}

# leftovers — what of the compose project is still in the engine, one per line
leftovers() {
  podman ps -a --filter "label=io.podman.compose.project=$PROJECT" --format '{{.Names}}'
  podman ps -a --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Names}}'
  podman network ls --format '{{.Name}}' | grep -F "$PROJECT" || true
  podman volume ls --format '{{.Name}}' | grep -F "$PROJECT" || true
}

cp_ready() { "$FRACTA_BIN/fracta" status >/dev/null 2>&1; }

# the README's steps with one compose client: scaffold (which writes .env), up, a shell
# agent commits in the container, its branch merges on the host, down
# leaves nothing behind
readme_flow() {
  port_taken 19090 && fail "127.0.0.1:19090 is in use: the scaffold publishes the control plane there"
  git_repo proj
  PROJ_DIR=$PWD/proj
  cd proj
  run --separate-stderr "$FRACTA_BIN/fracta" init --scaffold docker-compose --yes
  assert_status 0
  git add -A && git commit -qm scaffold
  grep -qx 'deployment/.env' .gitignore || fail "deployment/.env is not ignored"
  # fracta init wrote deployment/.env: a random token, the owner's ids
  token=$(sed -n 's/^FRACTA_CP_TOKEN=//p' deployment/.env)
  [[ ${#token} -ge 32 ]] || fail "no generated token in deployment/.env: $(grep -v TOKEN deployment/.env)"
  grep -qx "FRACTA_UID=$(id -u)" deployment/.env || fail "deployment/.env: FRACTA_UID is not $(id -u)"

  # the token reaches the daemons as a compose secret only: not in the
  # configuration (podman-compose 1.0 has no `config`: docker-compose's, which
  # needs no engine) nor in the containers' definitions (checked after `up`)
  run --separate-stderr docker-compose -p "$PROJECT" -f deployment/docker-compose.yml config
  assert_status 0
  [[ $output == *fracta_env* ]] || fail "no fracta_env secret in the configuration: $output"
  [[ $output != *"$token"* ]] || fail "the token is in 'docker-compose config': $output"

  run compose up -d
  assert_status 0
  export FRACTA_CP_TOKEN=$token FRACTA_NO_AUTOSTART=1
  wait_for 120 cp_ready || fail "control plane not ready: $(podman logs "${PROJECT}_controlplane_1" 2>&1 | tail -20)"
  # every service's health check passes (run now: no systemd timer runs them here)
  local service
  for service in controlplane gateway; do
    wait_for 60 podman healthcheck run "$(podman ps --filter "name=${PROJECT}_$service" --format '{{.Names}}')" ||
      fail "$service is not healthy: $(podman logs "$(podman ps -a --filter "name=${PROJECT}_$service" --format '{{.Names}}')" 2>&1 | tail -20)"
  done
  run podman container inspect $(podman ps -a --format '{{.Names}}' --filter "name=${PROJECT}_")
  assert_status 0
  [[ $output == *fracta_env* ]] || fail "no container mounts the secret: $output"
  [[ $output != *"$token"* ]] || fail "the token is in a container's definition"
  # the token is in force: a wrong one is refused
  run env FRACTA_CP_TOKEN=wrong "$FRACTA_BIN/fracta" list
  [[ $status -ne 0 ]] || fail "a wrong token was accepted: $output"

  run --separate-stderr "$FRACTA_BIN/fracta" spawn hello --runtime shell \
    --contract 'echo from-the-container >hello.txt && git add hello.txt && git commit -qm "agent: hello"' \
    --wait --timeout 10m
  assert_status 0
  run --separate-stderr "$FRACTA_BIN/fracta" get hello
  assert_status 0
  assert_json '.agent.status == "Completed" and .agent.provider == "local" and (.agent.workspace | startswith("/project/"))'
  branch=$(jq -r .agent.branch <<<"$output")
  [[ -n $branch && $branch != null ]] || fail "no branch: $output"
  # the container's commit is on the host's branch
  run git log -1 --format=%s "$branch"
  assert_status 0
  assert_equal "$output" "agent: hello" "the agent's branch head"

  run --separate-stderr "$FRACTA_BIN/fracta" merge hello
  assert_status 0
  assert_equal "$(cat hello.txt)" "from-the-container" "main after the merge"
  git merge-base --is-ancestor "$branch" main || fail "$branch is not in main"

  # down keeping volumes, up again: the agent's row and its events are still there
  run compose down
  assert_status 0
  run compose up -d
  assert_status 0
  wait_for 120 cp_ready || fail "control plane not ready again: $(podman logs "${PROJECT}_controlplane_1" 2>&1 | tail -20)"
  run --separate-stderr "$FRACTA_BIN/fracta" get hello
  assert_status 0
  assert_json '.agent.status == "Completed" and .agent.branch == "'"$branch"'"'
  run --separate-stderr "$FRACTA_BIN/fracta" watch hello --after-seq 0
  assert_status 0
  [[ ${#lines[@]} -ge 2 && $output == *Completed* ]] || fail "the agent's events after up again: $output"

  run compose down -v
  assert_status 0
  # podman-compose 1.0 leaves the project's network behind: removed by name
  [[ $CLIENT != podman-compose ]] || podman network rm -f "${PROJECT}_default" >/dev/null
  run leftovers
  assert_status 0
  assert_equal "$output" "" "containers, networks or volumes left"
  PROJ_DIR=""
  # nor in any layer of the images that ran it
  no_token_in_images "$token"
}

# no_token_in_images TOKEN — no image's saved layers nor history hold TOKEN
no_token_in_images() {
  local tag image
  for tag in fracta fracta-control-plane fracta-gateway fracta-reaper fracta-init fracta-agent; do
    image=ghcr.io/fracta-dev/$tag:$VERSION
    podman save "$image" | grep -a -q -F -e "$1" && fail "$image: the token is in a layer"
    podman history --no-trunc --format '{{.CreatedBy}}' "$image" | grep -q -F -e "$1" && fail "$image: the token is in its history"
  done
  return 0
}

@test "podman-compose: the README's steps run a shell agent to Completed; its commit merges on the host; down leaves nothing" {
  CLIENT=podman-compose
  readme_flow
}

@test "Debian's docker-compose against podman's API socket: the same steps" {
  podman_api
  CLIENT=docker-compose
  readme_flow
}

@test "no secret in the images: no credential variable in their config or history" {
  local image tag
  for tag in fracta fracta-control-plane fracta-gateway fracta-reaper fracta-init fracta-agent; do
    image=ghcr.io/fracta-dev/$tag:$VERSION
    run podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image"
    assert_status 0
    if [[ $output =~ (TOKEN|PASSWORD|API_KEY|SECRET)= ]]; then fail "$image: a credential in its environment: $output"; fi
    run podman history --no-trunc --format '{{.CreatedBy}}' "$image"
    assert_status 0
    [[ -n $output ]] || fail "$image: no history"
    if [[ $output =~ (TOKEN|PASSWORD|API_KEY|SECRET|\.env) ]]; then fail "$image: a credential in its history: $output"; fi
  done
}
