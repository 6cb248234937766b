# shellcheck shell=bash disable=SC2154 # sourced by tests/bench/run, which sets the knobs and helpers
# sections/events.bash — a–e: fracta-events against /bin/true and the naive
# shell provider, watch latency, and the static binaries' sizes. Sourced by
# tests/bench/run in a full run; leaves hyperfine-events-*.json, watch.jsonl,
# sizes.jsonl and sqlite_after (the sqlite store after the timing runs).


sqlite_db=$work/sqlite/events.db
sqlite_url=sqlite:$sqlite_db
naive_file=$work/naive/events.jsonl
export NAIVE_EVENTS_FILE=$naive_file
naive=$here/naive-events.sh
mkdir -p "$work/naive"

# The builds to measure: name → binary. The preferred one (static when there
# is one) also serves the set-up.
builds=(dynamic)
$have_static && builds=(static dynamic)
bin_of() { if [[ $1 == static ]]; then echo "$static"; else echo "$dyn"; fi; }
main_bin=$(bin_of "${builds[0]}")

# Fill a store with $EVENTS varied events, four recorders at a time (records
# are safe concurrently; seq stays gapless, which we check).
fill() {
  local url=$1
  "$main_bin" --store "$url" ensure-running
  # shellcheck disable=SC2016 # the script runs in sh, with its own $1..$3
  seq "$EVENTS" | xargs -P 4 -n 1 sh -c '
    n=$3
    case $((n % 3)) in 0) t=lifecycle.started ;; 1) t=worker.claim ;; *) t=gateway.proxy_call ;; esac
    printf "{\"type\":\"%s\",\"actor\":\"bench\",\"subject\":\"task-%d\",\"message\":\"prep event %d\",\"payload\":{\"category\":\"bench\",\"outcome\":\"ok\",\"n\":%d}}" \
      "$t" $((n % 37)) "$n" "$n" | "$1" --store "$2" record' sh "$main_bin" "$url"
  local latest
  latest=$("$main_bin" --store "$url" latest-seq)
  [[ $latest == "$EVENTS" ]] || die "store $url: latest-seq is $latest after $EVENTS records"
}
say "filling the sqlite and Postgres stores with $EVENTS events each"
wait_for fill "$sqlite_url" || die "could not fill the sqlite store"
wait_for fill "$PG_URL" || die "could not fill the Postgres store"
# The naive store holds the same events, one JSON object per line.
"$main_bin" --store "$sqlite_url" list </dev/null | jq -c '.[]' >"$naive_file"
[[ $(wc -l <"$naive_file") == "$EVENTS" ]] || die "naive store: expected $EVENTS lines"

# The event record is timed with: small, no ts, no trailing newline.
event=$work/event.json
printf '%s' '{"type":"bench.record","actor":"bench","subject":"task-1","message":"a small event","payload":{"category":"bench","outcome":"ok"}}' >"$event"

# ---------------------------------------------------------------- a, b, c
add true "/bin/true"
add stdin-exec.true "$se $event /bin/true"
for b in "${builds[@]}"; do
  bin=$(bin_of "$b")
  add "latest.sqlite.$b" "$bin --store $sqlite_url latest-seq"
  add "record.sqlite.$b" "$se $event $bin --store $sqlite_url record"
  add "latest.pg.$b" "$bin --store $PG_URL latest-seq"
  add "record.pg.$b" "$se $event $bin --store $PG_URL record"
done
add latest.naive "$naive latest-seq"
add record.naive "$se $event $naive record"

rounds events "$RUNS" "$WARMUP"

# The sqlite store after the timing runs: its size tells whether short-lived
# processes leave it in a state that makes the next ones slower (a growing WAL).
# shellcheck disable=SC2034 # the report reads it
sqlite_after=$(jq -nc --argjson events "$("$main_bin" --store "$sqlite_url" latest-seq)" \
  --argjson db "$(stat -c %s "$sqlite_db")" --argjson wal "$(stat -c %s "$sqlite_db-wal" 2>/dev/null || echo 0)" \
  '{events: $events, db: $db, wal: $wal}')

# ---------------------------------------------------------------- d
watch_json() {  # store-name url build → one JSON line
  local bin
  bin=$(bin_of "$3")
  say "watch latency: $1, $3 build, $WATCH_EVENTS events ${WATCH_INTERVAL_MS} ms apart"
  wait_for "$work/watch_latency" --bin "$bin" --store "$2" --events "$WATCH_EVENTS" \
    --interval-ms "$WATCH_INTERVAL_MS" >"$work/watch-one.json" || die "watch latency: $1, $3 build failed"
  jq -c --arg store "$1" --arg build "$3" '. + {store: $store, build: $build}' "$work/watch-one.json"
}
: >"$work/watch.jsonl"
for b in "${builds[@]}"; do
  watch_json sqlite "$sqlite_url" "$b" >>"$work/watch.jsonl"
  watch_json Postgres "$PG_URL" "$b" >>"$work/watch.jsonl"
done

# ---------------------------------------------------------------- e
# shellcheck disable=SC1091 # followed when run checks it (source=sections/sizes.bash there)
source "$here/sections/sizes.bash"
