# shellcheck shell=bash disable=SC2154 # sourced by tests/bench/run, which sets the knobs and helpers
# sections/agents.bash — n: real Claude Code agents under fracta, their model
# the scripted model server (tests/model/server.mjs), no API key. Sourced by
# tests/bench/run (a full run, or `tests/bench/run agents`); leaves
# agents.json.
#
# One project made by `fracta init --scaffold local`, its claude runtime the
# CLI pinned in tests/package.json pointed at the model server (base_url, a
# dummy key in secret_env), served by one `fracta-cp run --gateway` with
# $AGENT_CONCURRENT workers. Every model call is answered "Done." at once, so
# an agent is one turn: what is left is the CLI's own start and fracta's.
#
#   overhead     $AGENT_RUNS rounds, each timing (wall clock, in alternating
#                order) `fracta spawn T --wait` of a one-turn agent and the
#                same `claude -p` run directly in a clone of the project
#                (the flags fracta gives it, less the MCP server and the
#                settings file only fracta has), after one untimed round.
#   concurrent   $AGENT_CONCURRENT agents spawned at once (`fracta spawn`, one
#                after another in the background), then each waited for:
#                how many Completed, spawn → the agent's first model call
#                (the model server's arrival time of the first request of
#                the agent's conversation, against the time taken just
#                before its `fracta spawn` started), and the RSS of fracta's
#                own processes (fracta-cp, fracta-gw, the supervisors, the
#                front door, fracta-reap; not the CLIs), sampled every 0.1 s.

ag_cli=$root/tests/node_modules/.bin/claude
[[ -x $ag_cli ]] || die "no $ag_cli (run 'make deps')"
ag_claude_version=$(jq -r .version "$root/tests/node_modules/@anthropic-ai/claude-code/package.json")
# The binaries: the static build's when it has them all, else the dynamic
# build's; copies taken now, side by side (the front door finds fracta-cp,
# fracta-cp its gateway and fracta-spawn-local, beside themselves).
ag_build=dynamic ag_src=$build_dir/bin
if [[ -x $static_dir/bin/fracta && -x $static_dir/bin/fracta-cp && -x $static_dir/bin/fracta-gw &&
      -x $static_dir/bin/fracta-spawn-local ]]; then
  ag_build=static ag_src=$static_dir/bin
fi
ag_dir=$work/agents
ag_bin=$ag_dir/bin
mkdir -p "$ag_bin" "$ag_dir/home"
cp "$ag_src"/fracta "$ag_src"/fracta-* "$ag_bin/"
ag_exes=("$ag_bin"/fracta "$ag_bin"/fracta-*)
ag_load_start=$(cut -d' ' -f1-3 /proc/loadavg)
ag_t0=$(date +%s)
ag_model_pid='' ag_cp_pid='' ag_sampler_pid=''
ag_stop_all() {  # the clean-up's part
  local p
  for p in "$ag_sampler_pid" "$ag_cp_pid" "$ag_model_pid"; do
    [[ -n $p ]] && { kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; }
  done
  ag_sampler_pid='' ag_cp_pid='' ag_model_pid=''
  if [[ -d $ag_dir/project/.fracta/sessions ]]; then
    export FRACTA_STATE_DIR=$ag_dir/project/.fracta/sessions
    "$ag_bin/fracta-spawn-local" list-running </dev/null | xargs -r -n 1 "$ag_bin/fracta-spawn-local" stop >/dev/null 2>&1
    export FRACTA_STATE_DIR=$work/sessions
  fi
}
cleanup_hooks+=(ag_stop_all)

# The model: the concurrent agents' conversations by task name (for their
# first call), everything else (the overhead runs, side queries) the
# fallback; all one turn, "Done.".
ag_task() { printf 'bench-c-%02d' "$1"; }
for (( i = 1; i <= AGENT_CONCURRENT; i++ )); do ag_task "$i"; echo; done |
  jq -R -s 'split("\n") | map(select(. != "") | {match: ., turns: [{text: "Done."}]})
    | {conversations: ., fallback: {text: "Done."}}' >"$ag_dir/script.json"
node "$root/tests/model/server.mjs" --script "$ag_dir/script.json" --log "$ag_dir/model.log" \
  --ready-file "$ag_dir/model.ready" </dev/null >>"$ag_dir/model.stderr" 2>&1 &
ag_model_pid=$!
for (( i = 0; i < 300; i++ )); do
  [[ -s $ag_dir/model.ready ]] && break
  kill -0 "$ag_model_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -s $ag_dir/model.ready ]] || { cat "$ag_dir/model.stderr" >&2; die "the model server did not start"; }
ag_model_url=$(<"$ag_dir/model.ready")

# The project: a git repository on main, scaffolded; the claude runtime
# pointed at the model; the control plane's workers and listen addresses.
ag_p=$ag_dir/project
git init -q -b main "$ag_p"
for i in $(seq 20); do echo "file $i" >"$ag_p/file-$i.txt"; done
git -C "$ag_p" add -A
(cd "$ag_p" && "$ag_bin/fracta" init --scaffold local >/dev/null) || die "fracta init failed"
ag_runtime="    claude:\n      base_url: \"$ag_model_url\"\n      secret_env: {ANTHROPIC_API_KEY: sk-ant-bench-not-a-real-key}"
ag_runtime+="\n      env: {HOME: \"$ag_dir/home\", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: \"1\"}"
sed -i -e 's|listen: "127.0.0.1:9090"|listen: "127.0.0.1:0"|' -e 's|^  listen: "127.0.0.1:8080"$|  listen: "127.0.0.1:0"|' \
  -e 's|^  url: "http://127.0.0.1:8080"$|  url: ""|' -e '/^    claude: {submit_keys: .*}$/d' \
  -e "s|^  agent_runtimes:\$|  agent_runtimes:\n$ag_runtime|" "$ag_p/fracta.yaml"
{ grep -q '^      base_url: ' "$ag_p/fracta.yaml" && grep -q '^  url: ""$' "$ag_p/fracta.yaml"; } \
  || die "the scaffold's fracta.yaml did not take the bench's settings: $(cat "$ag_p/fracta.yaml")"
git -C "$ag_p" add -A
git -C "$ag_p" -c user.name=bench -c user.email=bench@localhost -c commit.gpgsign=false commit -q -m "bench project"
git clone -q "$ag_p" "$ag_dir/direct"
ag_state=$ag_p/.fracta/sessions
ready_run agents-cp "$ag_p" env FRACTA_STATE_DIR="$ag_state" PATH="${ag_cli%/*}:$PATH" "$ag_bin/fracta-cp" run --listen 127.0.0.1:0 --ready-fd 3 --gateway \
  --workers "$AGENT_CONCURRENT" --drain-timeout 10s
ag_cp_pid=$ready_pid
export FRACTA_CP_URL=$ready_url
ag_front() { (cd "$ag_p" && FRACTA_STATE_DIR=$ag_state exec "$ag_bin/fracta" "$@"); }

# ---------------------------------------------------------------- overhead
# The same CLI run directly: the environment and flags fracta gives it
# (lib/runtime/claude.cc), without fracta's MCP server and settings file.
ag_direct() {  # TASK: one run; fails unless it answers "Done."
  (cd "$ag_dir/direct" && exec env HOME="$ag_dir/home" ANTHROPIC_BASE_URL="$ag_model_url" \
    ANTHROPIC_API_KEY=sk-ant-bench-not-a-real-key CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
    DISABLE_AUTOUPDATER=1 ENABLE_TOOL_SEARCH=false \
    "$ag_cli" -p "Work on task $1." --output-format json --permission-mode acceptEdits --permission-prompts none \
    --setting-sources project --strict-mcp-config) </dev/null >"$ag_dir/direct.out" 2>&1 \
    && jq -e '.result == "Done." and .is_error == false' "$ag_dir/direct.out" >/dev/null
}
ag_fracta() {  # TASK: fracta spawn --wait; fails unless the agent Completed
  ag_front spawn "$1" --contract "Work on task $1." --wait </dev/null >"$ag_dir/fracta.out" 2>&1 \
    && jq -se 'last | .status == "Completed"' "$ag_dir/fracta.out" >/dev/null
}
ag_time() {  # KIND TASK: prints the wall time in ms of one run
  local t0 t1
  t0=$(now)
  "ag_$1" "$2" || { cat "$ag_dir/$1.out" >&2; return 1; }
  t1=$(now)
  jq -n --argjson a "$t0" --argjson b "$t1" '($b - $a) * 1000 | round'
}
say "agents: fracta spawn --wait of a one-turn claude agent vs claude -p directly, $AGENT_RUNS rounds (+1 untimed)"
: >"$ag_dir/overhead.jsonl"
for (( r = 0; r <= AGENT_RUNS; r++ )); do
  if (( r % 2 == 0 )); then order=(direct fracta); else order=(fracta direct); fi
  for kind in "${order[@]}"; do
    ms=$(ag_time "$kind" "bench-o-$r") || die "agents: the $kind run of bench-o-$r failed"
    (( r == 0 )) || jq -nc --arg kind "$kind" --argjson ms "$ms" '{kind: $kind, ms: $ms}' >>"$ag_dir/overhead.jsonl"
  done
done

# ---------------------------------------------------------------- concurrent
# RSS of fracta's own processes: every process running one of the copies in
# $ag_bin (the exe compared by inode, so nothing else on the machine counts).
# One line per tick: total KiB, processes, then BINARY=KiB/processes each.
ag_sample() {
  local pid comm exe kind rss line key value
  local -A by count
  while [[ ! -e $ag_dir/sampler.stop ]]; do
    by=() count=() rss=0
    local n=0 total=0
    for pid in /proc/[0-9]*; do
      { read -r comm <"$pid/comm"; } 2>/dev/null || continue
      [[ $comm == fracta* ]] || continue
      kind=
      for exe in "${ag_exes[@]}"; do
        [[ $pid/exe -ef $exe ]] && { kind=${exe##*/}; break; }
      done
      [[ -n $kind ]] || continue
      rss=0
      { while read -r key value line; do
          [[ $key == VmRSS: ]] && { rss=$value; break; }
        done <"$pid/status"; } 2>/dev/null
      (( rss > 0 )) || continue
      [[ -v by[$kind] ]] || by[$kind]=0 count[$kind]=0
      (( n += 1, total += rss, by[$kind] += rss, count[$kind] += 1 ))
    done
    line="$total $n"
    for kind in "${!by[@]}"; do line+=" $kind=${by[$kind]}/${count[$kind]}"; done
    echo "$line"
    sleep 0.1
  done
}
say "agents: $AGENT_CONCURRENT claude agents at once, $AGENT_CONCURRENT workers"
rm -f "$ag_dir/sampler.stop"
ag_sample >"$ag_dir/rss.samples" &
ag_sampler_pid=$!
: >"$ag_dir/spawned.jsonl"
ag_c0=$(now)
ag_spawns=()
for (( i = 1; i <= AGENT_CONCURRENT; i++ )); do
  task=$(ag_task "$i")
  jq -nc --arg task "$task" --argjson t "$(now)" '{task: $task, spawned: $t}' >>"$ag_dir/spawned.jsonl"
  ag_front spawn "$task" --contract "Work on task $task." </dev/null >"$ag_dir/spawn-$task.out" 2>&1 &
  ag_spawns+=($!)
done
for i in "${!ag_spawns[@]}"; do
  wait "${ag_spawns[$i]}" || { cat "$ag_dir/spawn-$(ag_task $(( i + 1 ))).out" >&2; die "agents: fracta spawn $(ag_task $(( i + 1 ))) failed"; }
done
: >"$ag_dir/ended.jsonl"
for (( i = 1; i <= AGENT_CONCURRENT; i++ )); do
  task=$(ag_task "$i")
  wait_for ag_front wait "$task" --timeout "${AGENT_TIMEOUT}s" </dev/null >"$ag_dir/wait.out" 2>&1 || true
  ag_front get "$task" </dev/null | jq -c '{task: .agent.task, status: .agent.status, reason: (.agent.reason // "")}' \
    >>"$ag_dir/ended.jsonl" || die "agents: fracta get $task failed"
done
ag_wall=$(jq -n --argjson a "$ag_c0" --argjson b "$(now)" '$b - $a')
touch "$ag_dir/sampler.stop"
wait "$ag_sampler_pid"
ag_sampler_pid=
ag_cp_hwm=$(kib_of "$ag_cp_pid" VmHWM)
ag_gw_pid=$(pgrep -P "$ag_cp_pid" -x fracta-gw | head -1) || true
ag_gw_hwm=$([[ -n $ag_gw_pid ]] && kib_of "$ag_gw_pid" VmHWM || echo null)
kill -TERM "$ag_cp_pid"
wait "$ag_cp_pid" || die "fracta-cp (agents) did not exit 0 after SIGTERM"
ag_cp_pid=
kill "$ag_model_pid"
wait "$ag_model_pid" 2>/dev/null || true
ag_model_pid=

# spawn → first model call, per agent: the log's ISO time (ms) of the first
# request in the agent's conversation
jq -c 'select(.turn != null and (.conversation | type) == "number")
  | {conversation, at: ((.time[0:19] + "Z" | fromdate) + (.time[20:23] | tonumber) / 1000)}' "$ag_dir/model.log" |
  jq -s 'group_by(.conversation) | map({key: (.[0].conversation + 1 | tostring), value: (map(.at) | min)}) | from_entries' \
  >"$ag_dir/first.json"
awk '{ print $1, $2 }' "$ag_dir/rss.samples" | sort -n | tail -1 >"$ag_dir/rss.peak"
run_facts "$ag_load_start" "$ag_t0"
jq -n --slurpfile spawned "$ag_dir/spawned.jsonl" --slurpfile ended "$ag_dir/ended.jsonl" \
  --slurpfile overhead "$ag_dir/overhead.jsonl" --slurpfile first "$ag_dir/first.json" \
  --rawfile peak "$ag_dir/rss.peak" --rawfile samples "$ag_dir/rss.samples" "${FACTS[@]}" \
  --arg build "$ag_build" --arg claude "$ag_claude_version" --argjson runs "$AGENT_RUNS" \
  --argjson agents "$AGENT_CONCURRENT" --argjson wall_s "$ag_wall" \
  --argjson cp_hwm_kib "$ag_cp_hwm" --argjson gw_hwm_kib "$ag_gw_hwm" \
  --argjson overhead_target "$TARGET_AGENT_OVERHEAD_RATIO" '
  ($first[0]) as $f
  | ($peak | split(" ") | map(tonumber)) as $p
  | ($samples | split("\n") | map(select(. != "") | split(" ") | .[2:]
      | map(split("=") | {key: .[0], kib: (.[1] | split("/")[0] | tonumber), n: (.[1] | split("/")[1] | tonumber)}))) as $by
  | $ARGS.named + {
      overhead: {direct_ms: [$overhead[] | select(.kind == "direct") | .ms],
                 fracta_ms: [$overhead[] | select(.kind == "fracta") | .ms]},
      concurrent: {
        ended: $ended, completed: ($ended | map(select(.status == "Completed")) | length),
        first_call_ms: [$spawned | to_entries[] | .value.task as $t
          | ($f[(.key + 1 | tostring)]) as $at
          | {task: $t, ms: (if $at then (($at - .value.spawned) * 1000 | round) else null end)}],
        peak_rss_kib: $p[0], peak_processes: $p[1],
        peak_by_binary: ($by | add // [] | group_by(.key)
          | map({key: .[0].key, value: {kib: (map(.kib) | max), processes: (map(.n) | max)}}) | from_entries)}}
  | del(.overhead_target) + {overhead_target: $overhead_target}' >"$work/agents.json"
unset FRACTA_CP_URL
