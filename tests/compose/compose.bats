#!/usr/bin/env bats
# docker-compose mode with a real container engine: rootful podman (runc,
# compose/containers.conf) and podman-compose, on the images `make images`
# built. The README's docker-compose steps, in a throwaway repository:
# `fracta init --scaffold docker-compose`, deployment/.env, `up` (control
# plane, gateway, Postgres); a shell agent commits inside the control plane's
# container, its branch is seen on the host and merged; `down` keeping the
# volumes, `up`: the agent's history is in Postgres still (and, `down -v`
# then `up`, it is not: the check can fail); nothing the test made is left
# behind. Once with podman-compose, once with Debian's docker-compose 1.29
# against `podman system service` (a socket of the test's own). Then a real
# Claude Code agent against the scripted model server (run inside the control
# plane's container, on its loopback), and a restart of the control plane's
# container with an agent running.
#
# ctest label `compose` (not in `make test`): `make compose-test`, which
# .ci/run runs when `podman info` works. The published ports are the
# scaffold's own (127.0.0.1:19090 and :18080); the containers talk on the
# compose project's network, which the test creates and removes.

load ../lib/common
load compose

setup() { compose_setup; }
teardown() { compose_teardown; }

# readme_flow — the README's steps with one compose client (they end with
# `down`, keeping the volumes): the agent's commit merged on the host; `up`
# again: the history is there, every service healthy, no secret in a
# container's definition
readme_flow() {
  readme_steps
  run git log -1 --format=%s feature/hello
  assert_status 0
  assert_equal "$output" "hello" "the agent's branch head"
  git merge-base --is-ancestor feature/hello main || fail "feature/hello is not merged into main"
  [[ -s hello.txt ]] || fail "no hello.txt on main after the merge"
  [[ -n $(podman volume ls -q --filter "name=${PROJECT}_pgdata") ]] || fail "down removed the volume pgdata"
  [[ ! -e .fracta/state.db ]] || fail "the control plane keeps its state in .fracta/state.db"
  BRANCH=feature/hello

  up
  history_found hello "$BRANCH" || fail "the agent's history is gone after down and up: $("$FRACTA_BIN/fracta" list 2>&1)"
  run podman container inspect $(podman ps -a --format '{{.Names}}' --filter "name=${PROJECT}_")
  assert_status 0
  [[ $output == *fracta_env* ]] || fail "no container mounts the secret: $output"
  [[ $output != *"$TOKEN"* && $output != *"$PG_PASSWORD"* ]] || fail "a secret is in a container's definition"
  # nor in a log line (fracta-cp names its store without the dsn's password)
  podman logs "$(container controlplane)" 2>&1 | grep -q -F -e "$PG_PASSWORD" && fail "Postgres's password is in the control plane's log"
  # the token is in force: a wrong one is refused
  run env FRACTA_CP_TOKEN=wrong "$FRACTA_BIN/fracta" list
  [[ $status -ne 0 ]] || fail "a wrong token was accepted: $output"
}

@test "podman-compose: the README's steps, as written, run a shell agent to Completed; its commit merges on the host; history outlives down; down -v leaves nothing" {
  readme_flow
  # the check above can fail: with the volume gone, the history is gone
  run compose down -v
  assert_status 0
  up
  if history_found hello "$BRANCH"; then fail "history found after down -v: the persistence check cannot fail"; fi
  down_clean
  no_secret_in_images "$TOKEN" "$PG_PASSWORD"
}

@test "Debian's docker-compose against podman's API socket: the same steps" {
  podman_api
  CLIENT=docker-compose
  readme_flow
  down_clean
}

@test "no secret in the images: no credential variable in their config or history" {
  local image tag
  for tag in "${IMAGES[@]}"; do
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
