# shellcheck shell=bash disable=SC2154 # sourced by tests/bench/run, which sets the knobs and helpers
# sections/sessions.bash — f–h: fracta-spawn-local's session ops against
# /bin/true and tmux, start + wait, and the memory of idle supervisors.
# Sourced by tests/bench/run in a full run; leaves hyperfine-spawn-*.json,
# hyperfine-startwait-*.json, rss.jsonl and fleets.jsonl.


# ---------------------------------------------------------------- f
sl_builds=(dynamic)
$sl_have_static && sl_builds=(static dynamic)
sl_bin_of() { if [[ $1 == static ]]; then echo "$sl_static"; else echo "$sl_dyn"; fi; }
mkdir -p "$FRACTA_STATE_DIR" "$work/wd"
# The same command in a fracta-spawn-local stream session and in a tmux pane
# (both a 200×50 terminal): 50 lines of output, then idle.
# shellcheck disable=SC2016 # the session's shell expands it
pane_cmd='for i in $(seq 50); do echo "line $i of the bench session"; done; exec sleep 600'
say "a fracta-spawn-local stream session and a tmux session ($(tmux -V)) running the same command"
jq -nc --arg c "$pane_cmd" --arg d "$work/wd" '{command: $c, work_dir: $d, mode: "stream"}' >"$work/stream.json"
"$sl_main" start bench <"$work/stream.json" || die "fracta-spawn-local start failed"
tmux_started=true
tmux -L fracta-bench -f /dev/null new-session -d -s bench -x 200 -y 50 -c "$work/wd" "$pane_cmd" \
  || die "tmux new-session failed"
for (( i = 0; ; i++ )); do
  [[ $("$sl_main" peek bench 1) == "line 50 of"* ]] \
    && tmux -L fracta-bench capture-pane -p -t bench | grep -q '^line 50 of' && break
  (( i < 100 )) || die "the sessions did not print their 50 lines within 5 s"
  sleep 0.05
done
for b in "${sl_builds[@]}"; do
  bin=$(sl_bin_of "$b")
  [[ $("$bin" is-running bench) == true ]] || die "$b build: is-running bench is not true"
  [[ $("$bin" status bench | jq -r .state) == running ]] || die "$b build: status bench is not running"
  [[ $("$bin" peek bench 50 | grep -c '^line ') == 50 ]] || die "$b build: peek bench 50 does not give the 50 lines"
done
tmux -L fracta-bench has-session -t bench || die "tmux has-session failed"

add spawn.true "/bin/true"
add tmux.has-session "tmux -L fracta-bench has-session -t bench"
add tmux.capture-pane "tmux -L fracta-bench capture-pane -p -t bench -S -50"
add tmux.display-message "tmux -L fracta-bench display-message -p -t bench '#{pane_pid} #{session_activity}'"
for b in "${sl_builds[@]}"; do
  bin=$(sl_bin_of "$b")
  add "spawn.is-running.$b" "$bin is-running bench"
  add "spawn.peek.$b" "$bin peek bench 50"
  add "spawn.status.$b" "$bin status bench"
done
rounds spawn "$RUNS" "$WARMUP"
tmux -L fracta-bench kill-server || die "tmux kill-server failed"
# shellcheck disable=SC2034 # the clean-up reads it
tmux_started=false
"$sl_main" stop bench || die "fracta-spawn-local stop bench failed"

# ---------------------------------------------------------------- g
# start + wait of `true` through start-wait.c, which names each session anew
# (sw-…-N); after every round the ended sessions' directories, worktrees and
# branches go, so the repository does not pile up hundreds of worktrees.
repo=$work/repo
git init -q -b main "$repo"
for i in $(seq 20); do echo "file $i" >"$repo/file-$i.txt"; done
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@localhost -c commit.gpgsign=false commit -q -m "bench repository"
jq -nc --arg d "$work/wd" '{command: "true", work_dir: $d}' >"$work/true.json"
jq -nc --arg r "$repo" '{command: "true", git: {repo: $r}}' >"$work/true-worktree.json"
sw=$work/start-wait
sw_count=$work/start-wait.count
sw_tidy() {
  local d wt
  for wt in "$repo"/.worktrees/*/; do
    [[ -d $wt ]] || continue
    git -C "$repo" worktree remove --force "$wt" || die "git worktree remove $wt failed"
  done
  git -C "$repo" worktree prune
  git -C "$repo" for-each-ref --format='%(refname:short)' refs/heads/feature/ | xargs -r git -C "$repo" branch -q -D
  for d in "$FRACTA_STATE_DIR"/sw-*; do
    [[ -d $d ]] || continue
    [[ $("$sl_main" is-running "${d##*/}") == false ]] || die "session ${d##*/} still runs after its wait"
    rm -rf "$d"
  done
}
for b in "${sl_builds[@]}"; do
  bin=$(sl_bin_of "$b")
  "$sw" "$sw_count" "$work/true.json" sw-check "$bin" | jq -e '.state == "exited" and .exit_code == 0' >/dev/null \
    || die "$b build: start + wait of true failed"
  "$sw" "$sw_count" "$work/true-worktree.json" sw-check "$bin" | jq -e '.state == "exited" and .exit_code == 0' >/dev/null \
    || die "$b build: start + wait of true in a worktree failed"
  wt=$repo/.worktrees/sw-check-$(<"$sw_count")
  [[ $(git -C "$wt" rev-parse --abbrev-ref HEAD 2>/dev/null) == "feature/${wt##*/}" ]] \
    || die "$b build: no worktree $wt on feature/${wt##*/}"
done
sw_tidy

add startwait.true "/bin/true"
add startwait.driver "$sw $sw_count $work/true.json sw-driver /bin/true"
for b in "${sl_builds[@]}"; do
  bin=$(sl_bin_of "$b")
  add "startwait.plain.$b" "$sw $sw_count $work/true.json sw-plain-$b $bin"
  add "startwait.worktree.$b" "$sw $sw_count $work/true-worktree.json sw-worktree-$b $bin"
done
rounds startwait "$START_RUNS" $(( WARMUP < 2 ? WARMUP : 2 )) sw_tidy

# ---------------------------------------------------------------- h
# $SESSIONS idle batch sessions per build (and $STREAM_SESSIONS stream ones
# of the static build); VmRSS and Pss of every supervisor.
jq -nc --arg d "$work/wd" '{command: "sleep 600", work_dir: $d}' >"$work/idle.json"
jq -nc --arg d "$work/wd" '{command: "sleep 600", work_dir: $d, mode: "stream"}' >"$work/idle-stream.json"
: >"$work/rss.jsonl"
: >"$work/fleets.jsonl"
fleet() {  # build mode count: start, measure, stop; appends to rss.jsonl and fleets.jsonl
  local b=$1 mode=$2 count=$3 bin prefix input t0 t1 t2 name pid running
  bin=$(sl_bin_of "$b")
  prefix=idle-$mode-$b
  input=$work/idle.json
  [[ $mode == stream ]] && input=$work/idle-stream.json
  say "memory: $count idle $mode sessions, $b build"
  t0=$(now)
  seq -f "$prefix-%g" "$count" >"$work/fleet-names"
  wait_for xargs -a "$work/fleet-names" -P 4 -n 1 "$se" "$input" "$bin" start || die "starting $prefix-* failed"
  t1=$(now)
  running=$("$bin" list-running "$prefix-" | wc -l)
  (( running == count )) || die "$running of $count sessions $prefix-* are running"
  sleep 1  # idle
  for name in $("$bin" list-running "$prefix-"); do
    pid=$(jq -r .supervisor_pid "$FRACTA_STATE_DIR/$name/state.json")
    [[ $(readlink "/proc/$pid/exe") == "$bin" ]] || die "the supervisor of $name (pid $pid) is not $bin"
    echo "$name $(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status") $(awk '$1 == "Pss:" { print $2 }' "/proc/$pid/smaps_rollup")"
  done | jq -R -c --arg build "$b" --arg mode "$mode" \
    'split(" ") | {build: $build, mode: $mode, name: .[0], rss_kib: (.[1] | tonumber), pss_kib: (.[2] | tonumber)}' \
    >>"$work/rss.jsonl"
  t2=$(now)
  "$bin" list-running "$prefix-" >"$work/fleet-names"
  wait_for xargs -a "$work/fleet-names" -r -P 8 -n 1 "$bin" stop || die "stopping $prefix-* failed"
  running=$("$bin" list-running "$prefix-" | wc -l)
  (( running == 0 )) || die "$running sessions $prefix-* still run after stop"
  jq -nc --arg build "$b" --arg mode "$mode" --argjson count "$count" --argjson t0 "$t0" --argjson t1 "$t1" \
    --argjson t2 "$t2" --argjson t3 "$(now)" \
    '{build: $build, mode: $mode, count: $count, start_s: ($t1 - $t0), stop_s: ($t3 - $t2)}' >>"$work/fleets.jsonl"
}
for b in "${sl_builds[@]}"; do
  fleet "$b" batch "$SESSIONS"
done
if (( STREAM_SESSIONS > 0 )); then fleet "${sl_builds[0]}" stream "$STREAM_SESSIONS"; fi
