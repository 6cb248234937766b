# shellcheck shell=bash disable=SC2154 # sourced by tests/bench/run, which sets the knobs and helpers
# sections/reap.bash — k: one fracta-reap pass over $REAP_AGENTS ended agents,
# on sqlite and on the bench's Postgres. Sourced by tests/bench/run (a full
# run, or `tests/bench/run reap`); leaves reap.json.
#
# tests/bench/reap-pass does one measurement: a fresh store of N Completed
# agents (a tenth ended two hours ago, past reaper.keep_terminal: 1h; the
# rest five minutes ago), then a dry run, the pass that removes the tenth,
# and a second pass with nothing left to remove. $REAP_RUNS measurements per
# store, alternating the stores; each on a fresh store (a Postgres database
# of its own).

command -v sqlite3 >/dev/null || die "sqlite3 not found (run 'make deps')"
REAP_RUNS=3
reap_load_start=$(cut -d' ' -f1-3 /proc/loadavg)
reap_t0=$(date +%s)
: >"$work/reap.jsonl"
for (( r = 1; r <= REAP_RUNS; r++ )); do
  say "reap: a pass over $REAP_AGENTS agents, sqlite and Postgres, run $r of $REAP_RUNS"
  wait_for "$here/reap-pass" "$work/bin/$reap_build" sqlite "$REAP_AGENTS" >>"$work/reap.jsonl" \
    || die "reap-pass on sqlite failed"
  wait_for "$here/reap-pass" "$work/bin/$reap_build" postgres "$REAP_AGENTS" "$(pg_database "reapbench$r")" \
    >>"$work/reap.jsonl" || die "reap-pass on Postgres failed"
done
run_facts "$reap_load_start" "$reap_t0"
jq -s "${FACTS[@]}" \
  --arg reap_build "$reap_build" --arg reap_id "$reap_id" --arg reap_name "$(binary_name "$reap_build" fracta-reap)" \
  --arg pg "$(pg_version)" \
  --arg sqlite "$(sqlite3 --version | cut -d' ' -f1)" \
  --argjson agents "$REAP_AGENTS" --argjson runs "$REAP_RUNS" \
  --argjson pass_target_ms "$TARGET_REAP_PASS_MS" --argjson target_agents "$TARGET_REAP_AGENTS" \
  '. as $all | $ARGS.named + {measurements: $all}' "$work/reap.jsonl" >"$work/reap.json"
