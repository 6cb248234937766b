#!/usr/bin/env bats
# The docker-compose deployment (compose/, what `fracta-init --scaffold
# docker-compose` writes): docker-compose itself accepts the file and finds
# every config it mounts, and those configs load in the binaries that mount
# them — fracta-gw serve comes up on the gateway's, fracta-cp run on the
# control plane's against a real Postgres (only the DSN's host changed; the
# user, database and ${POSTGRES_PASSWORD} expansion kept), its token in force.

load ../lib/common

setup() {
  common_setup
  require_cmd docker-compose curl psql node
  COMPOSE="$FRACTA_SOURCE/compose"
}
teardown() { common_teardown; }

@test "docker-compose config accepts compose/docker-compose.yml; every file it mounts exists; the secrets are required" {
  POSTGRES_PASSWORD=pw FRACTA_CP_TOKEN=tok run --separate-stderr docker-compose -f "$COMPOSE/docker-compose.yml" config
  assert_status 0
  run yaml_to_json <<<"$output"
  assert_status 0
  assert_json '.services | keys == ["controlplane", "gateway", "postgres"]'
  assert_json '[.services.controlplane, .services.gateway] | map(.image) | unique == ["ghcr.io/fracta-dev/fracta:0.1.0"]'
  assert_json '.services.controlplane.environment.POSTGRES_PASSWORD == "pw" and .services.gateway.environment.FRACTA_CP_TOKEN == "tok"'
  # the configs bound in from the host (sources that are paths)
  local binds
  binds=$(jq -r '.services[].volumes[]? | split(":")[0] | select(startswith("/"))' <<<"$output")
  assert_equal "$binds" "$COMPOSE/configs/controlplane.yaml"$'\n'"$COMPOSE/configs/gateway.yaml" "bind mounts"
  local f
  for f in $binds; do
    [[ -f $f ]] || fail "a mounted config does not exist: $f"
  done
  run --separate-stderr env -u POSTGRES_PASSWORD -u FRACTA_CP_TOKEN docker-compose -f "$COMPOSE/docker-compose.yml" config
  [[ $status -ne 0 ]] || fail "accepted without the secrets"
  [[ $stderr == *"set POSTGRES_PASSWORD"* ]] || fail "unclear: $stderr"
}

@test "fracta-init --scaffold docker-compose writes the same deployment" {
  git init -q proj
  cd proj
  run --separate-stderr "$FRACTA_BIN/fracta-init" --scaffold docker-compose --format json
  assert_status 0
  cmp deployment/docker-compose.yml "$COMPOSE/docker-compose.yml"
  cmp deployment/configs/controlplane.yaml "$COMPOSE/configs/controlplane.yaml"
  cmp deployment/configs/gateway.yaml "$COMPOSE/configs/gateway.yaml"
}

# yaml_to_json — stdin's YAML as JSON (the yaml package tests/package.json pins)
yaml_to_json() {
  node -e 'const Y = require(process.argv[1]); let s = "";
    process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.stringify(Y.parse(s))));' \
    "$FRACTA_SOURCE/tests/node_modules/yaml"
}

# ready_line FILE — what --ready-fd wrote
ready_line() { has_lines "$1" 1; }

@test "the compose configs load: fracta-gw serve on the gateway's, fracta-cp run on the control plane's" {
  export FRACTA_CP_TOKEN=compose-test-token
  start_bg "$FRACTA_BIN/fracta-gw" serve --config "$COMPOSE/configs/gateway.yaml" --listen 127.0.0.1:0 --ready-fd 4 \
    4>"$BATS_TEST_TMPDIR/gw.ready" 2>"$BATS_TEST_TMPDIR/gw.err" </dev/null
  local gw=$BG_PID
  wait_for 30 settled "$BATS_TEST_TMPDIR/gw.ready" "$gw"
  ready_line "$BATS_TEST_TMPDIR/gw.ready" || fail "fracta-gw did not come up: $(cat "$BATS_TEST_TMPDIR/gw.err")"
  grep -qiE 'warn|error' "$BATS_TEST_TMPDIR/gw.err" && fail "fracta-gw complained: $(cat "$BATS_TEST_TMPDIR/gw.err")"

  # the control plane's config with only the DSN's host part pointed at the
  # test's Postgres; the password still comes from ${POSTGRES_PASSWORD}
  use_store postgres
  psql "$FRACTA_TEST_PG_URL" -qAt -v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$ BEGIN CREATE ROLE fracta LOGIN PASSWORD 'compose-pw'; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$;
ALTER DATABASE "$TEST_PG_DB" OWNER TO fracta;
SQL
  local where=${STORE_URL#*\?}
  where=${where//&/\\&}  # literal in sed's replacement
  mkdir -p "$BATS_TEST_TMPDIR/cp"
  sed "s|@postgres:5432/fracta\"|@/$TEST_PG_DB?$where\"|" "$COMPOSE/configs/controlplane.yaml" >"$BATS_TEST_TMPDIR/cp/fracta.yaml"
  grep -q "fracta:\${POSTGRES_PASSWORD}@/$TEST_PG_DB?" "$BATS_TEST_TMPDIR/cp/fracta.yaml" || fail "the DSN was not rewritten"
  diff <(grep -v 'dsn:' "$COMPOSE/configs/controlplane.yaml") <(grep -v 'dsn:' "$BATS_TEST_TMPDIR/cp/fracta.yaml")
  cd "$BATS_TEST_TMPDIR/cp"
  POSTGRES_PASSWORD=compose-pw start_bg "$FRACTA_BIN/fracta-cp" run --config "$BATS_TEST_TMPDIR/cp/fracta.yaml" \
    --listen 127.0.0.1:0 --ready-fd 4 4>"$BATS_TEST_TMPDIR/cp.ready" 2>"$BATS_TEST_TMPDIR/cp.err" </dev/null
  local cp=$BG_PID
  wait_for 60 settled "$BATS_TEST_TMPDIR/cp.ready" "$cp"
  ready_line "$BATS_TEST_TMPDIR/cp.ready" || fail "fracta-cp did not come up: $(cat "$BATS_TEST_TMPDIR/cp.err")"
  local url
  url=$(awk '{print $2}' "$BATS_TEST_TMPDIR/cp.ready")
  assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" 200 "readyz"
  # its store is the Postgres one, as the fracta user
  assert_equal "$(psql "$STORE_URL" -qAt -c "SELECT tableowner FROM pg_tables WHERE tablename = 'agents'")" fracta "agents' owner"
  # control_plane_api.token: "${FRACTA_CP_TOKEN:-}" is in force
  assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$url/api/v1/agents")" 401 "without the token"
  assert_equal "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $FRACTA_CP_TOKEN" "$url/api/v1/agents")" 200 "with the token"
  # logging.format: json
  jq -e . "$BATS_TEST_TMPDIR/cp.err" >/dev/null || fail "the log is not JSON lines: $(cat "$BATS_TEST_TMPDIR/cp.err")"
  grep -qiE '"level":"(warn|error)"' "$BATS_TEST_TMPDIR/cp.err" && fail "fracta-cp complained: $(cat "$BATS_TEST_TMPDIR/cp.err")"
  kill -TERM "$cp"
  wait_for 60 process_gone "$cp"
}

settled() { has_lines "$1" 1 || process_gone "$2"; }
