#!/usr/bin/env bats
# TLS where the API leaves the host (fracta.yaml(5) "TLS"): the control plane
# and the gateway serve HTTPS with a certificate from a CA the test makes;
# the front door, the gateway's client of the control plane and an exec
# provider calling the API verify it against control_plane_api.ca_file or
# FRACTA_CA_FILE and refuse a certificate from another CA; the MCP SDK client
# reaches an agent endpoint over TLS; SIGHUP gives new connections a renewed
# certificate and keeps the old one when the new one does not load; a client
# CA makes every request show a certificate it signed.

load ../lib/common
load ../lib/cp
load ../lib/gw

setup() {
  gw_suite_setup
  require_cmd openssl
  require_node_modules
  PKI="$BATS_TEST_TMPDIR/pki"
  mkdir -p "$PKI"
  make_ca ca
  make_ca other
  make_cert server ca "serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost"
  make_cert foreign other "serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost"
  ADMIN=$(openssl rand -hex 32)
  export FRACTA_CP_TOKEN=$ADMIN
  unset FRACTA_CA_FILE
}
teardown() { gw_suite_teardown; }

# make_ca NAME — a self-signed CA in $PKI/NAME.{pem,key}
make_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=fracta test $1" \
    -keyout "$PKI/$1.key" -out "$PKI/$1.pem" 2>/dev/null || fail "openssl: CA $1"
}

# make_cert NAME CA EKU [EXTENSION] — a leaf in $PKI/NAME.{pem,key} signed by CA
make_cert() {
  local name=$1 ca=$2 eku=$3 ext=${4:-}
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
    -keyout "$PKI/$name.key" -out "$PKI/$name.csr" 2>/dev/null || fail "openssl: request $name"
  { echo "extendedKeyUsage=$eku"; [[ -n $ext ]] && echo "$ext"; } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.pem" -CAkey "$PKI/$ca.key" -CAcreateserial -days 2 \
    -extfile "$PKI/$name.ext" -out "$PKI/$name.pem" 2>/dev/null || fail "openssl: sign $name"
}

# served_subject HOST:PORT — the CN of the certificate a new connection gets
served_subject() {
  openssl s_client -connect "$1" -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -subject |
    sed 's/.*CN *= *//'
}

# a project whose API serves $PKI/server.* and whose clients trust $PKI/ca.pem
tls_project() {
  CP_API="tls: {cert_file: $PKI/server.pem, key_file: $PKI/server.key${CLIENT_CA:+, client_ca_file: $CLIENT_CA}}, ca_file: $PKI/ca.pem" \
    cp_project sqlite "$@"
}

@test "the control plane serves HTTPS; the front door and an exec provider verify it, and refuse another CA's certificate" {
  # an exec provider that asks the API for the agent list before each start
  PROVIDER="$BATS_TEST_TMPDIR/calling-provider"
  cat >"$PROVIDER" <<SH
#!/bin/sh
if [ "\$1" = start ]; then
  "$FRACTA_BIN/fracta" list >"$BATS_TEST_TMPDIR/provider-list.json" 2>"$BATS_TEST_TMPDIR/provider-list.err"
  echo \$? >"$BATS_TEST_TMPDIR/provider-list.status"
fi
exec "$FRACTA_BIN/fracta-spawn-local" "\$@"
SH
  chmod +x "$PROVIDER"
  tls_project
  sed -i "s|^runtime:\$|runtime:\\n  backend: \"exec:$PROVIDER\"|" "$P/fracta.yaml"
  grep -q "backend: \"exec:$PROVIDER\"" "$P/fracta.yaml" || fail "no exec backend: $(cat "$P/fracta.yaml")"
  cp_start
  [[ $CP_URL == https://127.0.0.1:* ]] || fail "the recorded URL is not https: $CP_URL"
  # plain HTTP gets nowhere
  run curl -s -o /dev/null -w '%{http_code}' "${CP_URL/https/http}/healthz"
  [[ $output != 200 ]] || fail "plain HTTP was answered"
  # curl with the CA: a verified answer
  run curl -sS --cacert "$PKI/ca.pem" -H "Authorization: Bearer $ADMIN" "$CP_URL/api/v1/agents"
  assert_status 0
  # the front door, trusting control_plane_api.ca_file: spawns, and lists
  cd "$P"
  run --separate-stderr "$FRACTA_BIN/fracta" spawn tls-one --contract 'echo over-tls' --wait --timeout 60s
  assert_status 0
  # the exec provider called the API over TLS, verified, from its start
  wait_for 20 test -s "$BATS_TEST_TMPDIR/provider-list.status"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/provider-list.status")" 0 \
    "the provider's call: $(cat "$BATS_TEST_TMPDIR/provider-list.err")"
  jq -e 'type == "array" or type == "object"' "$BATS_TEST_TMPDIR/provider-list.json" >/dev/null ||
    fail "the provider's list: $(cat "$BATS_TEST_TMPDIR/provider-list.json")"
  # FRACTA_CA_FILE wins over the file: another CA, and the front door refuses
  # the server, one line, exit 1 (fracta(1) EXIT STATUS)
  FRACTA_CA_FILE="$PKI/other.pem" run --separate-stderr "$FRACTA_BIN/fracta" list
  assert_status 1
  assert_equal "$(wc -l <<<"$stderr")" 1 "error lines: $stderr"
  [[ $stderr == "fracta: error: "*"certificate"* ]] || fail "the front door's error: $stderr"
  # with no CA named, the system's CAs do not vouch for the test CA either
  sed -i 's|, ca_file: [^}]*}|}|' "$P/fracta.yaml"
  grep -q "ca_file" "$P/fracta.yaml" && fail "ca_file still in fracta.yaml"
  run --separate-stderr "$FRACTA_BIN/fracta" list
  assert_status 1
  [[ $stderr == "fracta: error: "*"certificate"* ]] || fail "the front door's error without a CA: $stderr"
}

@test "the gateway verifies the control plane, serves HTTPS itself, and the MCP SDK client reaches an agent over TLS" {
  GW_PORT=$(free_port)
  tls_project \
    "gateway: {listen: \"127.0.0.1:$GW_PORT\", url: \"https://127.0.0.1:$GW_PORT\", tls: {cert_file: $PKI/server.pem, key_file: $PKI/server.key}, ca_file: $PKI/ca.pem}" \
    "mcp_servers:" \
    "  servers:" \
    "    ev: {local: {command: node, args: [\"$EVERYTHING\", stdio]}}"
  cp_start
  cd "$P"
  start_bg "$FRACTA_BIN/fracta-gw" serve --ready-fd 4 4>"$BATS_TEST_TMPDIR/gw.ready" 2>"$BATS_TEST_TMPDIR/gw.log"
  GW_PID=$BG_PID
  wait_for 20 grep -q ready "$BATS_TEST_TMPDIR/gw.ready"
  GW_URL="https://127.0.0.1:$GW_PORT"
  # ready means its client reached the control plane, verifying it
  gw_ready_tls() { [[ $(curl -s --cacert "$PKI/ca.pem" -o /dev/null -w '%{http_code}' "$GW_URL/readyz") == 200 ]]; }
  wait_for 60 gw_ready_tls
  grep -q "listening on https://127.0.0.1:$GW_PORT" "$BATS_TEST_TMPDIR/gw.log" || fail "$(cat "$BATS_TEST_TMPDIR/gw.log")"
  # an agent, and the real SDK client trusting the test CA (NODE_EXTRA_CA_CERTS)
  export CP_TOKEN=$ADMIN
  CP_URL="$CP_URL" api POST /api/v1/agents '{"task":"a1","contract":"printf %s \"$FRACTA_GATEWAY_TOKEN\" >.token; exec sleep 120"}' --cacert "$PKI/ca.pem"
  assert_equal "$API_STATUS" 201 "spawn: $API_BODY"
  wait_for 30 test -s "$P/.worktrees/a1/.token"
  local token
  token=$(cat "$P/.worktrees/a1/.token")
  NODE_EXTRA_CA_CERTS="$PKI/ca.pem" run node "$FRACTA_SOURCE/tests/mcp/sdk-client.mjs" "$GW_URL/agents/a1/mcp" "$token" http ev
  assert_status 0
  assert_json '.echo == "Echo: hello-http"' "$output"
  # the same client trusting another CA is refused by its TLS layer
  NODE_EXTRA_CA_CERTS="$PKI/other.pem" run node "$FRACTA_SOURCE/tests/mcp/sdk-client.mjs" "$GW_URL/agents/a1/mcp" "$token" http ev
  [[ $status -ne 0 && $output == *"certificate"* ]] || fail "the SDK client trusting another CA: $status $output"
  # a gateway trusting another CA for the control plane is not ready, and says why
  kill "$GW_PID"
  wait_for 20 process_gone "$GW_PID"
  FRACTA_CA_FILE="$PKI/other.pem" start_bg "$FRACTA_BIN/fracta-gw" serve --ready-fd 4 4>"$BATS_TEST_TMPDIR/gw2.ready" 2>"$BATS_TEST_TMPDIR/gw2.log"
  GW_PID=$BG_PID
  wait_for 20 grep -q ready "$BATS_TEST_TMPDIR/gw2.ready"
  run curl -s --cacert "$PKI/ca.pem" "$GW_URL/readyz"
  assert_json '.control_plane == false' "$output"
  # and an agent's token cannot be checked through it: 503, not a pass
  mcp_post a1 "$token" '{"jsonrpc":"2.0","id":1,"method":"ping"}' --cacert "$PKI/ca.pem"
  assert_equal "$MCP_STATUS" 503 "$MCP_BODY"
  [[ $MCP_BODY == *certificate* ]] || fail "the gateway's refusal: $MCP_BODY"
}

@test "SIGHUP gives new connections a renewed certificate; one that does not load keeps the old, logged once" {
  tls_project
  cp_start
  local hostport=${CP_URL#https://}
  assert_equal "$(served_subject "$hostport")" server "first certificate"
  # renewed on disk (same files, new subject), then SIGHUP
  make_cert renewed ca "serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost"
  cp "$PKI/renewed.pem" "$PKI/server.pem"
  cp "$PKI/renewed.key" "$PKI/server.key"
  kill -HUP "$CP_PID"
  wait_for 20 grep -q "TLS certificate reloaded" "$P/.fracta/controlplane.log"
  assert_equal "$(served_subject "$hostport")" renewed "after the reload"
  cd "$P"
  run --separate-stderr "$FRACTA_BIN/fracta" list
  assert_status 0
  # a half-written renewal: the key does not match the certificate
  make_cert broken ca "serverAuth" "subjectAltName=IP:127.0.0.1"
  cp "$PKI/broken.pem" "$PKI/server.pem"
  kill -HUP "$CP_PID"
  wait_for 20 grep -q "keeping the running certificate" "$P/.fracta/controlplane.log"
  # one line, saying why, and nothing else from the failed attempt
  assert_equal "$(grep -c 'reload: TLS' "$P/.fracta/controlplane.log")" 1 "log lines: $(cat "$P/.fracta/controlplane.log")"
  grep -q 'reload: TLS: .*do not match' "$P/.fracta/controlplane.log" || fail "$(cat "$P/.fracta/controlplane.log")"
  run grep -c -i 'gnutls\|TLS support' "$P/.fracta/controlplane.log"
  assert_equal "$output" 1 "lines about the failed certificate"
  assert_equal "$(served_subject "$hostport")" renewed "after the failed reload"
  run --separate-stderr "$FRACTA_BIN/fracta" list
  assert_status 0
}

@test "with a client CA, every request needs a certificate it signed" {
  make_cert client ca "clientAuth"
  make_cert stranger other "clientAuth"
  CLIENT_CA="$PKI/ca.pem" tls_project
  # fracta-cp start's own readiness check goes over the pipe, not HTTP
  cp_start
  run curl -s --cacert "$PKI/ca.pem" -w '\n%{http_code}' "$CP_URL/healthz"
  assert_equal "${output##*$'\n'}" 403 "no client certificate: $output"
  [[ $output == *"no client certificate"* ]] || fail "$output"
  run curl -s --cacert "$PKI/ca.pem" --cert "$PKI/stranger.pem" --key "$PKI/stranger.key" -o /dev/null \
    -w '%{http_code}' "$CP_URL/healthz"
  assert_equal "$output" 403 "another CA's client certificate"
  run curl -s --cacert "$PKI/ca.pem" --cert "$PKI/client.pem" --key "$PKI/client.key" -o /dev/null \
    -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "$CP_URL/api/v1/agents"
  assert_equal "$output" 200 "the CA's client certificate"
}

@test "a tls section that cannot be served is refused at start, exit 100, one line" {
  CP_API="tls: {cert_file: $PKI/missing.pem, key_file: $PKI/server.key}" cp_project sqlite
  cd "$P"
  run --separate-stderr "$CP" run
  assert_status 100
  assert_equal "$(wc -l <<<"$stderr")" 1 "$stderr"
  [[ $stderr == "fracta-cp: error: run: control_plane_api: tls.cert_file: "*"$PKI/missing.pem"* ]] || fail "$stderr"
  # a certificate with another key: the server does not start
  sed -i "s|missing.pem|foreign.pem|" "$P/fracta.yaml"
  run --separate-stderr "$CP" run
  assert_status 100
  assert_equal "$(wc -l <<<"$stderr")" 1 "$stderr"
  [[ $stderr == "fracta-cp: error: "*"cannot start the HTTPS server: "*"do not match"* ]] || fail "$stderr"
  # key without certificate
  sed -i "s|cert_file: [^,]*, ||" "$P/fracta.yaml"
  run --separate-stderr "$CP" run
  assert_status 100
  [[ $stderr == *"control_plane_api.tls: cert_file and key_file go together"* ]] || fail "$stderr"
}
