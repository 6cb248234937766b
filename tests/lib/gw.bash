# gw.bash — helpers for the gateway suites (load after common and cp).
#
#   gw_project [YAML…]  cp_project plus a gateway on a free port and the
#                       backends: ev (server-everything over stdio), evh
#                       (server-everything over streamable HTTP) and rec
#                       (tests/mcp/recording-server.mjs, which records the
#                       headers it gets), then starts the control plane and
#                       `fracta-gw serve`; GW_URL. With REC_MESSAGES
#                       exported first, rec also appends every JSON-RPC
#                       message it gets (and its `slow` tool's aborts) there;
#                       GW_WAIT_READY=0: do not wait for /readyz; $GW_YAML
#                       adds keys to `gateway:`
#   gw_suite_setup / gw_suite_teardown   a gateway suite's setup and teardown
#   call_tool_script    CALL: a script an agent runs as `$CALL TOOL
#                       [ARGS-JSON]` (tests/mcp/call-tool.mjs, the MCP SDK
#                       client); exit 1 on a tool error
#   require_node_modules [FILE]   fail unless FILE (default: server-everything)
#                       is installed in tests/node_modules
#   agent_token TASK    spawn a shell agent that writes its token and idles
#   mcp_post TASK TOKEN BODY [HEADERS…]   POST to /agents/TASK/mcp; MCP_STATUS, MCP_BODY
#
# shellcheck disable=SC2154

NODE_MODULES="$FRACTA_SOURCE/tests/node_modules"
EVERYTHING="$NODE_MODULES/@modelcontextprotocol/server-everything/dist/index.js"

gw_suite_setup() { common_setup; require_cmd curl git node jq; }
gw_suite_teardown() {
  cp_stop
  common_teardown
}

call_tool_script() {
  CALL="$BATS_TEST_TMPDIR/call"
  printf '#!/bin/sh\nexec %q %q "$@"\n' "$(command -v node)" "$FRACTA_SOURCE/tests/mcp/call-tool.mjs" >"$CALL"
  chmod +x "$CALL"
}

# require_node_modules [FILE] — FILE (default: server-everything) is in
# tests/node_modules, else the test fails and says how to install it
require_node_modules() {
  [[ -f ${1:-$EVERYTHING} ]] || fail "${1:-$EVERYTHING} is missing from tests/node_modules: run 'make deps' (npm install in tests/)"
}

gw_project() {
  require_cmd node
  require_node_modules || return 1
  GW_PORT=$(free_port)
  EV_PORT=$(free_port)
  REC_PORT=$(free_port)
  HEADERS="$BATS_TEST_TMPDIR/backend-headers.jsonl"
  : >"$HEADERS"
  PORT=$EV_PORT start_bg node "$EVERYTHING" streamableHttp 2>"$BATS_TEST_TMPDIR/evh.log"
  start_bg node "$FRACTA_SOURCE/tests/mcp/recording-server.mjs" "$REC_PORT" "$HEADERS" 2>"$BATS_TEST_TMPDIR/rec.log"
  wait_for 20 port_open "$EV_PORT"
  wait_for 20 port_open "$REC_PORT"
  cp_project sqlite \
    "gateway: {listen: \"127.0.0.1:$GW_PORT\", url: \"http://127.0.0.1:$GW_PORT\"${GW_YAML:+, $GW_YAML}}" \
    "mcp_servers:" \
    "  servers:" \
    "    ev: {local: {command: node, args: [\"$EVERYTHING\", stdio]}}" \
    "    evh: {remote: {url: \"http://127.0.0.1:$EV_PORT/mcp\"}}" \
    "    rec: {remote: {url: \"http://127.0.0.1:$REC_PORT/mcp\", auth: {type: bearer, value: backend-secret}}, list_timeout: 2s}" \
    "$@"
  cp_start
  cd "$P" || return 1
  start_bg "$FRACTA_BIN/fracta-gw" serve --ready-fd 4 4>"$BATS_TEST_TMPDIR/gw.ready" 2>"$BATS_TEST_TMPDIR/gw.log"
  GW_PID=$BG_PID
  cd "$BATS_TEST_TMPDIR" || return 1
  wait_for 20 grep -q ready "$BATS_TEST_TMPDIR/gw.ready"
  GW_URL="http://127.0.0.1:$GW_PORT"
  # the first discovery pass is done once /readyz says so (GW_WAIT_READY=0:
  # not awaited, for a test whose backend holds discovery up on purpose)
  [[ ${GW_WAIT_READY:-1} == 0 ]] && return 0
  wait_for 60 gw_ready
  # readiness also comes at a deadline; on a loaded machine a backend can
  # still be starting then: wait for each to have been listed
  local b
  for b in ev evh rec; do wait_for 60 backend_up "$b"; done
}

backend_up() { curl -s "$GW_URL/metrics" | grep -q "fracta_gw_backend_up{backend=\"$1\"} 1"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
gw_ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' "$GW_URL/readyz") == 200 ]]; }

# agent_token TASK — a shell agent that writes its gateway token and idles.
agent_token() {
  spawn "$1" 'printf %s "$FRACTA_GATEWAY_TOKEN" >.token; exec sleep 120' >/dev/null || return 1
  wait_for 20 test -s "$P/.worktrees/$1/.token" || return 1
  cat "$P/.worktrees/$1/.token"
}

# mcp_post TASK TOKEN BODY [CURL-ARGS…]
mcp_post() {
  local task=$1 token=$2 body=$3 out
  shift 3
  out=$(curl -sS -X POST -w '\n%{http_code}' -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' ${token:+-H "Authorization: Bearer $token"} "$@" \
    --data-binary "$body" "$GW_URL/agents/$task/mcp") || return 1
  MCP_STATUS=${out##*$'\n'}
  MCP_BODY=${out%$'\n'*}
}

# backend_pid — the gateway's stdio backend (server-everything in stdio mode).
backend_pid() { pgrep -P "$GW_PID" -f "server-everything/dist/index.js stdio" | head -1; }
