# compose.bash — tests/compose's helpers: the project made by the README's
# steps, the compose client under test, the checks every suite there makes.
#
#   compose_setup / compose_teardown   a suite's setup and teardown: the
#                        images there, PROJECT (the compose project's name),
#                        CLIENT podman-compose; teardown removes what is left
#   compose ARGS…        the compose client ($CLIENT) on the project
#   podman_api           podman's API on a socket of the test's own
#                        (DOCKER_HOST for docker-compose)
#   leftovers            the project's containers, networks, volumes
#   container SERVICE    its container's name; logs_of SERVICE its last logs
#   new_repo             a git repository on main, the cwd; PROJ_DIR
#   scaffold             new_repo + fracta init --scaffold docker-compose;
#                        secrets_checked
#   readme_steps         new_repo + the README's docker-compose block, run
#                        as written; secrets_checked
#   secrets_checked      deployment/.env's secrets, in no configuration;
#                        TOKEN, PG_PASSWORD
#   up                   up -d, control plane answering, every health check
#   history_found TASK BRANCH  its row (Completed, BRANCH) and events are there
#   down_clean           down -v, nothing of the project left
#   shell_agent_merges   the README's shell agent, its commit merged; BRANCH
#   no_secret_in_images SECRET…  in no image's layers nor history
#
# shellcheck disable=SC2154  # status, output: set by bats' `run`

VERSION=0.1.0
IMAGES=(fracta fracta-control-plane fracta-gateway fracta-reaper fracta-init fracta-agent fracta-postgres)

compose_setup() {
  common_setup
  require_cmd podman podman-compose docker-compose git openssl jq
  export CONTAINERS_CONF=${CONTAINERS_CONF:-$FRACTA_SOURCE/compose/containers.conf}
  local tag
  for tag in "${IMAGES[@]}"; do
    podman image exists "ghcr.io/fracta-dev/$tag:$VERSION" || fail "no ghcr.io/fracta-dev/$tag:$VERSION: run 'make images' first"
  done
  PROJECT=fractatest$$
  SOCK_DIR=""
  CLIENT=podman-compose
}

compose_teardown() {
  if [[ -n ${PROJ_DIR:-} ]]; then
    (cd "$PROJ_DIR" && compose down -v >/dev/null 2>&1) || true
    podman network rm -f "${PROJECT}_default" >/dev/null 2>&1 || true
    podman volume rm -f "${PROJECT}_pgdata" >/dev/null 2>&1 || true
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

# container SERVICE — the name of the service's (one) container
container() { podman ps -a --filter "name=${PROJECT}_$1" --format '{{.Names}}' | head -1; }

logs_of() { podman logs "$(container "$1")" 2>&1 | tail -20; }

# new_repo — a throwaway git repository on main, the cwd; PROJ_DIR
new_repo() {
  port_taken 19090 && fail "127.0.0.1:19090 is in use: the scaffold publishes the control plane there"
  git_repo proj
  PROJ_DIR=$PWD/proj
  cd proj || return 1
}

# scaffold — new_repo, then fracta init --scaffold docker-compose, committed;
# its secrets checked (secrets_checked)
scaffold() {
  new_repo
  run --separate-stderr "$FRACTA_BIN/fracta" init --scaffold docker-compose --yes
  assert_status 0
  git add -A && git commit -qm scaffold
  secrets_checked
}

# readme_steps — new_repo, then the README's docker-compose block as written
# (bash -e, in the project, FRACTA_BIN on PATH), its podman-compose the
# client under test with the project's name (-p: the default, the compose
# file's directory, is `deployment` in every project); the block ends with
# `down`. Without a control plane the block's wait would never end: the
# ctest timeout bounds it. Then secrets_checked.
readme_steps() {
  new_repo
  local steps client
  steps=$(awk '/^### docker-compose$/ { on = 1 } on && /^```sh$/ { block = 1; next } block && /^```$/ { exit } block' \
    "$FRACTA_SOURCE/README.md")
  [[ $steps == *"fracta init --scaffold docker-compose"* && $steps == *"fracta spawn"* ]] ||
    fail "no docker-compose steps in the README: $steps"
  case $CLIENT in
    podman-compose) client="command podman-compose" ;;
    docker-compose) client="env DOCKER_HOST=unix://$SOCK_DIR/podman.sock docker-compose" ;;
  esac
  printf 'podman-compose() { %s -p %q "$@"; }\n%s\n' "$client" "$PROJECT" "$steps" >"$BATS_TEST_TMPDIR/readme.sh"
  run --separate-stderr env PATH="$FRACTA_BIN:$PATH" FRACTA_NO_AUTOSTART=1 bash -e -x "$BATS_TEST_TMPDIR/readme.sh"
  [[ $status -eq 0 ]] || fail "the README's steps: exit $status" "$stderr" "$(logs_of controlplane)"
  secrets_checked
}

# secrets_checked — fracta init wrote deployment/.env: a random token and
# Postgres password, the owner's ids, git-ignored; neither secret is in the
# configuration. TOKEN, PG_PASSWORD; FRACTA_CP_TOKEN exported
secrets_checked() {
  grep -qx 'deployment/.env' .gitignore || fail "deployment/.env is not ignored"
  TOKEN=$(sed -n 's/^FRACTA_CP_TOKEN=//p' deployment/.env)
  PG_PASSWORD=$(sed -n 's/^FRACTA_PG_PASSWORD=//p' deployment/.env)
  [[ ${#TOKEN} -ge 32 && ${#PG_PASSWORD} -ge 32 ]] || fail "no generated secrets in deployment/.env: $(grep -v TOKEN deployment/.env)"
  grep -qx "FRACTA_UID=$(id -u)" deployment/.env || fail "deployment/.env: FRACTA_UID is not $(id -u)"
  # the secrets reach the services as a compose secret only: not in the
  # configuration (podman-compose 1.0 has no `config`: docker-compose's, which
  # needs no engine) nor in the containers' definitions (checked after `up`)
  run --separate-stderr docker-compose -p "$PROJECT" -f deployment/docker-compose.yml config
  assert_status 0
  [[ $output == *fracta_env* ]] || fail "no fracta_env secret in the configuration: $output"
  [[ $output != *"$TOKEN"* && $output != *"$PG_PASSWORD"* ]] || fail "a secret is in 'docker-compose config': $output"
  export FRACTA_CP_TOKEN=$TOKEN FRACTA_NO_AUTOSTART=1
}

# up — `up -d`, then the control plane answers on the published port and
# every service's health check passes (run here: no systemd timer runs them)
up() {
  run compose up -d
  assert_status 0
  wait_for 120 cp_ready || fail "control plane not ready: $(logs_of controlplane)" "postgres: $(logs_of postgres)"
  local service
  for service in postgres controlplane gateway; do
    wait_for 60 podman healthcheck run "$(container "$service")" || fail "$service is not healthy: $(logs_of "$service")"
  done
}

# history_found TASK BRANCH — the ended agent's row (Completed, on BRANCH)
# and its events are in the control plane (a status, never a failure: the
# suite also shows it false)
history_found() {
  local got
  got=$("$FRACTA_BIN/fracta" get "$1" 2>/dev/null) || return 1
  jq -e --arg b "$2" '.agent.status == "Completed" and .agent.branch == $b' <<<"$got" >/dev/null || return 1
  got=$("$FRACTA_BIN/fracta" watch "$1" --after-seq 0 2>/dev/null) || return 1
  [[ $(wc -l <<<"$got") -ge 2 && $got == *Completed* ]]
}

# down_clean — `down -v`, then nothing of the project is in the engine
down_clean() {
  run compose down -v
  assert_status 0
  # podman-compose 1.0 leaves the project's network behind: removed by name
  [[ $CLIENT != podman-compose ]] || podman network rm -f "${PROJECT}_default" >/dev/null
  run leftovers
  assert_status 0
  assert_equal "$output" "" "containers, networks or volumes left"
  PROJ_DIR=""
}

# shell_agent_merges — the README's agent: commits in the container, its
# branch is on the host, merges. BRANCH
shell_agent_merges() {
  run --separate-stderr "$FRACTA_BIN/fracta" spawn hello --runtime shell \
    --contract 'echo from-the-container >hello.txt && git add hello.txt && git commit -qm "agent: hello"' \
    --wait --timeout 10m
  assert_status 0
  run --separate-stderr "$FRACTA_BIN/fracta" get hello
  assert_status 0
  assert_json '.agent.status == "Completed" and .agent.provider == "local" and (.agent.workspace | startswith("/project/"))'
  BRANCH=$(jq -r .agent.branch <<<"$output")
  [[ -n $BRANCH && $BRANCH != null ]] || fail "no branch: $output"
  # the container's commit is on the host's branch
  run git log -1 --format=%s "$BRANCH"
  assert_status 0
  assert_equal "$output" "agent: hello" "the agent's branch head"
  run --separate-stderr "$FRACTA_BIN/fracta" merge hello
  assert_status 0
  assert_equal "$(cat hello.txt)" "from-the-container" "main after the merge"
  git merge-base --is-ancestor "$BRANCH" main || fail "$BRANCH is not in main"
}

# no_secret_in_images SECRET… — no image's saved layers nor history hold one
no_secret_in_images() {
  local tag image s
  for tag in "${IMAGES[@]}"; do
    image=ghcr.io/fracta-dev/$tag:$VERSION
    for s in "$@"; do
      podman save "$image" | grep -a -q -F -e "$s" && fail "$image: a secret is in a layer"
      podman history --no-trunc --format '{{.CreatedBy}}' "$image" | grep -q -F -e "$s" && fail "$image: a secret is in its history"
    done
  done
  return 0
}
