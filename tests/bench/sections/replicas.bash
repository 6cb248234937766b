# shellcheck shell=bash disable=SC2154 # sourced by tests/bench/run, which sets the knobs and helpers
# sections/replicas.bash — l: $REPLICA_AGENTS queued agents of `true` drained
# by 1, 2, 3 … `fracta-cp run` processes on one Postgres database. Sourced by
# tests/bench/run (a full run, or `tests/bench/run replicas`); leaves
# replicas.json.
#
# Per replica count R: a plain-directory project (no git, so no worktrees)
# on a fresh database; a fracta-cp with --workers 0 queues the agents through
# POST /api/v1/agents (post_load.cc) and is stopped; then R fracta-cp run
# processes with $REPLICA_WORKERS workers each start on the same store, timed
# from just before the first starts until the store counts every agent ended
# (psql, polled every 0.2 s). Their provider is `exec:` a wrapper around the
# fracta-spawn-local beside fracta-cp that appends the session name to a file
# on every `start`: every name must be there exactly once. A name started
# twice fails the section.

rep_pids=()
rep_stop_all() {  # the clean-up's part: replicas still running
  local p
  for p in "${rep_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rep_pids=()
}
cleanup_hooks+=(rep_stop_all)
rep_sql() { psql "$1" -qAt -v ON_ERROR_STOP=1 -F ' ' -c "$2"; }  # DSN SQL
rep_counts() {  # DSN: the agents "Completed Failed Stopped", for drain_until
  rep_sql "$1" "SELECT count(*) FILTER (WHERE status = 'Completed'), count(*) FILTER (WHERE status = 'Failed'),
    count(*) FILTER (WHERE status = 'Stopped') FROM agents"
}

# rep_drain R → one JSON line
rep_drain() {
  # shellcheck disable=SC2034 # marks: drain_until's, unused here (local: it does not leak)
  local n=$1 dir=$work/replicas/r$1 dsn starts wrapper k i rc line c f s t0 t1 marks by queued attempts
  dsn=$(pg_database "replicas$n")
  starts=$dir.starts wrapper=$dir.provider
  : >"$starts"
  cp_project "$dir" plain "$dsn"
  # The sessions in the project, as the local backend would keep them.
  cat >"$wrapper" <<SH
#!/bin/sh
[ "\$1" = start ] && echo "\$2" >>"$starts"
FRACTA_STATE_DIR="$dir/.fracta/sessions" exec "$work/bin/$cp_build/fracta-spawn-local" "\$@"
SH
  chmod +x "$wrapper"
  echo "  backend: exec:$wrapper" >>"$dir/fracta.yaml"  # under cp_project's runtime:
  cp_run "$dir" 0
  say "replicas: queueing $REPLICA_AGENTS agents of \`true\`"
  post_load --threads 1 --mode post --count "$REPLICA_AGENTS" --warmup 0 --prefix r --contract true >/dev/null \
    || die "queueing $REPLICA_AGENTS agents failed"
  cp_stop
  queued=$(rep_sql "$dsn" "SELECT count(*) FROM agents WHERE status = 'Queued'") || die "psql failed"
  (( queued == REPLICA_AGENTS )) || die "replicas: $queued agents Queued after $REPLICA_AGENTS POSTs"

  say "replicas: $n fracta-cp run × $REPLICA_WORKERS workers draining them"
  t0=$(now)
  for (( k = 1; k <= n; k++ )); do
    ready_run "replica-$n-$k" "$dir" "$cp_bin" run --listen 127.0.0.1:0 --ready-fd 3 --workers "$REPLICA_WORKERS" \
      --drain-timeout 10s
    rep_pids+=("$ready_pid")
  done
  drain_until "$REPLICA_AGENTS" "$t0" "$REPLICA_TIMEOUT" BENCH_REPLICA_TIMEOUT 0.2 rep_counts "$dsn"
  # missions per replica: claimed_by is "<replica id>-worker-<i>"
  by=$(rep_sql "$dsn" "SELECT count(*) FROM missions GROUP BY split_part(claimed_by, '-worker-', 1) ORDER BY 1 DESC" \
    | jq -sc .) || die "psql failed"
  attempts=$(rep_sql "$dsn" "SELECT coalesce(max(attempt), 0) FROM missions") || die "psql failed"
  for (( i = 0; i < ${#rep_pids[@]}; i++ )); do
    rc=0
    kill -TERM "${rep_pids[$i]}"
    wait "${rep_pids[$i]}" || rc=$?
    (( rc == 0 )) || { tail -20 "$work/replica-$n-$((i + 1)).log" >&2; die "replica $((i + 1)) of $n exited with $rc after SIGTERM"; }
  done
  rep_pids=()
  line=$(sort "$starts" | uniq -d | head -5 | tr '\n' ' ')
  [[ -z $line ]] || die "replicas: $n replicas started agents more than once: $line(see $starts)"
  jq -nc --argjson replicas "$n" --argjson workers "$REPLICA_WORKERS" --argjson agents "$REPLICA_AGENTS" \
    --argjson completed "$c" --argjson failed "$f" --argjson stopped "$s" --argjson t0 "$t0" --argjson t1 "$t1" \
    --argjson starts "$(wc -l <"$starts")" --argjson distinct "$(sort -u "$starts" | wc -l)" \
    --argjson by_replica "$by" --argjson max_attempt "$attempts" \
    '{replicas: $replicas, workers: $workers, agents: $agents, completed: $completed, failed: $failed,
      stopped: $stopped, seconds: ($t1 - $t0), per_second: ($agents / ($t1 - $t0)), starts: $starts,
      distinct: $distinct, duplicates: ($starts - $distinct), by_replica: $by_replica, max_attempt: $max_attempt}'
}

rep_load_start=$(cut -d' ' -f1-3 /proc/loadavg)
rep_t0=$(date +%s)
mkdir -p "$work/replicas"
for n in "${REPLICA_COUNTS[@]}"; do rep_drain "$n"; done >"$work/replicas.jsonl"
run_facts "$rep_load_start" "$rep_t0"
jq -s "${FACTS[@]}" \
  --arg cp_build "$cp_build" --arg cp_id "$cp_id" --arg cp_name "$(binary_name "$cp_build" fracta-cp)" \
  --arg pg "$(pg_version)" \
  --argjson agents "$REPLICA_AGENTS" --argjson workers "$REPLICA_WORKERS" \
  '. as $all | $ARGS.named + {levels: $all}' "$work/replicas.jsonl" >"$work/replicas.json"
