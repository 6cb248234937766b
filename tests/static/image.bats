#!/usr/bin/env bats
# image.bats — the images of compose/Dockerfile, checked without a container
# engine (tests/compose builds and runs them): the stages are read from the Dockerfile and held against what
# `make static` built (build-static/bin, or FRACTA_STATIC_BIN) and against the
# commands manifests/ and compose/ run.
#
#   bats tests/static/image.bats       (part of make static-test)

bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
STATIC_BIN=${FRACTA_STATIC_BIN:-$REPO/build-static/bin}
DOCKERFILE=$REPO/compose/Dockerfile

setup() {
  [[ -d $STATIC_BIN ]] || { echo "no $STATIC_BIN: run 'make static' first"; return 1; }
  [[ -f $DOCKERFILE ]] || { echo "no $DOCKERFILE"; return 1; }
}

# stage NAME — the lines of one stage (FROM … AS NAME up to the next FROM)
stage() {
  awk -v want="$1" 'toupper($1) == "FROM" { on = (tolower($NF) == want) } on' "$DOCKERFILE"
}

# entrypoint NAME — the stage's ENTRYPOINT, one word per line
entrypoint() {
  stage "$1" | sed -n 's/^ENTRYPOINT //p' | jq -r '.[]'
}

@test "no stage starts from a registry's image by default, and nothing is downloaded or run" {
  run grep -E '^FROM ' "$DOCKERFILE"
  [[ -n $output ]] || { echo "no FROM"; false; }
  local bad
  bad=$(grep -E '^FROM ' "$DOCKERFILE" | grep -vE '^FROM (scratch|fracta|\$\{AGENT_BASE\}|\$\{PG_BASE\}) AS [a-z-]+$' || true)
  [[ -z $bad ]] || { echo "a registry base: $bad"; false; }
  # the build arg's default is mkbase's local image
  grep -qE '^ARG AGENT_BASE=localhost/fracta-base:' "$DOCKERFILE" || { echo "AGENT_BASE defaults to a registry"; false; }
  grep -qE '^ARG PG_BASE=localhost/fracta-postgres-base:' "$DOCKERFILE" || { echo "PG_BASE defaults to a registry"; false; }
  # no downloads of our own, and no RUN (the base is made outside, by mmdebstrap)
  run grep -nEi '(^|[^-])(curl|wget) |git clone|^ADD |^RUN ' "$DOCKERFILE"
  [[ $status -eq 1 ]] || { echo "downloads or RUN: $output"; false; }
}

# copied NAME — the binaries (bin/X) a stage copies, one per line, sorted
copied() { stage "$1" | sed -n 's/^COPY //p' | tr ' ' '\n' | sed -n 's|^bin/\(fracta[a-z0-9-]*\)$|\1|p' | sort; }

@test "the fracta image holds exactly the binaries make static builds, and CA certificates" {
  local built
  built=$(ls "$STATIC_BIN" | sort)
  [[ -n $built ]] || { echo "nothing in $STATIC_BIN"; false; }
  run copied fracta
  [[ $output == "$built" ]] || { diff <(echo "$built") <(echo "$output"); false; }
  stage fracta | grep -q '^COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt$' || { echo "no CA bundle"; false; }
  stage fracta | grep -q '^FROM scratch AS fracta$' || { echo "not a scratch image"; false; }
  stage fracta | grep -q '^USER 65532:65532$' || { echo "not non-root"; false; }
}

@test "each role's image is scratch with its one binary (<= 12 MB), whose entrypoint accepts its arguments" {
  local role words bin size
  for role in control-plane gateway reaper init; do
    mapfile -t words < <(entrypoint "$role")
    ((${#words[@]} > 0)) || { echo "$role: no ENTRYPOINT"; false; }
    bin=${words[0]##*/}
    [[ -x $STATIC_BIN/$bin ]] || { echo "$role: $bin is not built"; false; }
    stage "$role" | grep -q "^FROM scratch AS $role$" || { echo "$role: not a scratch image"; false; }
    run copied "$role"
    [[ $output == "$bin" ]] || { echo "$role: copies '$output', not only $bin"; false; }
    size=$(stat -c %s "$STATIC_BIN/$bin")
    ((size <= 12 * 1024 * 1024)) || { echo "$role: $bin is $size bytes, over 12 MB"; false; }
    # the role's own arguments, then --help: parsed and accepted
    run "$STATIC_BIN/$bin" "${words[@]:1}" --help
    [[ $status -eq 0 && $output == usage:* ]] || { echo "$role: ${words[*]} --help: $status $output"; false; }
  done
}

@test "the agent image carries every binary, git, Node and the agent CLIs" {
  run stage agent
  [[ $output == *"COPY bin/ /usr/local/bin/"* ]] || { echo "$output"; false; }
  [[ $output == *"COPY agent-cli/ /opt/fracta/agent-cli/"* ]] || { echo "$output"; false; }
  [[ $output == *"USER 65532:65532"* ]] || { echo "agent image runs as root"; false; }
  local pkgs
  pkgs=$(sed -n 's/^packages=//p' "$REPO/compose/images/mkbase")
  [[ ,$pkgs, == *,git,* && ,$pkgs, == *,nodejs,* ]] || { echo "the base lacks git or nodejs: $pkgs"; false; }
  for pkg in @anthropic-ai/claude-code @openai/codex opencode-ai; do
    grep -q " $pkg " "$REPO/compose/images/build" || { echo "the agent image lacks $pkg"; false; }
  done
}

@test "every fracta container of manifests/ and compose/ runs a binary the image ships" {
  command -v kubectl >/dev/null || { echo "kubectl is needed (make deps)"; false; }
  local cmds bad=0 c
  cmds=$(kubectl kustomize "$REPO/manifests" | node "$REPO/tests/k8s/validate.mjs" --json - |
    jq -r '.[] | .. | objects | select(has("image") and (.image | test("fracta"))) | (.command // .args // [""])[0]')
  [[ -n $cmds ]] || { echo "no fracta containers in manifests/"; false; }
  for c in $cmds; do
    [[ -x $STATIC_BIN/${c##*/} ]] || { echo "manifests run '$c', which make static does not build"; bad=1; }
  done
  # compose: every command and health check that starts with a fracta binary
  cmds=$(grep -oE '\[ *"(/usr/local/bin/)?fracta[a-z-]*"' "$REPO/compose/docker-compose.yml" | grep -oE 'fracta[a-z-]*' | sort -u)
  [[ -n $cmds ]] || { echo "no fracta commands in compose/docker-compose.yml"; false; }
  for c in $cmds; do
    [[ -x $STATIC_BIN/$c ]] || { echo "compose runs '$c', which make static does not build"; bad=1; }
  done
  ((bad == 0))
}
