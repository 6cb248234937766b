# cp.bash — helpers for the control plane suites (load after common).
#
#   cp_project sqlite|postgres [YAML…]  a git project in $P with fracta.yaml
#                                       (postgres: a fresh database, or
#                                       $CP_PG_DSN when set)
#                                       (shell runtime, a free port, short
#                                       leases) plus extra YAML lines;
#                                       $CP_AGENTS adds keys to `agents:`,
#                                       $CP_API to `control_plane_api:`,
#                                       $CP_QUEUE replaces runtime.queue's
#   cp_start / cp_stop                  fracta-cp start|stop in $P; CP_URL
#   cp_replica N                        a `fracta-cp run` of the project
#                                       (cwd $P) in the background, ready;
#                                       its log cpN.log; REPLICA_URL
#   api METHOD PATH [BODY]              curl; API_STATUS and API_BODY
#   agent_field TASK JQ                 a field of GET /api/v1/agents/TASK
#   status_is TASK STATUS               for wait_for
#   count_with_status STATUS            agents in STATUS (from /metrics)
#   no_start_under_way                  no worker busy, nothing pending
#   threads_of PID / children_of PID    a process's threads / child processes
#   running_is N / completed_is N       exactly N agents in that status
#   close_gate / open_gate              hold / release the lock file $GATE
#   stray NAME                          a session of the project's provider
#                                       with no agent row (an orphan)
#   counting_provider                   $COUNTING: fracta-spawn-local that
#                                       also appends each started task's
#                                       name to $STARTS (a line a start)
#
# shellcheck disable=SC2154

CP="$FRACTA_BIN/fracta-cp"
CP_QUEUE_DEFAULT="lease_timeout: 3s, start_timeout: 60s, max_attempts: 100"

cp_project() {
  local kind=$1
  shift
  P="$BATS_TEST_TMPDIR/project"
  mkdir -p "$P/.fracta"
  git_repo "$P" || return 1
  {
    echo "agents: {default_runtime: shell${CP_AGENTS:+, $CP_AGENTS}}"
    echo "control_plane_api: {listen: \"127.0.0.1:0\"${CP_API:+, $CP_API}}"
    if [[ $kind == postgres ]]; then
      if [[ -n ${CP_PG_DSN:-} ]]; then  # a server of the test's own
        STORE_URL=$CP_PG_DSN
      else
        new_pg_database >"$BATS_TEST_TMPDIR/.pg-url" || return 1
        STORE_URL=$(<"$BATS_TEST_TMPDIR/.pg-url")
      fi
      echo "runtime:"
      echo "  state: {driver: postgres, postgres: {dsn: '$STORE_URL'}}"
    else
      STORE_URL="sqlite:$P/.fracta/state.db"
      echo "runtime:"
    fi
    # Short leases, so that a killed daemon's claims come back soon. On a
    # loaded machine a live worker's heartbeat can still come late and its
    # lease run out: the next claim adopts the session, and that must not use
    # up the agent's attempts (nor a slow start its budget). $CP_QUEUE replaces it.
    echo "  queue: {${CP_QUEUE:-$CP_QUEUE_DEFAULT}}"
    local line own_gateway=""
    for line in "$@"; do
      echo "$line"
      [[ $line == gateway:* ]] && own_gateway=1
    done
    # a gateway started beside the daemon takes any free port, not 8080
    [[ -n $own_gateway ]] || echo 'gateway: {listen: "127.0.0.1:0"}'
  } >"$P/fracta.yaml"
  export FRACTA_STATE_DIR="$P/.fracta/sessions"
}

stray() {
  mkdir -p "$BATS_TEST_TMPDIR/stray"
  jq -nc --arg wd "$BATS_TEST_TMPDIR/stray" '{command: "exec sleep 300", work_dir: $wd}' |
    FRACTA_STATE_DIR="$P/.fracta/sessions" "$FRACTA_BIN/fracta-spawn-local" start "$1" >/dev/null
}

counting_provider() {
  STARTS="$BATS_TEST_TMPDIR/starts"
  : >"$STARTS"
  COUNTING="$BATS_TEST_TMPDIR/counting-provider"
  cat >"$COUNTING" <<SH
#!/bin/sh
[ "\$1" = start ] && echo "\$2" >>"$STARTS"
exec "$FRACTA_BIN/fracta-spawn-local" "\$@"
SH
  chmod +x "$COUNTING"
}

cp_start() {
  run --separate-stderr bash -c 'cd "$1" && "$2" start --no-gateway' _ "$P" "$CP"
  [[ $status -eq 0 ]] || { fail "fracta-cp start: $status $output $stderr" "$(cat "$P/.fracta/controlplane.log" 2>/dev/null)"; return 1; }
  CP_URL=$(jq -r .url <<<"$output")
  CP_PID=$(jq -r .pid <<<"$output")
}

cp_replica() {
  local ready="$BATS_TEST_TMPDIR/ready$1"
  start_bg "$CP" run --listen 127.0.0.1:0 --ready-fd 4 4>"$ready" 2>"$BATS_TEST_TMPDIR/cp$1.log"
  wait_for 60 grep -q ready "$ready"
  REPLICA_URL=$(awk '{print $2}' "$ready")
}

cp_stop() {
  [[ -n ${P:-} && -d $P/.fracta ]] || return 0
  (cd "$P" && "$CP" stop --timeout 10s >/dev/null 2>&1) || true
  # Foreground replicas (fracta-cp run) a test started itself, if it left any.
  local pid
  for pid in $(pgrep -f "fracta-cp run" 2>/dev/null); do
    [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$BATS_TEST_TMPDIR"* ]] && kill -9 "$pid" 2>/dev/null
  done
  # Sessions the suite left running die with it.
  if [[ -d $P/.fracta/sessions ]]; then
    local s
    for s in "$P"/.fracta/sessions/*/; do
      [[ -d $s ]] && "$FRACTA_BIN/fracta-spawn-local" stop "$(basename "$s")" >/dev/null 2>&1
    done
  fi
  return 0
}

cp_log() { cat "$P/.fracta/controlplane.log" 2>/dev/null; }

# api METHOD PATH [BODY] [CURL-ARGS…]
api() {
  local method=$1 path=$2 body=${3-} out
  shift 3 2>/dev/null || shift $#
  local args=(-sS -X "$method" -w '\n%{http_code}' "$@")
  [[ -n ${CP_TOKEN:-} ]] && args+=(-H "Authorization: Bearer $CP_TOKEN")
  [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  out=$(curl "${args[@]}" "$CP_URL$path") || { fail "curl $method $path failed"; return 1; }
  API_STATUS=${out##*$'\n'}
  API_BODY=${out%$'\n'*}
}

# expect_api STATUS METHOD PATH [BODY] — api, then check the status code.
expect_api() {
  local want=$1
  shift
  api "$@" || return 1
  [[ $API_STATUS == "$want" ]] || { fail "$1 $2: expected HTTP $want, got $API_STATUS: $API_BODY"; return 1; }
}

spawn() { # spawn TASK CONTRACT [EXTRA-JSON-FIELDS]
  local body
  body=$(jq -cn --arg t "$1" --arg c "$2" '{task: $t, contract: $c}')
  [[ -n ${3:-} ]] && body=$(jq -c ". + $3" <<<"$body")
  expect_api 201 POST /api/v1/agents "$body"
}

agent_field() {
  api GET "/api/v1/agents/$1" || return 1
  jq -r ".agent.$2" <<<"$API_BODY"
}

status_is() { [[ $(agent_field "$1" status) == "$2" ]]; }

# wait_agent TASK [SECONDS] — long-poll until terminal; API_BODY is the agent.
wait_agent() {
  expect_api 200 GET "/api/v1/agents/$1/wait?timeout=${2:-30}s"
}

# count_with_status STATUS — agents in STATUS, from /metrics (one GROUP BY,
# not the whole list: waits ask often)
count_with_status() {
  local m
  m=$(curl -s "$CP_URL/metrics") || return 1
  awk -v want="fracta_agents{status=\"$1\"}" '$1 == want { n = $2 } END { print n + 0 }' <<<"$m"
}

# No mission is claimed any more: the workers are idle.
workers_idle() {
  local m
  m=$(curl -s "$CP_URL/metrics") || return 1
  grep -q '^fracta_missions{status="claimed"} 0$' <<<"$m"
}

# No start is under way: no worker busy, nothing pending (every claim Running).
no_start_under_way() {
  local m
  m=$(curl -s "$CP_URL/metrics") || return 1
  grep -q '^fracta_workers_busy 0$' <<<"$m" && grep -q '^fracta_missions{status="pending"} 0$' <<<"$m"
}

# running_is N / completed_is N — exactly N agents in that status (for wait_for)
running_is() { (($(count_with_status Running) == $1)); }
completed_is() { (($(count_with_status Completed) == $1)); }

# A lock file $GATE that agents wait on (flock -s) until the test lets them
# go: close_gate after fracta-cp started (it must not inherit the lock).
close_gate() {
  exec {GATE_FD}>>"$GATE"
  flock -x "$GATE_FD"
}
open_gate() {
  exec {GATE_FD}>&-
  GATE_FD=""
}

# A process's threads and child processes (what following must not grow).
threads_of() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }
children_of() { ps -o pid= --ppid "$1" | wc -l; }
