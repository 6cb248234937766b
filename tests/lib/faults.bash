# faults.bash — helpers for tests/e2e/faults.bats (load after common and cp).
#
#   faults_provider           write $WRAP, a session provider that is
#                             fracta-spawn-local plus a record and faults:
#                             every `start` appends "<task> <state before>"
#                             to $STARTS (the state `status` gave just before:
#                             a start while a session is alive is a session
#                             run twice) and, once its session exists,
#                             "<task> <pgid> <supervisor pid>" to $SESSIONS.
#                             The first start of a task named
#                               pk-before-*  kill -9s itself before starting,
#                               pk-after-*   kill -9s itself once the session
#                                            runs (the caller never hears),
#                               pk-hang-*    hangs, session running, until
#                                            the caller's start budget runs out
#                               pk-slow-*    takes 3 s before it starts
#                             (a later start of the same task is plain).
#                             While a file slow-status/<task> exists in the
#                             test's directory, `status` of that task takes
#                             4 s (a provider slower than a short lease).
#                             An executable on-start/<task> in the test's
#                             directory runs once, right after that task's
#                             session has started (before the caller hears).
#   faults_project KIND [YAML…]  cp_project with $WRAP as the backend, the
#                             control plane's own reaper out of the way, and
#                             $CP_QUEUE as the queue settings
#   sql QUERY                 one query on the project's store (sqlite3/psql)
#   burst PREFIX N CONTRACT   N spawns, 8 at a time; "<task> <http code>" per
#                             line in $BURST (000: no answer)
#   post_all CONTRACT OUT     the same for the task names on stdin
#   no_agent_with_status S…   for wait_for
#   assert_count STATUS N     N agents have STATUS
#   count_is STATUS N         the same, quietly, for wait_for
#   terminal_count_is N       N agents have ended (for wait_for)
#   reap_pass                 one `fracta-reap --once --grace 2s`; REAP_OUT
#   assert_recovered [--once] the invariants every scenario ends with: see
#                             the function
#
# shellcheck disable=SC2154

faults_provider() {
  STARTS="$BATS_TEST_TMPDIR/starts"
  SESSIONS="$BATS_TEST_TMPDIR/sessions"
  FAULTED="$BATS_TEST_TMPDIR/faulted"
  BURST="$BATS_TEST_TMPDIR/burst"
  WRAP="$BATS_TEST_TMPDIR/fault-provider"
  : >"$STARTS"
  : >"$SESSIONS"
  mkdir -p "$FAULTED" "$BATS_TEST_TMPDIR/on-start" "$BATS_TEST_TMPDIR/slow-status"
  cat >"$WRAP" <<SH
#!/bin/sh
# fracta-spawn-local, with every start written down and faults on cue
SL='$FRACTA_BIN/fracta-spawn-local'
FRACTA_STATE_DIR='$BATS_TEST_TMPDIR/project/.fracta/sessions'
export FRACTA_STATE_DIR
[ "\$1" = status ] && [ -e '$BATS_TEST_TMPDIR/slow-status'/"\$2" ] && sleep 4
[ "\$1" = start ] || exec "\$SL" "\$@"
task=\$2
before=\$("\$SL" status "\$task" </dev/null 2>/dev/null | jq -r .state)
echo "\$task \${before:-unknown}" >>'$STARTS'
fault=
if [ ! -e '$FAULTED'/"\$task" ]; then
  case \$task in pk-before-*|pk-after-*|pk-hang-*|pk-slow-*) : >'$FAULTED'/"\$task"; fault=\${task#pk-}; fault=\${fault%%-*} ;; esac
fi
[ "\$fault" = before ] && kill -9 \$\$
[ "\$fault" = slow ] && sleep 3
"\$SL" "\$@"
rc=\$?
state="\$FRACTA_STATE_DIR/\$task/state.json"
[ -f "\$state" ] && jq -r --arg t "\$task" '"\(\$t) \(.pgid) \(.supervisor_pid)"' "\$state" >>'$SESSIONS'
hook='$BATS_TEST_TMPDIR/on-start'/"\$task"
[ -x "\$hook" ] && mv "\$hook" "\$hook.ran" && "\$hook.ran"
[ "\$fault" = after ] && kill -9 \$\$
[ "\$fault" = hang ] && sleep 120
exit \$rc
SH
  chmod +x "$WRAP"
}

faults_project() {
  local kind=$1
  shift
  faults_provider
  cp_project "$kind" "  backend: exec:$WRAP" "$@" || return 1
  grep -q '^reaper:' "$P/fracta.yaml" || echo 'reaper: {interval: 1h}' >>"$P/fracta.yaml"
}

sql() {
  case $STORE_URL in
  sqlite:*) sqlite3 -batch "${STORE_URL#sqlite:}" "$1" ;;
  *) psql "$STORE_URL" -qAt -F '|' -v ON_ERROR_STOP=1 -c "$1" ;;
  esac
}

# burst PREFIX N CONTRACT — POST N agents, 8 requests in flight at a time.
burst() {
  : >"$BURST"
  local i
  for ((i = 1; i <= $2; i++)); do echo "$1-$i"; done | post_all "$3" "$BURST"
}

# post_all CONTRACT OUT — POST an agent for each task name on stdin, 8 at a
# time; "<task> <http code>" per line in OUT (000: no answer).
post_all() {
  xargs -P 8 -I{} sh -c '
    body=$(jq -nc --arg t "$1" --arg c "$2" "{task: \$t, contract: \$c}")
    code=$(curl -s -o /dev/null -w "%{http_code}" --max-time 30 -H "Content-Type: application/json" \
      --data-binary "$body" "$3/api/v1/agents")
    echo "$1 $code" >>"$4"' _ {} "$1" "$CP_URL" "$2"
}

accepted_at_least() { (($(grep -c ' 201$' "$BURST" 2>/dev/null) >= $1)); }

count_with_status() {
  api GET "/api/v1/agents?status=$1" || return 1
  jq '.agents | length' <<<"$API_BODY"
}

# assert_count STATUS N — N agents have STATUS (else all of them are shown).
assert_count() {
  local n
  n=$(count_with_status "$1") || return 1
  ((n == $2)) && return 0
  api GET /api/v1/agents
  fail "$1: expected $2 agents, got $n" "$(jq -c '.agents[] | {name, status, reason}' <<<"$API_BODY")"
}

count_is() { (($(count_with_status "$1") == $2)); }

# terminal_count_is N — N agents have ended, whichever way.
terminal_count_is() {
  api GET /api/v1/agents || return 1
  (($(jq '[.agents[] | select(.status == "Completed" or .status == "Failed" or .status == "Stopped")] | length' <<<"$API_BODY") == $1))
}

no_agent_with_status() {
  local s
  for s in "$@"; do
    (($(count_with_status "$s") == 0)) || return 1
  done
}

# reap_pass — the one reconciliation pass a recovery ends with.
reap_pass() {
  run --separate-stderr bash -c 'cd "$1" && "$2" --once --grace 2s' _ "$P" "$FRACTA_BIN/fracta-reap"
  [[ $status -eq 0 ]] || { fail "fracta-reap: exit $status: $stderr" "$output"; return 1; }
  REAP_OUT=$output
}

# pids_with_session_env — "<pid> <task>" for every process carrying the
# environment fracta-spawn-local gives a session of this project (its
# supervisor and everything the session ran).
pids_with_session_env() {
  local root="$P/.fracta/sessions/" f pid v
  for f in $(grep -lzs "^FRACTA_SESSION_DIR=$root" /proc/[0-9]*/environ); do
    pid=${f#/proc/}
    pid=${pid%/environ}
    v=$(tr '\0' '\n' 2>/dev/null <"$f" | grep -m1 "^FRACTA_SESSION_DIR=$root") || continue
    echo "$pid ${v#FRACTA_SESSION_DIR="$root"}"
  done
}

# assert_recovered [--once] — after recovery and the reap pass:
#  1. every agent is terminal, or Running/Idle with its session running;
#  2. no start was asked for while a session of the task was alive, and
#     (--once) no task was started more than once;
#  3. no process of a session remains unless it is the running session of a
#     Running agent: neither a process with the session's environment nor a
#     member of any process group a session of the run ever had;
#  4. worktrees (git's list and .worktrees/) exist only for agents with rows;
#  5. the event log holds seq 1..N, no gap, and latest-seq is N.
assert_recovered() {
  api GET /api/v1/agents || return 1
  [[ $API_STATUS == 200 ]] || { fail "list agents: HTTP $API_STATUS $API_BODY"; return 1; }
  local agents=$API_BODY name st
  declare -A live=() rows=()
  while read -r name st; do
    [[ -n $name ]] || continue
    rows[$name]=1
    case $st in
    Completed | Failed | Stopped) ;;
    Running | Idle)
      [[ $(session_state "$name") == running ]] || { fail "$name is $st but its session is $(session_state "$name")"; return 1; }
      live[$name]=$(jq -r .pgid "$P/.fracta/sessions/$name/state.json")
      ;;
    *) fail "$name is $st: neither terminal nor running"; return 1 ;;
    esac
  done < <(jq -r '.agents[] | "\(.name) \(.status)"' <<<"$agents")

  local twice
  twice=$(awk '$2 == "running" || $2 == "starting" {print $1}' "$STARTS" | sort -u)
  [[ -z $twice ]] || { fail "started while a session was alive: $twice" "$(cat "$STARTS")"; return 1; }
  if [[ ${1:-} == --once ]]; then
    twice=$(awk '{print $1}' "$STARTS" | sort | uniq -d)
    [[ -z $twice ]] || { fail "started more than once: $twice"; return 1; }
  fi

  local pid task pgid sup left=""
  while read -r pid task; do
    [[ -n ${live[$task]:-} && $(ps -o pgid= -p "$pid" | tr -d ' ') == "${live[$task]}" ]] && continue
    [[ -n ${live[$task]:-} && $(jq -r .supervisor_pid "$P/.fracta/sessions/$task/state.json") == "$pid" ]] && continue
    left+=" $pid($task: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null))"
  done < <(pids_with_session_env)
  declare -A members=()
  local stat
  # Zombies are dead: reaping them is their new parent's business (here, PID 1).
  while read -r pid pgid stat; do
    [[ $stat == Z* ]] || members[$pgid]+=" $pid"
  done < <(ps -e -o pid=,pgid=,stat=)
  while read -r task pgid sup; do
    [[ -n $task ]] || continue
    [[ ${live[$task]:-} == "$pgid" ]] && continue
    # its supervisor, unless the pid now names another program
    [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$sup/cmdline") == *" supervise $task "* ]] &&
      left+=" $sup($task's supervisor)"
    [[ -n ${members[$pgid]:-} ]] || continue
    for pid in ${members[$pgid]}; do
      left+=" $pid($task, in its session's group $pgid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null))"
    done
  done <"$SESSIONS"
  [[ -z $left ]] || { fail "processes left:$left" "agents: $(jq -c '[.agents[] | {name, status, reason}]' <<<"$agents")"; return 1; }

  local wt
  while read -r wt; do
    [[ -n $wt && $wt != "$P" ]] || continue
    [[ -n ${rows[${wt##*/}]:-} ]] || { fail "worktree $wt has no agent"; return 1; }
  done < <(git -C "$P" worktree list --porcelain | sed -n 's/^worktree //p')
  for wt in "$P"/.worktrees/*; do
    [[ -e $wt ]] || continue
    [[ -n ${rows[${wt##*/}]:-} ]] || { fail "directory $wt has no agent"; return 1; }
  done

  local n latest
  n=$(echo '{}' | "$FRACTA_BIN/fracta-events" --store "$STORE_URL" list |
    jq -e 'if [.[].seq] == [range(1; length + 1)] then length else error("gap or disorder") end') ||
    { fail "the event log is not seq 1..N: $(sql 'SELECT COUNT(*), MIN(seq), MAX(seq) FROM events')"; return 1; }
  latest=$("$FRACTA_BIN/fracta-events" --store "$STORE_URL" latest-seq) || return 1
  assert_equal "$latest" "$n" "latest-seq" || return 1
  ((n > 0)) || { fail "no events at all"; return 1; }
}
