#!/usr/bin/env bats
# fracta-init (spec/init-and-reap.md): each mode's files in a fresh git
# repository, skip on rerun, one mode per project, --force/--yes, local mode
# outside git, every fracta.yaml written loading without warnings or errors, the k8s
# tree rendered by the real kubectl kustomize and validated against the
# Kubernetes OpenAPI schemas, the compose file checked by docker-compose.

# shellcheck disable=SC2154  # status, output, stderr: set by bats' `run`
load ../lib/common

setup() {
  common_setup
  require_cmd git kubectl node docker-compose
  INIT="$FRACTA_BIN/fracta-init"
  VALIDATE="$FRACTA_SOURCE/tests/k8s/validate.mjs"
  git init -q proj
  cd proj || return 1
}

teardown() {
  common_teardown
}

LOCAL_FILES='[".fracta/logs/",".gitignore","deployment/auth-helpers/README.md","fracta.yaml"]'
COMPOSE_FILES='[".fracta/logs/",".gitignore","deployment/.env","deployment/auth-helpers/README.md","deployment/auth-helpers/fetch-token-example","deployment/configs/gateway.yaml","deployment/docker-compose.yml","fracta.yaml"]'
K8S_FILES='[".gitignore","deployment/auth-helpers/README.md","deployment/auth-helpers/fetch-token-example","deployment/k8s/manifests/components/network-policy/kustomization.yaml","deployment/k8s/manifests/components/network-policy/network-policy.yaml","deployment/k8s/manifests/config/control-plane.yaml","deployment/k8s/manifests/config/gateway.yaml","deployment/k8s/manifests/control-plane.yaml","deployment/k8s/manifests/gateway.yaml","deployment/k8s/manifests/kustomization.yaml","deployment/k8s/manifests/namespace.yaml","deployment/k8s/manifests/postgres.yaml","deployment/k8s/manifests/rbac.yaml","deployment/k8s/manifests/reaper.yaml","deployment/k8s/manifests/secrets/control-plane.env","deployment/k8s/manifests/secrets/postgres.env","fracta.yaml"]'

# tree_sum — a checksum of every path, mode and content in the project
# (outside .git), to show that a refused run changed nothing.
tree_sum() {
  find . -path ./.git -prune -o -printf '%p %m\n' | LC_ALL=C sort
  find . -path ./.git -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
}

# files_on_disk — what the project holds besides .git, as the JSON list the
# report uses (directories that hold nothing else end in /).
files_on_disk() {
  { find . -path ./.git -prune -o -type f -printf '%P\n'; find . -path ./.git -prune -o -type d -empty -printf '%P/\n'; } |
    LC_ALL=C sort | jq -R . | jq -sc .
}

# scaffold_json MODE EXPECTED — a first run writes exactly EXPECTED and skips nothing.
scaffold_json() {
  run --separate-stderr "$INIT" --scaffold "$1" --format json
  assert_status 0 || return 1
  assert_equal "$(jq -c '.written | sort' <<<"$output")" "$2" "written" || return 1
  assert_json ".mode == \"$1\" and .skipped == []" || return 1
  assert_equal "$(files_on_disk)" "$2" "files on disk"
}

@test "local: a fresh repository gets exactly the spec's files; a rerun skips them all" {
  scaffold_json local "$LOCAL_FILES"
  [[ -d .fracta/logs ]]
  assert_equal "$(grep -cx '.fracta/' .gitignore)" 1 ".fracta/ entries"
  assert_equal "$(grep -cx '.worktrees/' .gitignore)" 1 ".worktrees/ entries"
  before=$(tree_sum)
  run --separate-stderr "$INIT" --scaffold local --format json
  assert_status 0
  assert_json '.written == []'
  assert_equal "$(jq -c '.skipped | sort' <<<"$output")" "$LOCAL_FILES" "skipped"
  assert_equal "$(tree_sum)" "$before" "tree after rerun"
}

@test "local: .gitignore entries are appended once to an existing file" {
  printf 'node_modules/\n.worktrees/' >.gitignore
  run --separate-stderr "$INIT" --scaffold local --format json
  assert_status 0
  assert_equal "$(cat .gitignore)" $'node_modules/\n.worktrees/\n.fracta/' ".gitignore"
}

@test "docker-compose: exactly the spec's files, the helper 0755, a rerun skips" {
  scaffold_json docker-compose "$COMPOSE_FILES"
  assert_equal "$(stat -c %a deployment/auth-helpers/fetch-token-example)" 755 "helper mode"
  assert_equal "$(cat .gitignore)" $'.fracta/\n.worktrees/\ndeployment/.env' ".gitignore"
  run --separate-stderr "$INIT" --scaffold docker-compose --format json
  assert_status 0
  assert_json '.written == [] and (.skipped | length) == 8'
}

@test "k8s: exactly the spec's files, a rerun skips, text output counts" {
  scaffold_json k8s "$K8S_FILES"
  assert_equal "$(stat -c %a deployment/auth-helpers/fetch-token-example)" 755 "helper mode"
  run --separate-stderr "$INIT" --scaffold k8s
  assert_status 0
  assert_equal "${lines[0]}" "fracta initialized (k8s): 0 written, 17 skipped" "summary"
  assert_equal "${#lines[@]}" 19 "summary, one line per path, how to rotate"
  [[ ${lines[18]} == "To rotate a secret: empty its value in its file, run fracta init --scaffold k8s again"* ]] ||
    fail "no rotation hint: ${lines[18]}"
}

@test "another mode exits 1 with the exact message and the two ways out, changing nothing" {
  for pair in "local k8s" "k8s local" "docker-compose k8s" "k8s docker-compose" "local docker-compose"; do
    read -r old new <<<"$pair"
    rm -rf deployment fracta.yaml .fracta .gitignore
    run --separate-stderr "$INIT" --scaffold "$old" --format json
    assert_status 0
    before=$(tree_sum)
    run --separate-stderr "$INIT" --scaffold "$new" --force --yes
    assert_status 1
    assert_equal "$output" "" "stdout"
    assert_equal "$(sed -n 1p <<<"$stderr")" "fracta-init: error: this project is already scaffolded as $old; cannot re-init as $new without losing customizations." "message"
    grep -qF "rm -rf deployment/ fracta.yaml .fracta/ && fracta-init --scaffold $new" <<<"$stderr"
    grep -qF "fracta-init --scaffold $old" <<<"$(sed -n 3p <<<"$stderr")"
    assert_equal "$(tree_sum)" "$before" "tree after refusal"
  done
}

@test "fracta.yaml with runtime.backend kubernetes is detected as k8s" {
  printf 'runtime:\n  backend: kubernetes\n' >fracta.yaml
  run --separate-stderr "$INIT" --scaffold local
  assert_status 1
  [[ $stderr == *"already scaffolded as k8s; cannot re-init as local"* ]]
}

@test "--force --yes rewrites; --force without --yes and no terminal refuses" {
  run --separate-stderr "$INIT" --scaffold k8s --format json
  assert_status 0
  echo '# mine' >fracta.yaml
  before=$(tree_sum)
  run --separate-stderr "$INIT" --scaffold k8s --force </dev/null
  assert_status 100
  [[ $stderr == *"confirm with --yes"* ]]
  assert_equal "$(tree_sum)" "$before" "tree after refusal"
  run --separate-stderr "$INIT" --scaffold k8s --force --yes --format json
  assert_status 0
  # every file but the secret ones, which --force never overwrites
  assert_json '(.written | length) == 14 and (.skipped | sort) == [".gitignore","deployment/k8s/manifests/secrets/control-plane.env","deployment/k8s/manifests/secrets/postgres.env"]'
  assert_equal "$(tree_sum | grep 'secrets/')" "$(grep 'secrets/' <<<"$before")" "the secret files"
  cmp fracta.yaml "$FRACTA_SOURCE/scaffolds/k8s/fracta.yaml"
}

@test "local mode outside a git repository exits 100; unknown mode exits 100 with the exact text" {
  mkdir "$BATS_TEST_TMPDIR/nogit"
  run --separate-stderr "$INIT" --scaffold local --dir "$BATS_TEST_TMPDIR/nogit"
  assert_status 100
  [[ $stderr == "fracta-init: error: local mode needs a git repository"* ]]
  assert_equal "$(find "$BATS_TEST_TMPDIR/nogit" -mindepth 1 | wc -l)" 0 "files written"
  run --separate-stderr "$INIT" --scaffold x
  assert_status 100
  assert_equal "$stderr" 'fracta-init: error: unknown scaffold "x"; valid: local, docker-compose, k8s'
  assert_equal "$output" "" "stdout"
}

# warnings_of FILE [project] — what goes wrong when FILE is loaded by fracta
# (front door), fracta-events and fracta-reap (project files only: the
# servers' configs name a Postgres that is not there), fracta-gw serve and
# fracta-cp run (each up to ready or exit), one line each: every warning
# (with the file it went to, which names the binary), and every exit that
# is not explained by what this machine lacks — no control plane listening
# at the configured URL, no Kubernetes configuration, a store host
# (postgres, fracta-postgres) that does not resolve.
warnings_of() {
  local f=$1 out=$BATS_TEST_TMPDIR/cfg$RANDOM rc
  rc=0
  "$FRACTA_BIN/fracta" --config "$f" status >/dev/null 2>"$out.front" || rc=$?
  [[ $rc == 0 || ($rc == 111 && $(<"$out.front") == *"the control plane is not answering"*) ]] ||
    echo "front: exit $rc: $(<"$out.front")"
  grep -H -i 'warn' "$out.front" || (($? == 1))
  if [[ ${2:-} == project ]]; then
    rc=0
    FRACTA_CONFIG=$f "$FRACTA_BIN/fracta-events" latest-seq >/dev/null 2>"$out.events" || rc=$?
    # docker-compose's store is the compose service postgres, a name only
    # its network resolves: read, then not reached, like fracta-cp below
    [[ $rc == 0 || ($rc == 111 && $(<"$out.events") == *"error: resolve "*": Domain name not found"*) ]] ||
      echo "events: exit $rc: $(<"$out.events")"
    grep -H -i 'warn' "$out.events" || (($? == 1))
    rc=0
    "$FRACTA_BIN/fracta-reap" --config "$f" --dry-run >/dev/null 2>"$out.reap" || rc=$?
    [[ $rc == 0 || ($rc == 100 && $(<"$out.reap") == *"error: no Kubernetes configuration"*) ||
      ($rc == 111 && $(<"$out.reap") == *"error: resolve "*": Domain name not found"*) ]] ||
      echo "reap: exit $rc: $(<"$out.reap")"
    grep -H -i 'warn' "$out.reap" || (($? == 1))
  fi
  local bin
  for bin in gw cp; do
    local op=serve extra=()
    [[ $bin == cp ]] && op=run extra=(--workers 0)
    start_bg "$FRACTA_BIN/fracta-$bin" --config "$f" "$op" --listen 127.0.0.1:0 "${extra[@]}" --ready-fd 4 \
      4>"$out.$bin.ready" 2>"$out.$bin" </dev/null
    local pid=$BG_PID
    wait_for 20 settled "$out.$bin.ready" "$pid" >&2
    rc=0
    if grep -q '^ready ' "$out.$bin.ready"; then
      kill "$pid"
      wait "$pid" || rc=$?
      [[ $rc == 0 ]] || echo "$bin: exit $rc after SIGTERM: $(<"$out.$bin")"
    else
      wait "$pid" || rc=$?
      [[ $rc == 111 && $(<"$out.$bin") == *"open store: resolve "*": Domain name not found"* ]] ||
        echo "$bin: exit $rc before ready: $(<"$out.$bin")"
    fi
    grep -H -E ' warn(ing)?: |"level":"warn' "$out.$bin" || (($? == 1))
  done
}

settled() { has_lines "$1" 1 || process_gone "$2"; }

# reported_by_each YAML PATTERN — with YAML as the project's fracta.yaml,
# warnings_of has a line matching PATTERN (WHO stands for the binary) for
# each binary it checks
reported_by_each() {
  printf '%s' "$1" >fracta.yaml
  mkdir .fracta
  local out who
  out=$(warnings_of "$PWD/fracta.yaml" project)
  for who in front events reap gw cp; do
    grep -q "${2//WHO/$who}" <<<"$out" || fail "$who: nothing matches ${2//WHO/$who} in: $out"
  done
}

@test "the warning check can fail: an unknown key is reported by each binary checked" {
  reported_by_each $'bogus: 1\nlogging:\n  level: info\n' '\.WHO:.*warn.*unknown key "bogus"'
}

@test "the check can fail: a file a binary refuses is reported by each binary checked" {
  reported_by_each $'logging:\n  level: loud\n' '^WHO: exit 100.*logging.level: must be one of'
}

@test "every fracta.yaml written loads without warnings or errors" {
  for mode in local docker-compose k8s; do
    rm -rf deployment fracta.yaml .fracta .gitignore
    run --separate-stderr "$INIT" --scaffold "$mode" --format json
    assert_status 0
    configs=(fracta.yaml)
    [[ $mode == docker-compose ]] && configs+=(deployment/configs/gateway.yaml)
    [[ $mode == k8s ]] && configs+=(deployment/k8s/manifests/config/control-plane.yaml deployment/k8s/manifests/config/gateway.yaml)
    for c in "${configs[@]}"; do
      kind=server
      [[ $c == fracta.yaml ]] && kind=project
      out=$(POSTGRES_PASSWORD=x warnings_of "$PWD/$c" "$kind")
      assert_equal "$out" "" "warnings for $mode $c"
    done
  done
}

@test "k8s: kubectl kustomize renders the tree and every object validates" {
  run --separate-stderr "$INIT" --scaffold k8s --format json
  assert_status 0
  run --separate-stderr kubectl kustomize deployment/k8s/manifests
  assert_status 0
  printf '%s\n' "$output" >rendered.yaml
  run --separate-stderr node "$VALIDATE" --json rendered.yaml
  assert_status 0
  assert_json '[.[] | select(.kind != "Namespace") | .metadata.namespace] | unique == ["fracta"]'
}

@test "CI run: --namespace and --image reach every rendered object; one JSON object on stdout" {
  run --separate-stderr "$INIT" --scaffold k8s --namespace team-a --image registry.example/fracta:1.2.3 --format json
  assert_status 0
  assert_equal "$(jq -s 'length' <<<"$output")" 1 "JSON values on stdout"
  assert_json '.mode == "k8s" and (.written | length) == 17'
  run --separate-stderr kubectl kustomize deployment/k8s/manifests
  assert_status 0
  printf '%s\n' "$output" >rendered.yaml
  run --separate-stderr node "$VALIDATE" --json rendered.yaml
  assert_status 0
  objects=$output
  assert_json '[.[] | select(.kind != "Namespace") | .metadata.namespace] | unique == ["team-a"]' "$objects"
  assert_json '[.[] | select(.kind == "Namespace") | .metadata.name] == ["team-a"]' "$objects"
  assert_json '[.[] | .. | objects | select(has("containers")) | .containers[] | .image | select(startswith("postgres:") | not)] | (length > 0) and (unique == ["registry.example/fracta:1.2.3"])' "$objects"
  grep -q 'fracta-cp.team-a.svc' deployment/k8s/manifests/config/control-plane.yaml
  run grep -rl 'fracta-[a-z]*\.fracta\.svc' deployment/k8s/manifests
  assert_status 1
}

@test "docker-compose: docker-compose config accepts the file; the ids come from deployment/.env, the token never shows" {
  run --separate-stderr "$INIT" --scaffold docker-compose --image registry.example/fracta:1.2.3 --format json
  assert_status 0
  token=$(sed -n 's/^FRACTA_CP_TOKEN=//p' deployment/.env)
  [[ ${#token} -ge 32 ]] || fail "no token in deployment/.env"
  FRACTA_UID=1000 FRACTA_GID=1000 run --separate-stderr docker-compose -f deployment/docker-compose.yml config
  assert_status 0
  [[ $output == *"image: registry.example/fracta:1.2.3"* ]]
  [[ $output == *"user: 1000:1000"* ]]
  run --separate-stderr env -u FRACTA_CP_TOKEN -u FRACTA_UID -u FRACTA_GID docker-compose -f deployment/docker-compose.yml config
  assert_status 0
  [[ $output == *"user: $(id -u):$(id -g)"* ]] || fail "deployment/.env's values are not in force: $output"
  [[ $output == *"file: $PWD/deployment/.env"* ]] || fail "deployment/.env is not the secret: $output"
  [[ $output != *"$token"* ]] || fail "the token is in docker-compose config's output: $output"
  mv deployment/.env env.saved
  run --separate-stderr env -u FRACTA_UID FRACTA_GID=1000 docker-compose -f deployment/docker-compose.yml config
  [[ $status -ne 0 ]]
  [[ $stderr == *"FRACTA_UID"* ]]
}

# secret_values — every KEY=VALUE line of the scaffold's secret files
secret_values() {
  local f
  for f in deployment/.env deployment/k8s/manifests/secrets/*.env; do
    [[ -f $f ]] && grep -H -v '^#' "$f"
  done
  return 0
}

@test "secrets: random, different per repository, kept by a rerun, git-ignored; no placeholder anywhere" {
  local mode first second
  for mode in k8s docker-compose; do
    local values=()
    for repo in a b; do
      git init -q "$BATS_TEST_TMPDIR/$mode-$repo"
      cd "$BATS_TEST_TMPDIR/$mode-$repo"
      run --separate-stderr "$INIT" --scaffold "$mode" --format json
      assert_status 0
      assert_json '.secrets | length > 0'
      first=$(secret_values)
      run --separate-stderr "$INIT" --scaffold "$mode" --format json
      assert_status 0
      assert_json '.secrets == []'
      second=$(secret_values)
      assert_equal "$second" "$first" "$mode: the secrets after a rerun"
      # every generated value: 43 characters of base64url, 0600, ignored by git
      while IFS= read -r line; do
        [[ $line =~ _(TOKEN|PASSWORD)=([A-Za-z0-9_-]{43})$ ]] || fail "$mode: not a random value: $line"
        values+=("${BASH_REMATCH[2]}")
        file=${line%%:*}
        assert_equal "$(stat -c %a "$file")" 600 "$file mode"
        git status --ignored --porcelain | grep -qx "!! $(dirname "$file")/\|!! $file" ||
          fail "$mode: $file is not ignored: $(git status --ignored --porcelain)"
      done < <(grep -E '_(TOKEN|PASSWORD)=' <<<"$first")
      git status --porcelain --untracked-files=all | grep -q '\.env$' && fail "$mode: a secret file shows as untracked"
      run grep -r -i -E 'change-?me|placeholder' .
      assert_status 1
    done
    ((${#values[@]} >= 2)) || fail "$mode: only ${#values[@]} secrets"
    assert_equal "$(printf '%s\n' "${values[@]}" | sort -u | wc -l)" "${#values[@]}" "$mode: distinct secrets across repositories"
  done
}

@test "--print equals what the scaffold wrote" {
  run --separate-stderr "$INIT" --scaffold k8s --namespace team-b --image r.example/f:2 --format json
  assert_status 0
  expected=""
  while IFS= read -r f; do
    [[ -n $expected ]] && expected+=$'---\n'
    expected+="# Source: $f"$'\n'"$(cat "$f")"$'\n'
  done < <(jq -r '.written[] | select(startswith("deployment/k8s/manifests/") and (endswith(".yaml") or endswith(".yml")))' <<<"$output")
  run --separate-stderr "$INIT" --print k8s --namespace team-b --image r.example/f:2
  assert_status 0
  assert_equal "$output"$'\n' "$expected" "--print k8s"
  mkdir ../c && cd ../c && git init -q .
  run --separate-stderr "$INIT" --scaffold docker-compose --format json
  assert_status 0
  run --separate-stderr "$INIT" --print docker-compose
  assert_status 0
  assert_equal "$output" "$(cat deployment/docker-compose.yml)" "--print docker-compose"
}

@test "--source uses a directory of the same shape" {
  cp -r "$FRACTA_SOURCE/scaffolds" "$FRACTA_SOURCE/manifests" "$FRACTA_SOURCE/compose" "$BATS_TEST_TMPDIR/"
  echo '# ours' >>"$BATS_TEST_TMPDIR/scaffolds/local/fracta.yaml"
  run --separate-stderr "$INIT" --scaffold local --source "$BATS_TEST_TMPDIR" --format json
  assert_status 0
  branch=$(git symbolic-ref --short HEAD)
  sed "s|^  default_base_branch: main\$|  default_base_branch: $branch|" "$BATS_TEST_TMPDIR/scaffolds/local/fracta.yaml" >expected.yaml
  cmp fracta.yaml expected.yaml
}

@test "local: default_base_branch is the repository's current branch (master, trunk), empty with HEAD detached" {
  git checkout -q -b master 2>/dev/null || git checkout -q master
  run --separate-stderr "$INIT" --scaffold local
  assert_status 0
  assert_equal "$(grep default_base_branch fracta.yaml)" "  default_base_branch: master" "on master"
  mkdir ../trunk && cd ../trunk && git init -q -b trunk .
  run --separate-stderr "$INIT" --scaffold local
  assert_status 0
  assert_equal "$(grep default_base_branch fracta.yaml)" "  default_base_branch: trunk" "on trunk"
  mkdir ../odd && cd ../odd && git init -q -b 'wip#1' .
  run --separate-stderr "$INIT" --scaffold local
  assert_status 0
  assert_equal "$(grep default_base_branch fracta.yaml)" '  default_base_branch: "wip#1"' "quoted"
  mkdir ../detached && cd ../detached && git init -q . && git -c user.name=t -c user.email=t@t commit -q --allow-empty -m one
  git checkout -q --detach
  run --separate-stderr "$INIT" --scaffold local
  assert_status 0
  assert_equal "$(grep default_base_branch fracta.yaml)" '  default_base_branch: ""' "detached"
}
