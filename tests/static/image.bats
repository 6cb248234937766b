#!/usr/bin/env bats
# image.bats — the images of compose/Dockerfile, checked without a Docker
# engine: the stages are read from the Dockerfile and held against what
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

@test "the build stage uses only the repository's scripts and the package registries" {
  run stage build
  [[ $output == *".ci/deps"* && $output == *"make static"* ]] || { echo "$output"; false; }
  # no downloads of our own: no curl, wget, git clone or ADD of a URL anywhere
  run grep -nEi '(^|[^-])(curl|wget) |git clone|^ADD +https?:' "$DOCKERFILE"
  [[ $status -eq 1 ]] || { echo "downloads: $output"; false; }
}

@test "the fracta image holds exactly the binaries make static builds, and CA certificates" {
  local built copied
  built=$(ls "$STATIC_BIN" | sort)
  copied=$(stage fracta | sed -n 's|^COPY --from=build /src/build-static/bin/\([^ ]*\) /usr/local/bin/\1$|\1|p' | sort)
  [[ -n $built ]] || { echo "nothing in $STATIC_BIN"; false; }
  [[ $copied == "$built" ]] || { diff <(echo "$built") <(echo "$copied"); false; }
  stage fracta | grep -q '^COPY --from=build /etc/ssl/certs/ca-certificates.crt ' || { echo "no CA bundle"; false; }
  stage fracta | grep -q '^FROM scratch AS fracta$' || { echo "not a scratch image"; false; }
  stage fracta | grep -q '^USER 65532:65532$' || { echo "not non-root"; false; }
}

@test "each role's entrypoint is a shipped binary that accepts its arguments" {
  local role words bin
  for role in control-plane gateway reaper init; do
    mapfile -t words < <(entrypoint "$role")
    ((${#words[@]} > 0)) || { echo "$role: no ENTRYPOINT"; false; }
    bin=${words[0]##*/}
    [[ -x $STATIC_BIN/$bin ]] || { echo "$role: $bin is not built"; false; }
    stage "$role" | grep -q "^FROM fracta AS $role$" || { echo "$role: not built on the fracta image"; false; }
    # the role's own arguments, then --help: parsed and accepted
    run "$STATIC_BIN/$bin" "${words[@]:1}" --help
    [[ $status -eq 0 && $output == usage:* ]] || { echo "$role: ${words[*]} --help: $status $output"; false; }
  done
}

@test "the agent image carries the supervisor, git and the agent CLIs" {
  run stage agent
  [[ $output == *"COPY --from=build /src/build-static/bin/fracta-spawn-local /usr/local/bin/fracta-spawn-local"* ]] ||
    { echo "$output"; false; }
  for pkg in git @anthropic-ai/claude-code @openai/codex opencode-ai; do
    [[ $output == *" $pkg"* ]] || { echo "agent image lacks $pkg"; false; }
  done
  [[ $output == *"USER 65532:65532"* ]] || { echo "agent image runs as root"; false; }
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
