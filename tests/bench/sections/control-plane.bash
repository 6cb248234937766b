# shellcheck shell=bash disable=SC2154 # sourced by tests/bench/run, which sets the knobs and helpers
# sections/control-plane.bash — i: fracta-cp queueing (POST /api/v1/agents),
# spawn → Running, and draining a queue. Sourced by tests/bench/run in a full
# run; leaves cp-post.jsonl, cp-spawn.jsonl and cp-drain.jsonl.

# POST /api/v1/agents with no workers, between two GET /healthz runs of the
# same shape against the same process (pooled: the baseline).
cp_post() {  # STORE-NAME DIR [POSTGRES-DSN] → one JSON line
  local name=$1 dir=$2 tag=${1,,} queued hwm
  cp_project "$dir" git "${3:-}"
  cp_run "$dir" 0
  say "control plane, $name: POST /api/v1/agents, $CP_THREADS threads × $CP_REQUESTS, between two GET /healthz runs"
  post_load --mode healthz --count "$CP_REQUESTS" --warmup "$CP_POST_WARMUP" --raw "$work/cp-$tag-h1.raw" \
    >"$work/cp-$tag-h1.json" || die "post_load healthz ($name) failed"
  post_load --mode post --count "$CP_REQUESTS" --warmup "$CP_POST_WARMUP" --prefix b --contract true \
    >"$work/cp-$tag-post.json" || die "post_load post ($name) failed"
  post_load --mode healthz --count "$CP_REQUESTS" --warmup "$CP_POST_WARMUP" --raw "$work/cp-$tag-h2.raw" \
    >"$work/cp-$tag-h2.json" || die "post_load healthz ($name) failed"
  queued=$(cp_counts | cut -d' ' -f4)
  (( queued == CP_THREADS * (CP_REQUESTS + CP_POST_WARMUP) )) \
    || die "$name: $queued agents Queued after $(( CP_THREADS * (CP_REQUESTS + CP_POST_WARMUP) )) POSTs"
  hwm=$(cp_kib VmHWM)
  cp_stop
  jq -nc --arg store "$name" --argjson hwm "$hwm" --argjson queued "$queued" \
    --slurpfile post "$work/cp-$tag-post.json" --slurpfile h "$work/cp-$tag-h1.json" --slurpfile h2 "$work/cp-$tag-h2.json" \
    --slurpfile raw <(cat "$work/cp-$tag-h1.raw" "$work/cp-$tag-h2.raw" | jq -s .) \
    "$pct"' ($h + $h2) as $hs
    | {store: $store, queued: $queued, hwm_kib: $hwm, post: $post[0],
       healthz: ({runs: 2, requests: ($hs | map(.requests) | add), seconds: ($hs | map(.seconds) | add),
                  p50_ms: ($raw[0] | pct(50)), p99_ms: ($raw[0] | pct(99))}
                 | .per_second = .requests / .seconds)}'
}

# spawn → Running: sequential agents of `sleep 0.2` (each waited for), the
# time between the lifecycle.queued and lifecycle.running events the control
# plane stamped. Two warm-up agents first, not counted.
cp_spawn() {  # git|plain DIR → one JSON line
  local kind=$1 dir=$2 name names=() i
  cp_project "$dir" "$kind"
  cp_run "$dir" "$CP_WORKERS"
  say "control plane, $kind project: spawn → Running of $CP_SPAWNS sequential agents ($CP_WORKERS workers)"
  for (( i = 1; i <= CP_SPAWNS + 2; i++ )); do
    name=s-$i
    (( i <= 2 )) && name=warm-$i
    curl -sf -X POST -H 'Content-Type: application/json' --data-binary "{\"task\":\"$name\",\"contract\":\"sleep 0.2\"}" \
      "$cp_url/api/v1/agents" >/dev/null || die "POST $name failed"
    [[ $(curl -sf "$cp_url/api/v1/agents/$name/wait?timeout=60s" | jq -r .status) == Completed ]] \
      || die "agent $name did not complete: $(curl -s "$cp_url/api/v1/agents/$name")"
    (( i > 2 )) && names+=("$name")
  done
  for name in "${names[@]}"; do
    curl -sf "$cp_url/api/v1/agents/$name/events" \
      | jq -c --arg name "$name" '
        def secs: capture("^(?<s>[^.]+?)(\\.(?<f>[0-9]+))?Z$") | {s: (.s + "Z" | fromdateiso8601), f: ("0." + (.f // "0") | tonumber)};
        [.events[] | select(.type == "lifecycle.queued")][0].ts as $q
        | [.events[] | select(.type == "lifecycle.running")][0].ts as $r
        | if $q == null or $r == null then error("\($name): no lifecycle.queued or lifecycle.running event") else . end
        | ($q | secs) as $q | ($r | secs) as $r
        | {name: $name, ms: (((($r.s - $q.s) + ($r.f - $q.f)) * 1000))}'
  done >"$work/cp-spawn-$kind.jsonl"
  [[ $(wc -l <"$work/cp-spawn-$kind.jsonl") == "${#names[@]}" ]] || die "reading the events of the $kind project failed"
  cp_stop
  jq -sc --arg kind "$kind" "$pct"' map(.ms) as $ms
    | {project: $kind, agents: length, p50_ms: ($ms | pct(50)), p90_ms: ($ms | pct(90)), p99_ms: ($ms | pct(99)),
       min_ms: ($ms | min), max_ms: ($ms | max)}' "$work/cp-spawn-$kind.jsonl"
}

# Drain: $CP_DRAIN agents of `true` queued by a fracta-cp with no workers;
# then a fresh fracta-cp with $CP_WORKERS workers, timed from its start until
# all of them have ended (polled on /metrics every 0.1 s; the list of
# Completed agents is checked at the end). Its peak RSS is read just before it
# is stopped.
cp_drain() {  # git|plain DIR → one JSON line
  local kind=$1 dir=$2 c f s t1 hwm rss listed marks=()
  cp_project "$dir" "$kind"
  cp_run "$dir" 0
  post_load --threads 1 --mode post --count "$CP_DRAIN" --warmup 0 --prefix d --contract true >/dev/null \
    || die "queueing $CP_DRAIN agents failed"
  cp_stop
  say "control plane, $kind project: draining $CP_DRAIN queued agents of \`true\` with $CP_WORKERS workers"
  cp_run "$dir" "$CP_WORKERS"
  drain_until "$CP_DRAIN" "$cp_t0" "$CP_DRAIN_TIMEOUT" BENCH_CP_DRAIN_TIMEOUT 0.1 cp_counts
  hwm=$(cp_kib VmHWM)
  rss=$(cp_kib VmRSS)
  listed=$(curl -sf "$cp_url/api/v1/agents?status=Completed" | jq '.agents | length') || die "GET /api/v1/agents failed"
  curl -sf "$cp_url/api/v1/agents?status=Failed" | jq -c '[.agents[] | {name, reason}]' >"$work/cp-failed.json" \
    || die "GET /api/v1/agents?status=Failed failed"
  cp_stop
  jq -nc --arg kind "$kind" --argjson n "$CP_DRAIN" --argjson c "$c" --argjson f "$f" --argjson s "$s" \
    --argjson listed "$listed" --argjson t0 "$cp_t0" --argjson t1 "$t1" --argjson hwm "$hwm" --argjson rss "$rss" \
    --slurpfile failed "$work/cp-failed.json" --argjson marks "[$(IFS=,; echo "${marks[*]}")]" \
    '{project: $kind, agents: $n, completed: $c, failed: $f, stopped: $s, listed_completed: $listed,
      seconds: ($t1 - $t0), per_second: ($n / ($t1 - $t0)), hwm_kib: $hwm, rss_kib: $rss,
      quarters_s: ($marks | map(. - $t0)), failed_examples: $failed[0][:3]}'
}


cp_pg_dsn=$(pg_database cpbench)
{
  cp_post sqlite "$work/cp/post-sqlite"
  cp_post Postgres "$work/cp/post-pg" "$cp_pg_dsn"
} >"$work/cp-post.jsonl"
{
  cp_spawn git "$work/cp/spawn-git"
  cp_spawn plain "$work/cp/spawn-plain"
} >"$work/cp-spawn.jsonl"
{
  cp_drain git "$work/cp/drain-git"
  cp_drain plain "$work/cp/drain-plain"
} >"$work/cp-drain.jsonl"
