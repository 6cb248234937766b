#!/usr/bin/env bats
# The docker-compose deployment (compose/, what `fracta-init --scaffold
# docker-compose` writes), checked without a container engine: docker-compose
# itself accepts the file, the project is bind-mounted and every config it
# mounts exists, the secrets are required; the configs load in the binaries
# that read them — fracta-gw serve on the gateway's, and fracta-cp run on the
# scaffold's fracta.yaml with the container's environment (its token in
# force; the test's Postgres for the postgres service). tests/compose runs the
# same deployment in a real engine.

load ../lib/common

setup() {
  common_setup
  require_cmd docker-compose curl node
  COMPOSE="$FRACTA_SOURCE/compose"
}
teardown() { common_teardown; }

@test "docker-compose config accepts compose/docker-compose.yml; the project and every config are mounted; the token only as a secret" {
  FRACTA_CP_TOKEN=tok FRACTA_PG_PASSWORD=pgpw FRACTA_UID=1000 FRACTA_GID=1001 run --separate-stderr docker-compose -f "$COMPOSE/docker-compose.yml" config
  assert_status 0
  [[ $output != *tok* && $output != *pgpw* ]] || fail "a secret is in the configuration: $output"
  run yaml_to_json <<<"$output"
  assert_status 0
  assert_json '.services | keys == ["controlplane", "gateway", "postgres"]'
  assert_json '[.services.controlplane.image, .services.gateway.image] | unique == ["ghcr.io/fracta-dev/fracta-agent:0.1.0"]'
  assert_json '.services.postgres.image == "ghcr.io/fracta-dev/fracta-postgres:0.1.0"'
  # the services read the secrets from deployment/.env mounted as a compose secret
  assert_json '.secrets.fracta_env.file | endswith("/.env")'
  assert_json '[.services[].secrets[0].source] == ["fracta_env", "fracta_env", "fracta_env"]'
  assert_json '[.services[] | .environment // {} | has("FRACTA_CP_TOKEN") or has("FRACTA_PG_PASSWORD")] == [false, false, false]'
  assert_json '.services.controlplane.user == "1000:1001"'
  assert_json '.services.controlplane.healthcheck.test[1] == "fracta" and .services.gateway.healthcheck.test[3] == "fracta"'
  assert_json '.services.postgres.healthcheck.test[1] | endswith("/pg_isready")'
  # Postgres's data in a named volume (kept by down, removed by down -v), on no host port
  assert_json '.services.postgres.volumes == ["pgdata:/var/lib/postgresql/data:rw"] and (.volumes | has("pgdata"))'
  assert_json '.services.postgres | has("ports") | not'
  # the project (compose/'s parent here, deployment/'s in a scaffold) and the gateway's config
  local binds
  binds=$(jq -r '.services[].volumes[]? | split(":") | select(.[0] | startswith("/")) | .[0] + " " + .[1]' <<<"$output")
  assert_equal "$binds" "$FRACTA_SOURCE /project"$'\n'"$COMPOSE/configs/gateway.yaml /etc/fracta/fracta.yaml" "bind mounts"
  run --separate-stderr env -u FRACTA_UID FRACTA_CP_TOKEN=tok FRACTA_GID=1001 docker-compose -f "$COMPOSE/docker-compose.yml" config
  [[ $status -ne 0 ]] || fail "accepted without the owner's uid"
  [[ $stderr == *"set FRACTA_UID"* ]] || fail "unclear: $stderr"
}

@test "fracta-init --scaffold docker-compose writes the same deployment" {
  git init -q proj
  cd proj
  run --separate-stderr "$FRACTA_BIN/fracta-init" --scaffold docker-compose --format json
  assert_status 0
  cmp deployment/docker-compose.yml "$COMPOSE/docker-compose.yml"
  cmp deployment/configs/gateway.yaml "$COMPOSE/configs/gateway.yaml"
  cmp fracta.yaml "$FRACTA_SOURCE/scaffolds/docker-compose/fracta.yaml"
}

# yaml_to_json — stdin's YAML as JSON (the yaml package tests/package.json pins)
yaml_to_json() {
  node -e 'const Y = require(process.argv[1]); let s = "";
    process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.stringify(Y.parse(s))));' \
    "$FRACTA_SOURCE/tests/node_modules/yaml"
}

# ready_line FILE — what --ready-fd wrote
ready_line() { has_lines "$1" 1; }

@test "the configs load: fracta-gw serve on the gateway's, fracta-cp run on the scaffold's fracta.yaml" {
  export FRACTA_CP_TOKEN=compose-test-token
  start_bg "$FRACTA_BIN/fracta-gw" serve --config "$COMPOSE/configs/gateway.yaml" --listen 127.0.0.1:0 --ready-fd 4 \
    4>"$BATS_TEST_TMPDIR/gw.ready" 2>"$BATS_TEST_TMPDIR/gw.err" </dev/null
  local gw=$BG_PID
  wait_for 30 settled "$BATS_TEST_TMPDIR/gw.ready" "$gw"
  ready_line "$BATS_TEST_TMPDIR/gw.ready" || fail "fracta-gw did not come up: $(cat "$BATS_TEST_TMPDIR/gw.err")"
  grep -qiE 'warn|error' "$BATS_TEST_TMPDIR/gw.err" && fail "fracta-gw complained: $(cat "$BATS_TEST_TMPDIR/gw.err")"

  # the project as the container sees it: the scaffold's fracta.yaml, with
  # the environment compose gives the control plane; the test's Postgres
  # stands for the postgres service (the dsn's host and password swapped)
  git_repo proj
  cp "$FRACTA_SOURCE/scaffolds/docker-compose/fracta.yaml" proj/fracta.yaml
  local pg_url
  pg_url=$(new_pg_database) || fail "no test database"
  grep -qF 'dsn: "postgres://fracta:${FRACTA_PG_PASSWORD:-}@postgres:5432/fracta"' proj/fracta.yaml ||
    fail "the scaffold's dsn is not the postgres service's: $(grep dsn proj/fracta.yaml)"
  sed -i "s|dsn: \"postgres://.*\"|dsn: \"${pg_url//&/\\&}\"|" proj/fracta.yaml
  cd proj
  FRACTA_GATEWAY_URL=http://gateway:8080 start_bg "$FRACTA_BIN/fracta-cp" run --config "$PWD/fracta.yaml" \
    --listen 127.0.0.1:0 --ready-fd 4 4>"$BATS_TEST_TMPDIR/cp.ready" 2>"$BATS_TEST_TMPDIR/cp.err" </dev/null
  local cp=$BG_PID
  wait_for 60 settled "$BATS_TEST_TMPDIR/cp.ready" "$cp"
  ready_line "$BATS_TEST_TMPDIR/cp.ready" || fail "fracta-cp did not come up: $(cat "$BATS_TEST_TMPDIR/cp.err")"
  local url
  url=$(awk '{print $2}' "$BATS_TEST_TMPDIR/cp.ready")
  assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" 200 "readyz"
  # its state is in Postgres, not SQLite in the project's .fracta/
  [[ ! -e .fracta/state.db ]] || fail "the scaffold's state is SQLite"
  run psql -At "$pg_url" -c "select count(*) from information_schema.tables where table_name = 'agents'"
  assert_status 0
  assert_equal "$output" 1 "the agents table in Postgres"
  # control_plane_api.token: "${FRACTA_CP_TOKEN:-}" is in force
  assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$url/api/v1/agents")" 401 "without the token"
  assert_equal "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $FRACTA_CP_TOKEN" "$url/api/v1/agents")" 200 "with the token"
  grep -qiE 'level=(warn|error)|"level":"(warn|error)"' "$BATS_TEST_TMPDIR/cp.err" && fail "fracta-cp complained: $(cat "$BATS_TEST_TMPDIR/cp.err")"
  # the host side reads the same file as a client of the published port
  run --separate-stderr env -u FRACTA_CP_URL FRACTA_NO_AUTOSTART=1 "$FRACTA_BIN/fracta" status --config "$PWD/fracta.yaml"
  [[ $status -ne 0 && $stderr == *"localhost:19090"* ]] || fail "the host client does not aim at localhost:19090: $status $stderr"
  kill -TERM "$cp"
  wait_for 60 process_gone "$cp"
}

settled() { has_lines "$1" 1 || process_gone "$2"; }
