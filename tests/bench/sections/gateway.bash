# shellcheck shell=bash disable=SC2154 # sourced by tests/bench/run, which sets the knobs and helpers
# sections/gateway.bash — j: the MCP gateway (fracta-gw) against the same
# echo server direct and behind supergateway. Sourced by tests/bench/run (a
# full run, or `tests/bench/run gateway`); leaves gw.json.
#
# A git project with a control plane (the fracta-cp above,
# 1 worker) and one agent, gw-bench, whose contract writes its
# FRACTA_GATEWAY_TOKEN to a file and idles: every gateway call carries that
# token, which fracta-gw verifies through the control plane (cached 2 s).
# The same mcp_echo binary is the backend three ways:
#   direct        mcp_echo --http: fracta's http::Server, thread per
#                 connection, as fracta-gw runs it
#   gateway       fracta-gw serve, the echo a `local:` stdio backend (one
#                 child, shared by every session)
#   supergateway  supergateway --stdio mcp_echo --outputTransport
#                 streamableHttp --stateful --logLevel none (a child per
#                 session; its stateless mode spawns one per request)
# Each round runs every concurrency level, direct and gateway (and
# supergateway at $GW_PEER_LEVEL clients) in alternating order; latencies
# are pooled over the rounds. Then a fresh fracta-gw gets $GW_SESSIONS
# sessions opened and kept, and its VmRSS is read.
# shellcheck source=sections/gw-common.bash
source "$here/sections/gw-common.bash"

gw_load_start=$(cut -d' ' -f1-3 /proc/loadavg)
gw_t0=$(date +%s)
mkdir -p "$work/gw"
gw_agent_up
gw_start "$gw_bin"
[[ $(curl -s "$gw_url/readyz" | jq -c '[.backends[] | select(.id == "echo") | .up, .tools]') == '[true,1]' ]] \
  || die "fracta-gw: the echo backend is not up with its 1 tool: $(curl -s "$gw_url/readyz")"
ready_run mcp_echo "$work/gw" "$work/mcp_echo" --http 127.0.0.1:0 --ready-fd 3
echo_pid=$ready_pid echo_url=$ready_url
sg_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
(cd "$work/gw" && exec "$supergateway" --stdio "$work/mcp_echo" --outputTransport streamableHttp --stateful \
  --port "$sg_port" --logLevel none --healthEndpoint /healthz </dev/null >>"$work/supergateway.log" 2>&1) &
sg_pid=$!
sg_url=http://127.0.0.1:$sg_port
poll_ok "$sg_url/healthz" || { tail -20 "$work/supergateway.log" >&2; die "supergateway did not answer /healthz"; }

for (( r = 1; r <= GW_ROUNDS; r++ )); do
  say "gateway: round $r of $GW_ROUNDS (clients ${GW_LEVELS[*]}: direct, fracta-gw; $GW_PEER_LEVEL: supergateway)"
  for c in "${GW_LEVELS[@]}"; do
    targets=(direct gateway)
    (( c == GW_PEER_LEVEL )) && targets+=(supergateway)
    if (( r % 2 == 0 )); then  # alternate the order between rounds
      reversed=()
      for (( i = ${#targets[@]} - 1; i >= 0; i-- )); do reversed+=("${targets[$i]}"); done
      targets=("${reversed[@]}")
    fi
    for t in "${targets[@]}"; do
      case $t in
        direct) gw_load direct "$echo_url/mcp" "$c" "$GW_CALLS" "$r" ;;
        gateway) gw_load gateway "$gw_endpoint" "$c" "$GW_CALLS" "$r" "$gw_token" echo__echo ;;
        supergateway) gw_load supergateway "$sg_url/mcp" "$c" "$GW_PEER_CALLS" "$r" ;;
      esac
    done
  done
done
gw_after_kib=$(kib_of "$gw_pid" VmRSS)
gw_stop_gateway
for p in "$echo_pid" "$sg_pid"; do kill "$p"; wait "$p" 2>/dev/null || true; done
echo_pid='' sg_pid=''

say "gateway: VmRSS of a fresh fracta-gw with $GW_SESSIONS open sessions"
gw_start "$gw_bin"
rss_before=$(kib_of "$gw_pid" VmRSS)
echo_child=$(pgrep -P "$gw_pid" -f "$work/mcp_echo" | head -1)
wait_for "$work/mcp_load" sessions --url "$gw_endpoint" --token "$gw_token" --clients 8 --sessions "$GW_SESSIONS" \
  --ids "$work/gw/ids" >"$work/gw/sessions.json" || die "opening $GW_SESSIONS sessions failed"
read -r rss_with hwm_with threads_with < <(awk '$1 == "VmRSS:" { r = $2 } $1 == "VmHWM:" { h = $2 }
  $1 == "Threads:" { t = $2 } END { print r, h, t }' "/proc/$gw_pid/status")  # one snapshot
gauge=$(curl -sf "$gw_url/metrics" | awk '$1 == "fracta_gw_sessions" { print $2 }')
echo_kib=0
[[ -n $echo_child ]] && echo_kib=$(kib_of "$echo_child" VmRSS)
wait_for "$work/mcp_load" ping --url "$gw_endpoint" --token "$gw_token" --clients 8 --ids "$work/gw/ids" \
  >"$work/gw/ping.json" || die "pinging the $GW_SESSIONS sessions failed"
gw_stop_gateway
[[ $(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$cp_url/api/v1/agents/gw-bench") == 200 ]] \
  || die "DELETE gw-bench failed"
cp_stop
gw_project=

# Pooled over the rounds: per target and concurrency level.
for f in "$work"/gw/*-c*-r1.json; do
  key=${f##*/}
  key=${key%-r1.json}
  cat "$work/gw/$key"-r*.raw | jq -s -c --arg key "$key" --slurpfile runs <(jq -s . "$work/gw/$key"-r*.json) \
    "$pct"' ($key | capture("^(?<t>.+)-c(?<c>[0-9]+)$")) as $k | $runs[0] as $r
    | {target: $k.t, clients: ($k.c | tonumber), rounds: ($r | length), calls: length,
       seconds: ($r | map(.seconds) | add), p50_us: pct(50), p90_us: pct(90), p99_us: pct(99), max_us: max,
       round_p50_us: ($r | map(.p50_us)), round_per_second: ($r | map(.per_second))}
    | .per_second = .calls / .seconds'
done >"$work/gw-levels.jsonl"
run_facts "$gw_load_start" "$gw_t0"
jq -n "${FACTS[@]}" \
  --slurpfile levels <(jq -s . "$work/gw-levels.jsonl") --slurpfile sessions "$work/gw/sessions.json" \
  --slurpfile ping "$work/gw/ping.json" \
  --arg model "$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
  --arg gw_build "$gw_build" --arg gw_id "$gw_id" --arg gw_name "$(binary_name "$gw_build" fracta-gw)" \
  --arg cp_build "$cp_build" --arg supergateway "$supergateway_version" --arg node "$(node --version)" \
  --argjson rounds "$GW_ROUNDS" --argjson calls "$GW_CALLS" --argjson peer_calls "$GW_PEER_CALLS" \
  --argjson warmup "$GW_WARMUP" --argjson peer_level "$GW_PEER_LEVEL" \
  --argjson rss_before "$rss_before" --argjson rss_with "$rss_with" --argjson hwm_with "$hwm_with" \
  --argjson threads_with "$threads_with" --argjson gauge "${gauge:-null}" --argjson echo_kib "${echo_kib:-0}" \
  --argjson after_runs_kib "$gw_after_kib" \
  --argjson added_p50_target_us "$TARGET_GW_ADDED_P50_US" --argjson peer_ratio_target "$TARGET_GW_PEER_RATIO" \
  --argjson rss_target_kib "$TARGET_GW_RSS_KIB" --argjson rss_target_sessions "$TARGET_GW_RSS_SESSIONS" \
  '$ARGS.named + {levels: $levels[0], sessions: ($sessions[0] + {alive: $ping[0].alive}),
    rss: {before_kib: $rss_before, with_sessions_kib: $rss_with, hwm_kib: $hwm_with, threads: $threads_with,
          gauge: $gauge, echo_child_kib: $echo_kib, after_runs_kib: $after_runs_kib}}
   | del(.rss_before, .rss_with, .hwm_with, .threads_with, .gauge, .echo_kib, .after_runs_kib)' >"$work/gw.json"
