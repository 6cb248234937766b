# shellcheck shell=bash disable=SC2154 # sourced by tests/bench/run, which sets the knobs and helpers
# sections/before.bash — o: the provider and the gateway before and after a
# change, in one run: `BENCH_BEFORE="DIR…" tests/bench/run before`, each DIR
# a build directory of an older commit (its bin/), against BENCH_BUILD's.
# Sourced by tests/bench/run; writes its part of RESULTS.md itself
# ($work/section.md).
#
# Every build's binaries are copied first. Provider: each build's
# fracta-spawn-local starts its own stream session (50 lines, then idle) and
# is-running, peek and status of it are timed, then start + wait of `true`
# (start-wait.c), every build's commands in the same interleaved hyperfine
# rounds. Gateway: one control plane (BENCH_BUILD's fracta-cp) with the
# gw-bench agent, and one fracta-gw of each build in front of the same echo
# backend; mcp_load at 1 and 8 clients through each, the builds' order
# alternating round by round, latencies pooled over the rounds.
read -r -a before_dirs <<<"${BENCH_BEFORE:-}"
(( ${#before_dirs[@]} > 0 )) || die "before: BENCH_BEFORE names no build directory"
bb_labels=() bb_bins=()
bb_add_build() {  # LABEL DIR: copy DIR/bin's provider and gateway binaries
  local b
  mkdir -p "$work/bb/$1"
  for b in fracta-spawn-local fracta-gw; do
    [[ -x $2/bin/$b ]] || die "before: no $2/bin/$b (build it first)"
    cp "$2/bin/$b" "$work/bb/$1/$b"
  done
  bb_labels+=("$1") bb_bins+=("$work/bb/$1")
}
bb_commit() {  # BUILD-DIR: the commit its sources were at
  local s
  s=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$1/CMakeCache.txt" 2>/dev/null)
  git -C "${s:-$1}" rev-parse --short HEAD 2>/dev/null || echo "${1##*/}"
}
for d in "${before_dirs[@]}"; do bb_add_build "$(bb_commit "$d")" "$d"; done
bb_add_build "$(bb_commit "$build_dir")" "$build_dir"
bb_load_start=$(cut -d' ' -f1-3 /proc/loadavg)
bb_t0=$(date +%s)

# ---------------------------------------------------------------- provider
mkdir -p "$FRACTA_STATE_DIR" "$work/wd"
gcc -O2 -Wall -Wextra -static -o "$work/start-wait" "$here/start-wait.c"
# shellcheck disable=SC2016 # the session's shell expands it
jq -nc --arg d "$work/wd" '{command: "for i in $(seq 50); do echo \"line $i of the bench session\"; done; exec sleep 600",
  work_dir: $d, mode: "stream"}' >"$work/stream.json"
jq -nc --arg d "$work/wd" '{command: "true", work_dir: $d}' >"$work/true.json"
for i in "${!bb_labels[@]}"; do
  sl=${bb_bins[$i]}/fracta-spawn-local name=bb-${bb_labels[$i]}
  # shellcheck disable=SC2034 # the clean-up stops what is left with it
  sl_main=$sl
  "$sl" start "$name" <"$work/stream.json" || die "before: ${bb_labels[$i]}: start failed"
  for (( t = 0; ; t++ )); do
    [[ $("$sl" peek "$name" 1) == "line 50 of"* ]] && break
    (( t < 200 )) || die "before: ${bb_labels[$i]}: the session did not print its 50 lines within 10 s"
    sleep 0.05
  done
  "$work/start-wait" "$work/bb-count" "$work/true.json" bb-check "$sl" \
    | jq -e '.state == "exited" and .exit_code == 0' >/dev/null || die "before: ${bb_labels[$i]}: start + wait failed"
  add "bb.is-running.${bb_labels[$i]}" "$sl is-running $name"
  add "bb.peek.${bb_labels[$i]}" "$sl peek $name 50"
  add "bb.status.${bb_labels[$i]}" "$sl status $name"
done
rounds bb-ops "$RUNS" "$WARMUP"
bb_tidy() {  # the ended start + wait sessions
  local d
  for d in "$FRACTA_STATE_DIR"/bb-sw-*; do [[ -d $d ]] && rm -rf "$d"; done
  return 0
}
for i in "${!bb_labels[@]}"; do
  add "bb.start-wait.${bb_labels[$i]}" "$work/start-wait $work/bb-count $work/true.json bb-sw-$i ${bb_bins[$i]}/fracta-spawn-local"
done
rounds bb-startwait "$START_RUNS" 2 bb_tidy
for i in "${!bb_labels[@]}"; do
  "${bb_bins[$i]}/fracta-spawn-local" stop "bb-${bb_labels[$i]}" >/dev/null || die "before: stop failed"
done

# ---------------------------------------------------------------- gateway
# shellcheck source=sections/gw-common.bash
source "$here/sections/gw-common.bash"
mkdir -p "$work/gw"
gw_agent_up
bb_gw_pids=() bb_gw_urls=()
bb_gw_stop() {
  local p
  for p in "${bb_gw_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  bb_gw_pids=()
}
cleanup_hooks=(bb_gw_stop "${cleanup_hooks[@]}")
for i in "${!bb_labels[@]}"; do
  gw_start "${bb_bins[$i]}/fracta-gw"
  bb_gw_pids+=("$gw_pid") bb_gw_urls+=("$gw_endpoint")
  gw_pid=
done
for (( r = 1; r <= GW_ROUNDS; r++ )); do
  say "before: gateway round $r of $GW_ROUNDS (clients 1 and 8; ${bb_labels[*]})"
  order=("${!bb_labels[@]}")
  (( r % 2 == 0 )) && mapfile -t order < <(printf '%s\n' "${order[@]}" | tac)
  for c in 1 8; do
    for i in "${order[@]}"; do
      gw_load "gw-${bb_labels[$i]}" "${bb_gw_urls[$i]}" "$c" "$GW_CALLS" "$r" "$gw_token" echo__echo
    done
  done
done
bb_gw_stop
cp_stop
[[ -d $gw_project/.fracta/sessions ]] && FRACTA_STATE_DIR=$gw_project/.fracta/sessions "$gw_sl" stop gw-bench >/dev/null 2>&1
gw_project=

# ---------------------------------------------------------------- report
# One table: every measure of every build, its ratio to the last build's
# (this checkout's; > 1: the older build is slower).
run_facts "$bb_load_start" "$bb_t0"
{
  jq -s -c '[.[].results[]] | group_by(.command)[]
    | {measure: (.[0].command | sub("^bb\\.(?<m>.+)\\.[^.]+$"; "\(.m) (ms, median)")),
       build: (.[0].command | sub("^.*\\."; "")), value: ([.[].times[]] | sort | .[length / 2 | floor] * 1000)}' \
    "$work"/hyperfine-bb-*.json
  for f in "$work"/gw/gw-*-c*-r1.json; do
    key=${f##*/} key=${key%-r1.json}
    cat "$work/gw/$key"-r*.raw | jq -s -c --arg key "$key" --slurpfile runs <(jq -s . "$work/gw/$key"-r*.json) \
      "$pct"' ($key | capture("^gw-(?<b>.+)-c(?<c>[0-9]+)$")) as $k
      | {measure: "gateway call, \($k.c) client\(if $k.c == "1" then "" else "s" end), p50 (µs)", build: $k.b, value: pct(50)},
        {measure: "gateway call, \($k.c) client\(if $k.c == "1" then "" else "s" end), p99 (µs)", build: $k.b, value: pct(99)},
        {measure: "gateway, \($k.c) client\(if $k.c == "1" then "" else "s" end), calls/s", build: $k.b,
         value: (length / ($runs[0] | map(.seconds) | add))}'
  done
} >"$work/bb.jsonl"
jq -n -r "${FACTS[@]}" --args --slurpfile rows "$work/bb.jsonl" '
  $ARGS.positional as $builds | ($builds[-1]) as $now
  | ($rows | group_by(.measure)) as $groups
  | "<!-- before -->",
    "## o. Before and after (`BENCH_BEFORE=… tests/bench/run before`)", "",
    "Run \($ARGS.named.date), load \($ARGS.named.load_start) → \($ARGS.named.load_end), \($ARGS.named.nproc) CPUs, \($ARGS.named.seconds) s; the dynamic builds of \($builds | map("`" + . + "`") | join(", ")) (the last is this checkout).", "",
    "Method: every build'"'"'s binaries measured in the same run, interleaved: the provider ops (fracta-spawn-local on a stream session of its own build: 50 lines, then idle; start + wait of `true` through `start-wait.c`) in the same hyperfine rounds (order alternating, runs pooled, medians); the gateway (one fracta-cp of this checkout with the gw-bench agent, one fracta-gw per build in front of the same stdio echo backend, `mcp_load` with the agent'"'"'s token) at 1 and 8 clients, the builds alternating round by round, latencies pooled over the rounds. Ratio: the older build'"'"'s value over this checkout'"'"'s (calls/s: this checkout'"'"'s over the older'"'"'s), so above 1 means this checkout is faster.", "",
    "| measure | " + ($builds | join(" | ")) + " | " + ($builds[:-1] | map(. + " / " + $now) | join(" | ")) + " |",
    "|---|" + ($builds | map("---:") | join("|")) + "|" + ($builds[:-1] | map("---:") | join("|")) + "|",
    ($groups[] | (map({key: .build, value: .value}) | from_entries) as $v | .[0].measure as $m
      | "| \($m) | " + ($builds | map($v[.] | if . == null then "—" elif . >= 100 then (. | round | tostring) else ((. * 100 | round) / 100 | tostring) end) | join(" | "))
        + " | " + ($builds[:-1] | map(if $v[.] == null or $v[$now] == null then "—"
            elif ($m | test("calls/s")) then (($v[$now] / $v[.]) * 100 | round / 100 | tostring)
            else (($v[.] / $v[$now]) * 100 | round / 100 | tostring) end) | join(" | ")) + " |"),
    "<!-- /before -->"' "${bb_labels[@]}" >"$work/section.md"
