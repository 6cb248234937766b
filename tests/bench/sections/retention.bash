# shellcheck shell=bash disable=SC2154 # sourced by tests/bench/run, which sets the knobs and helpers
# sections/retention.bash — p: the event log under events.retention.
# tests/bench/retention_fill writes $RETENTION_EVENTS events, one transaction
# each, with retention $RETENTION_KEEP, on sqlite (a file of its own) and on
# the bench's Postgres (a fresh database), sampling the rows and the store's
# size every tenth; then a watcher inside the window must see every seq and
# one behind it must get the expired error — from the library, and from
# `fracta-events watch 1` (the documented exit 1 and stderr line). Sourced by
# tests/bench/run (`tests/bench/run retention`); leaves retention.json.

ret_load_start=$(cut -d' ' -f1-3 /proc/loadavg)
ret_t0=$(date +%s)
: >"$work/retention.jsonl"
ret_stores=(sqlite postgres)
[[ $RETENTION_PG_EVENTS == 0 ]] && ret_stores=(sqlite)
for store in "${ret_stores[@]}"; do
  n=$RETENTION_EVENTS
  if [[ $store == sqlite ]]; then
    url="sqlite://$work/retention.db"
  else
    n=$RETENTION_PG_EVENTS
    url=$(pg_database retentionbench)
  fi
  say "retention: $n events with events.retention $RETENTION_KEEP on $store"
  t=$(date +%s)
  wait_for "$work/retention_fill" --url "$url" --events "$n" --retention "$RETENTION_KEEP" >"$work/retention-$store.jsonl" \
    || die "retention_fill on $store failed"
  # the binary's answer to a watcher behind the window
  rc=0
  FRACTA_EVENTS_STORE=$url "$dyn" watch 1 >/dev/null 2>"$work/retention-watch.err" </dev/null || rc=$?
  jq -s -c --arg store "$store" --argjson events "$n" --argjson seconds "$(( $(date +%s) - t ))" \
    --argjson cli_rc "$rc" --arg cli_err "$(head -c 2000 "$work/retention-watch.err")" \
    '{store: $store, events: $events, seconds: $seconds, samples: map(select(.kind == "sample")),
      watch: (map(select(.kind == "watch")) | .[0]), cli_watch: {status: $cli_rc, stderr: $cli_err}}' \
    "$work/retention-$store.jsonl" >>"$work/retention.jsonl"
  [[ $store == sqlite ]] && rm -f "$work"/retention.db*
done
run_facts "$ret_load_start" "$ret_t0"
jq -s "${FACTS[@]}" --arg pg "$(pg_version)" --arg sqlite "$(sqlite3 --version | cut -d' ' -f1)" \
  --argjson keep "$RETENTION_KEEP" --argjson bytes_target "$TARGET_RETENTION_BYTES" \
  --argjson growth_target "$TARGET_RETENTION_GROWTH" --arg events_name "$build_name/bin/fracta-events" \
  '. as $all | $ARGS.named + {stores: $all}' "$work/retention.jsonl" >"$work/retention.json"
