# report.jq — renders tests/bench/RESULTS.md from one run's measurements
# (called by tests/bench/run; every figure is computed here from its inputs).
#
# $meta       the run's facts and targets (object)
# $commands   {name: command line}
# $hyperfine  [[hyperfine result objects of every round, `command` = the name]]
# $watch      [[watch_latency outputs, plus store and build]]
# $sizes      [[{file, size, stripped}]]
# $rss        [[{build, mode, name, rss_kib, pss_kib}]], one per idle supervisor
# $fleets     [[{build, mode, count, start_s, stop_s}]]
# $cp_post    [[{store, queued, hwm_kib, post: post_load output, healthz: pooled post_load outputs}]]
# $cp_spawn   [[{project, agents, p50_ms, p90_ms, p99_ms, min_ms, max_ms}]]
# $cp_drain   [[{project, agents, completed, failed, stopped, listed_completed, seconds, per_second, hwm_kib, rss_kib,
#               quarters_s: [seconds until a quarter, half, … had ended], failed_examples: [{name, reason}]}]]
# $gateway    [section j's gw.json: run facts, targets, levels: [{target, clients, calls, seconds, per_second,
#               p50_us, p90_us, p99_us, max_us, round_p50_us, round_per_second}], sessions, rss]
# $reap       [section k's reap.json: run facts, target, measurements: [reap-pass outputs]]
# $replicas   [section l's replicas.json: run facts, levels: [{replicas, workers, agents, completed, failed,
#               stopped, seconds, per_second, starts, distinct, duplicates, by_replica, max_attempt}]]
# $k8s        [section m's k8s.json: tests/bench/k8s-ops output plus run facts]
# $agents     [section n's agents.json: run facts, overhead: {direct_ms, fracta_ms}, concurrent: {ended,
#               completed, first_call_ms: [{task, ms}], peak_rss_kib, peak_processes, peak_by_binary: {BINARY: {kib, processes}}}]
# $retention  [section p's retention.json: run facts, targets, stores: [{store, events, seconds, samples: [{written,
#               rows, bytes, seconds}], watch: {inside_from, inside_seen, inside_gapless, behind_error},
#               cli_watch: {status, stderr}}]]
# $only       a section rendered alone — "gateway", "reap", "replicas", "k8s", "agents" or "retention" (the other inputs are
#             then empty), for `run SECTION`; "" for the whole file

def median: sort | length as $n
  | if $n == 0 then null
    elif $n % 2 == 1 then .[($n - 1) / 2 | floor]
    else (.[$n / 2 - 1 | floor] + .[$n / 2 | floor]) / 2 end;
def zeros($k): [range(0; $k)] | map("0") | join("");
# a number with exactly $d decimals
def fix($d): . as $x | ($x < 0) as $neg
  | (($x | fabs) * pow(10; $d) | round | tostring) as $s
  | (if ($s | length) <= $d then zeros($d + 1 - ($s | length)) + $s else $s end) as $p
  | (if $d > 0 then $p[0:($p | length) - $d] + "." + $p[($p | length) - $d:] else $p end)
  | if $neg then "-" + . else . end;
def ms: . * 1000 | fix(3) + " ms";
def ms_of_ms: fix(2) + " ms";  # from ms
def us_as_ms: . / 1000 | fix(2) + " ms";
def ratio: fix(2) + "×";
def bytes: if . < 1000000 then (. / 1000 | fix(1)) + " kB" else (. / 1000000 | fix(2)) + " MB" end;
def mib: . / 1024 | fix(2) + " MiB";  # from KiB
def yesno: if . then "yes" else "**no**" end;
def row: "| " + join(" | ") + " |";
def us: fix(1) + " µs";  # from µs

# --- section j: the MCP gateway ($g: run's gw.json) --------------------------------------
def gw_level($g; $target; $c): $g.levels | map(select(.target == $target and .clients == $c)) | .[0];
def gw_latency_rows($g):
  [$g.levels[] | select(.target == "gateway") | .clients] | sort
  | map(. as $c | gw_level($g; "direct"; $c) as $d | gw_level($g; "gateway"; $c) as $w
        | {clients: $c, d: $d, w: $w, added_p50: ($w.p50_us - $d.p50_us), added_p99: ($w.p99_us - $d.p99_us),
           round_added: ([$w.round_p50_us, $d.round_p50_us] | transpose | map(.[0] - .[1])),
           context: ($c != 1)}
        | .met = (.added_p50 <= $g.added_p50_target_us));
def gw_peer($g):
  gw_level($g; "gateway"; $g.peer_level) as $w | gw_level($g; "supergateway"; $g.peer_level) as $s
  | {w: $w, s: $s, d: gw_level($g; "direct"; $g.peer_level), ratio: ($w.per_second / $s.per_second)}
  | .met = (.ratio >= $g.peer_ratio_target);
def gw_rss($g):
  $g.rss + {sessions: $g.sessions.sessions, alive: $g.sessions.alive, open_s: $g.sessions.seconds}
  | .met = (.with_sessions_kib <= $g.rss_target_kib and .alive == .sessions)
  | .context = (.sessions < $g.rss_target_sessions);  # fewer sessions than the target names: not judged
# The verdicts that count: added p50 at 1 client, throughput ratio, RSS.
def gw_checks($g): [(gw_latency_rows($g)[] | select(.context | not) | .met), gw_peer($g).met,
                    (gw_rss($g) | select(.context | not) | .met)];
def gw_section($g; $alone):
  gw_latency_rows($g) as $lat | gw_peer($g) as $p | gw_rss($g) as $r | gw_checks($g) as $checks
  | def yn: if . then "yes" else "**no**" end;
    def per_round: map(fix(0)) | join(", ");
  [
  "<!-- gateway -->",
  "## MCP gateway (fracta-gw)",
  "",
  "fracta-gw, \($g.gw_build) build `\($g.gw_name)` (\($g.gw_id)), serves the endpoint `/agents/gw-bench/mcp` of one agent in a throwaway git project, whose fracta-cp (\($g.cp_build) build, 1 worker) runs it: a `shell` contract that writes its `FRACTA_GATEWAY_TOKEN` to a file and idles. Every request carries that bearer token, which fracta-gw verifies through the control plane and caches for 2 s. The backend is `tests/bench/mcp_echo.cc`: one tool, `echo`, whose result is its `text` argument, configured as `mcp_servers.servers.echo: {local: {command: mcp_echo}}` — one stdio child shared by every session, its tool exposed as `echo__echo`. **Direct** is the same binary run with `--http`: streamable HTTP on fracta's own http::Server, thread per connection, as fracta-gw runs it; so the added latency is what the gateway does beyond an HTTP server of the same stack: Host/Origin checks, the token (cache), the MCP session, and the hop to the child over its pipes and back. **supergateway \($g.supergateway)** (npm, node \($g.node)) exposes the same binary: `supergateway --stdio mcp_echo --outputTransport streamableHttp --stateful --logLevel none` (stateful: one child per session, answers as SSE; its stateless mode starts a child for every request).",
  "",
  "Load: `tests/bench/mcp_load.cc`, N client threads, each with its own keep-alive connection and MCP session (`initialize` at 2025-11-25, `notifications/initialized`, and `tools/list` must offer the tool), \($g.warmup) untimed calls each, then a barrier and \($g.calls) timed `tools/call`s per run split over the clients (\($g.peer_calls) against supergateway), one after the other on each client, every call with its own argument; every answer must echo its argument exactly. Latency: CLOCK_MONOTONIC around each exchange (request written → answer read); calls/s: calls ÷ the time from the barrier to the last answer. \($g.rounds) rounds, the servers in alternating order in each; percentiles (nearest rank) over the pooled calls of all rounds, calls/s over the pooled calls and time. Load generator and servers share the \($g.nproc) CPUs.",
  "",
  "- **Measured:** \($g.date), commit \($g.commit)" + (if $g.dirty > 0 then " (built from a working tree with uncommitted changes in lib/, cmd/ or CMakeLists.txt)" else "" end) + "; load average \($g.load_start) at the start, \($g.load_end) at the end" + (if $g.pressure_end != "" then ", CPU pressure over the last minute \($g.pressure_end)%" else "" end) + "; \($g.seconds) s" + (if $alone then ". Run alone (`tests/bench/run gateway`): the rest of this file is from the last full run" else "" end),
  "- **Targets met here:** \($checks | map(select(.)) | length) of \($checks | length)",
  "",
  "### Added latency",
  "",
  "| clients | direct p50 | fracta-gw p50 | added p50 | direct p99 | fracta-gw p99 | added p99 | added p50 per round | fracta-gw calls/s | direct calls/s | target | met? |",
  "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
  ($lat[] | ["\(.clients)", (.d.p50_us | us), (.w.p50_us | us), (.added_p50 | us), (.d.p99_us | us), (.w.p99_us | us),
             (.added_p99 | us), (.round_added | per_round) + " µs", (.w.per_second | fix(0)), (.d.per_second | fix(0)),
             (if .context then "—" else "added p50 ≤ \($g.added_p50_target_us) µs" end),
             (if .context then "—" else (.met | yn) end)] | row),
  "",
  "### Throughput against supergateway",
  "",
  "| clients | fracta-gw calls/s | supergateway calls/s | ratio | supergateway p50 | supergateway p99 | supergateway calls/s per round | direct calls/s (context) | target | met? |",
  "|---:|---:|---:|---:|---:|---:|---|---:|---:|---|",
  ($p | ["\($g.peer_level)", (.w.per_second | fix(0)), (.s.per_second | fix(0)), (.ratio | ratio), (.s.p50_us | us),
         (.s.p99_us | us), (.s.round_per_second | per_round), (.d.per_second | fix(0)),
         "≥ \($g.peer_ratio_target)× supergateway", (.met | yn)] | row),
  "",
  "### Memory with open sessions",
  "",
  "A fresh fracta-gw (after its first backend discovery, the echo child started); then `mcp_load sessions` opens sessions (`initialize` + `notifications/initialized`, 8 connections) and leaves them open; `VmRSS` and `VmHWM` of the fracta-gw process from /proc/PID/status (its echo child is a process of its own: \($r.echo_child_kib | mib), not counted). Afterwards every session must still answer `ping`.",
  "",
  "| sessions opened | still answering `ping` | `fracta_gw_sessions` | VmRSS before | VmRSS with them | per session | VmHWM | target | met? |",
  "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ($r | ["\(.sessions)", "\(.alive)", "\(.gauge // "?")", (.before_kib | mib), (.with_sessions_kib | mib),
         ((.with_sessions_kib - .before_kib) / .sessions * 1024 | fix(0)) + " B", (.hwm_kib | mib),
         (if .context then "(VmRSS ≤ \($g.rss_target_kib | mib) with \($g.rss_target_sessions) sessions; context)"
          else "VmRSS ≤ \($g.rss_target_kib | mib), all alive" end),
         (if .context then "(\(.met | if . then "yes" else "no" end))" else (.met | yn) end)] | row),
  "",
  "Context: the sessions were opened in \($r.open_s | fix(2)) s; fracta-gw then had \($r.threads) threads; the fracta-gw of the latency runs had a VmRSS of \($r.after_runs_kib | mib) after them.",
  "<!-- /gateway -->"
  ] | join("\n");

# A section's "measured" line: the run facts every section that runs alone records.
def measured($x; $alone; $name):
  "- **Measured:** \($x.date), commit \($x.commit)" + (if $x.dirty > 0 then " (built from a working tree with uncommitted changes in lib/, cmd/ or CMakeLists.txt)" else "" end) + "; load average \($x.load_start) at the start, \($x.load_end) at the end" + (if $x.pressure_end != "" then ", CPU pressure over the last minute \($x.pressure_end)%" else "" end) + "; \($x.seconds) s" + (if $alone then ". Run alone (`tests/bench/run \($name)`): the rest of this file is from the last full run" else "" end);

# --- section e: the static binaries' sizes ($rows: [{file, size, stripped, met}]) -----------
def sizes_section($rows; $target; $alone):
  [ "<!-- sizes -->",
    "## Static binary sizes (stripped)",
    "",
    (if ($rows | length) == 0 then "build-static/bin was missing when this ran: sizes not measured."
     else ("| binary | stripped size | as built | target | met? |\n|---|---:|---:|---:|---|\n" +
           ($rows | map(["`\(.file)`", "\(.stripped / 1000000 | fix(2)) MB", "\(.size / 1000000 | fix(2)) MB",
                         "≤ \($target / 1000000 | fix(0)) MB", (if .met then "yes" else "**no**" end)] | row) | join("\n")))
     end),
    (if $alone and ($rows | length) > 0
     then "\n- **Measured:** \($rows[0].date), commit \($rows[0].commit). Run alone (`tests/bench/run sizes`): the rest of this file is from the last full run"
     else empty end),
    "<!-- /sizes -->"
  ] | join("\n");

# --- section m: fracta-spawn-k8s on the API double ($x: run's k8s.json) --------------------
def k8s_checks($x):
  [($x.requests.start.count == 4 and ($x.requests.start.requests | map(select(test("watch"))) | length) == 1),
   ($x.requests.list.count == 1),
   ($x.median_ms.is_running < $x.median_ms.kubectl_get_pod),
   ($x.median_ms.list < $x.median_ms.kubectl_get_pods)];
def k8s_section($x; $alone):
  def yn: if . then "yes" else "**no**" end;
  k8s_checks($x) as $c
  | [
  "<!-- k8s -->",
  "## Kubernetes provider (fracta-spawn-k8s on the API double)",
  "",
  "`tests/bench/k8s-ops` with the \($x.build) build: \($x.sessions) sessions started on the Kubernetes API double (`tests/k8s/double.mjs --auto-run`: pods go Running by themselves), the requests of each op read from the double's request log, and whole-process medians over \($x.runs) hyperfine runs each (interleaved, `-N`) of `fracta-spawn-k8s is-running` and `list` against kubectl (\($x.kubectl)) reading the same things from the same double. kubectl here is the version dispatcher, which asks `/version` first: part of what it costs a user.",
  "",
  "| op | API requests | target | met? |",
  "|---|---|---|---|",
  (["`start`", "\($x.requests.start.count): " + ($x.requests.start.requests | join(", ")), "the creates + one watch, no polling", ($c[0] | yn)] | row),
  (["`list` (\($x.sessions) sessions)", "\($x.requests.list.count): " + ($x.requests.list.requests | join(", ")), "1 request", ($c[1] | yn)] | row),
  (["`is-running`", "\($x.requests.is_running.count): " + ($x.requests.is_running.requests | join(", ")), "—", "—"] | row),
  (["`stop`", "\($x.requests.stop.count): " + ($x.requests.stop.requests | join(", ")), "—", "—"] | row),
  "",
  "| read | fracta-spawn-k8s | kubectl | ratio | faster? |",
  "|---|---:|---:|---:|---|",
  (["is one session running", "\($x.median_ms.is_running) ms", "\($x.median_ms.kubectl_get_pod) ms (`get pods -l fracta-agent-id=… -o name`)", (($x.median_ms.kubectl_get_pod / $x.median_ms.is_running) | fix(1)) + "×", ($c[2] | yn)] | row),
  (["list \($x.sessions) sessions", "\($x.median_ms.list) ms", "\($x.median_ms.kubectl_get_pods) ms (`get pods -l app.kubernetes.io/managed-by=fracta -o json`)", (($x.median_ms.kubectl_get_pods / $x.median_ms.list) | fix(1)) + "×", ($c[3] | yn)] | row),
  "",
  measured($x; $alone; "k8s"),
  "<!-- /k8s -->"
] | join("\n");

# --- section n: real Claude Code agents ($x: run's agents.json) -------------------------
def nearest_rank($p): sort | .[([(($p / 100) * length | ceil), 1] | max) - 1];
def agents_rows($x):
  ($x.overhead.direct_ms | median) as $direct | ($x.overhead.fracta_ms | median) as $fracta
  | ($x.concurrent.first_call_ms | map(.ms) | map(select(. != null))) as $first
  | {direct: $direct, fracta: $fracta, ratio: ($fracta / $direct), added: ($fracta - $direct),
     overhead_met: ($fracta / $direct <= $x.overhead_target),
     first: $first, first_missing: ($x.agents - ($first | length)),
     all_met: ($x.concurrent.completed == $x.agents and ($first | length) == $x.agents)};
def agents_checks($x): agents_rows($x) | [.overhead_met, .all_met];
def agents_section($x; $alone):
  def yn: if . then "yes" else "**no**" end;
  def mss: map(tostring) | join(", ") + " ms";
  agents_rows($x) as $r
  | ($x.concurrent) as $c
  | [
  "<!-- agents -->",
  "## Real agents (Claude Code \($x.claude) under fracta)",
  "",
  "`tests/bench/sections/agents.bash`: the real `claude` CLI pinned in tests/package.json, its model the scripted model server (`tests/model/server.mjs`, no API key, no network) answering every call \"Done.\" at once, so each agent is one model turn and what is measured is the CLI's start and fracta's around it. One project made by `fracta init --scaffold local` (the claude runtime's `base_url` and a dummy key in `secret_env`), served by one `fracta-cp run --gateway --workers \($x.agents)` (\($x.build) build). fracta's agent gets what it always gets: a git worktree and branch, CLAUDE.md, fracta's MCP server (fracta-gw, which the CLI connects to at start) and settings file; the direct run is `claude -p` in a clone of the project with the same environment and flags, less `--mcp-config` and `--settings`.",
  "",
  measured($x; $alone; "agents"),
  "",
  "| one-turn agent, wall clock | median | each run | target | met? |",
  "|---|---:|---|---|---|",
  (["`claude -p` directly", ($r.direct | tostring) + " ms", ($x.overhead.direct_ms | mss), "—", "—"] | row),
  (["`fracta spawn --wait`", ($r.fracta | tostring) + " ms", ($x.overhead.fracta_ms | mss),
    "≤ \($x.overhead_target)× direct", ($r.overhead_met | yn)] | row),
  (["fracta's overhead", "\($r.ratio | ratio), " + (if $r.added >= 0 then "+" else "" end) + "\($r.added | fix(0)) ms", "—", "—", "—"] | row),
  "",
  "\($x.runs) rounds after an untimed one, the two in alternating order; medians over the rounds.",
  "",
  "| \($x.agents) agents at once on \($x.nproc) CPUs | value |",
  "|---|---:|",
  (["Completed (target: all)", "\($c.completed) of \($x.agents) \($r.all_met | yn)"] | row),
  (["spawn → first model call, p50", (if ($r.first | length) > 0 then ($r.first | nearest_rank(50) | tostring) + " ms" else "—" end)] | row),
  (["spawn → first model call, p95", (if ($r.first | length) > 0 then ($r.first | nearest_rank(95) | tostring) + " ms" else "—" end)] | row),
  (["spawn → first model call, max", (if ($r.first | length) > 0 then ($r.first | max | tostring) + " ms" else "—" end)] | row),
  (if $r.first_missing > 0 then (["agents the model never heard from", "\($r.first_missing)"] | row) else empty end),
  (["all spawned → all ended", ($x.wall_s | fix(1)) + " s"] | row),
  (["peak RSS of fracta's processes (sum, sampled every 0.1 s)", "\($c.peak_rss_kib | mib) over \($c.peak_processes) processes"] | row),
  (["… the most each binary reached (its processes together; most processes at once)", ($c.peak_by_binary | to_entries | sort_by(-.value.kib)
     | map("\(.key) \(.value.kib | mib) (\(.value.processes))") | join(", "))] | row),
  (["fracta-cp VmHWM / fracta-gw VmHWM", "\($x.cp_hwm_kib | mib) / " + (if $x.gw_hwm_kib then ($x.gw_hwm_kib | mib) else "—" end)] | row),
  "",
  "The \($x.agents) `fracta spawn` processes start one after another in the background; an agent's time runs from just before its own `fracta spawn` to the model server's arrival time (ms) of the first request of that agent's conversation (matched by task name). fracta's processes are those running one of the measured binaries (by inode): fracta-cp, fracta-gw, fracta-reap (the control plane's reaper), fracta-spawn-local (each agent's supervisor, and the control plane's calls to it) and the front door; the CLIs (node) and their launcher shells are not counted." +
    (if ([$x.load_start, $x.load_end] | map(split(" ")[0] | tonumber) | max) > ($x.nproc | tonumber)
     then " The machine was busy with other work (load above \($x.nproc)): the CLIs' start, most of an agent's time, is what a busy machine slows most." else "" end),
  (if $c.completed < $x.agents then "\nNot Completed: " + ($c.ended | map(select(.status != "Completed")) | map("`\(.task)` \(.status): \(.reason | gsub("\n"; " "))") | join("; ")) else empty end),
  "<!-- /agents -->"
] | join("\n");

# --- section k: a reap pass ($k: run's reap.json) ----------------------------------------
def reap_rows($k):
  $k.measurements | group_by(.store) | map(
    {store: .[0].store, agents: .[0].agents, removed: .[0].removed, runs: length,
     dry_run_ms: (map(.dry_run_ms) | median), pass_ms: (map(.pass_ms) | median),
     second_pass_ms: (map(.second_pass_ms) | median), all_pass_ms: map(.pass_ms)}
    | .context = (.store != "sqlite" or .agents < $k.target_agents)
    | .met = (.pass_ms <= $k.pass_target_ms))
  | sort_by(.store != "sqlite");
def reap_checks($k): [reap_rows($k)[] | select(.context | not) | .met];
def reap_section($k; $alone):
  reap_rows($k) as $rows | reap_checks($k) as $checks
  | def yn: if . then "yes" else "**no**" end;
  [
  "<!-- reap -->",
  "## Reaping (fracta-reap)",
  "",
  "One `fracta-reap --once` pass, \($k.reap_build) build `\($k.reap_name)` (\($k.reap_id)), over a store of \($k.agents) Completed agents, each with its mission (`tests/bench/reap-pass`): a tenth of them ended two hours ago, past `reaper.keep_terminal: 1h`, and are removed (rows and missions deleted, events written); the rest ended five minutes ago and are only looked at. The rows are inserted with SQL, so no session exists: the provider's (local) list of sessions has none of them. Timed as a whole process, wall clock, by the script: a `--dry-run` first (plans, changes nothing), then the pass, then a second pass with nothing left to remove. sqlite (\($k.sqlite)) is `.fracta/state.db` of a throwaway project; Postgres (\($k.pg), the bench's throwaway server, fsync off) a fresh database each time. \($k.runs) measurements per store on a fresh store each, alternating the stores; medians. The target is judged on sqlite; Postgres is context.",
  "",
  measured($k; $alone; "reap"),
  "- **Targets met here:** \($checks | map(select(.)) | length) of \($checks | length)",
  "",
  "| store | agents | removed | dry run | pass | second pass | the pass, each run | target | met? |",
  "|---|---:|---:|---:|---:|---:|---|---:|---|",
  ($rows[] | [.store, "\(.agents)", "\(.removed)", (.dry_run_ms | ms_of_ms), (.pass_ms | ms_of_ms),
              (.second_pass_ms | ms_of_ms), (.all_pass_ms | map(tostring) | join(", ") + " ms"),
              (if .context then "(pass ≤ \($k.pass_target_ms) ms with \($k.target_agents) agents on sqlite; context)"
               else "pass ≤ \($k.pass_target_ms) ms" end),
              (if .context then "(\(.met | if . then "yes" else "no" end))" else (.met | yn) end)] | row),
  "<!-- /reap -->"
  ] | join("\n");

# --- section p: the event log under events.retention ($r: run's retention.json) ---------
def retention_rows($r):
  $r.stores | map(. as $s | ($s.samples | last) as $fin | ($s.samples | first) as $first
    | {store: $s.store, events: $s.events, seconds: $s.seconds, rows: $fin.rows, bytes: $fin.bytes,
       first_bytes: $first.bytes, first_written: $first.written, max_bytes: ($s.samples | map(.bytes) | max),
       growth: ($fin.bytes / $first.bytes), per_second: ($fin.written / $fin.seconds),
       gapless: ($s.watch.inside_gapless == true), inside_seen: $s.watch.inside_seen,
       expired: ($s.watch.behind_error | test("expired")),
       cli_expired: ($s.cli_watch.status == 1 and ($s.cli_watch.stderr | test("^fracta-events: error: watch 1: expired: "))),
       cli_stderr: $s.cli_watch.stderr}
    | .met = (.rows == $r.keep and .max_bytes <= $r.bytes_target and .growth <= $r.growth_target
              and .gapless and .expired and .cli_expired));
def retention_checks($r): [retention_rows($r)[] | .met];
def retention_section($r; $alone):
  retention_rows($r) as $rows | retention_checks($r) as $checks
  | [
  "<!-- retention -->",
  "## Event log retention (events.retention)",
  "",
  "`tests/bench/retention_fill` writes events of the control plane's shape (`lifecycle.running`, a five-key payload, about 250 bytes as a line) one transaction each, as `fracta-events record` and fracta-cp do, through the library's event log with `events.retention: \($r.keep)`: every append deletes what left the window in its own transaction. Every tenth it counts the rows and takes the store's size: sqlite (\($r.sqlite)): the database file with its -wal and -shm files; Postgres (\($r.pg), the bench's throwaway server, fsync off, a fresh database): `pg_total_relation_size('events')` (table, indexes, TOAST). Then a watcher from \($r.keep / 2) events before the newest must replay every seq up to the newest with no gap, and one from seq 1 (long pruned) must get the expired error — from the library and from `\($r.events_name) watch 1`, which must exit 1 with `fracta-events: error: watch 1: expired: …` (fracta-events(1)). Targets: exactly \($r.keep) rows kept; the store ≤ \($r.bytes_target | bytes) at every sample; its size at the end ≤ \($r.growth_target)× its size after the first tenth (bounded, not creeping); both watchers as above.",
  "",
  measured($r; $alone; "retention"),
  "- **Targets met here:** \($checks | map(select(.)) | length) of \($checks | length)",
  "",
  "| store | events written | writes/s | rows at the end | size after the first tenth | largest sample | size at the end | end ÷ first | watcher inside: gapless | behind: expired (library, `watch 1`) | met? |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
  ($rows[] | [.store, "\(.events)", (.per_second | fix(0)), "\(.rows)", "\(.first_bytes | bytes) (\(.first_written) written)",
              (.max_bytes | bytes), (.bytes | bytes), (.growth | ratio),
              "\(.gapless | yesno) (\(.inside_seen) seqs)", "\(.expired | yesno), \(.cli_expired | yesno)", (.met | yesno)] | row),
  "",
  "Size at each tenth (bytes): " + ($r.stores | map("\(.store): " + (.samples | map("\(.written): \(.bytes)") | join(", "))) | join("; ")) + ".",
  "",
  "What `fracta-events watch 1` said: " + ($rows | map("\(.store): `\(.cli_stderr | rtrimstr("\n"))`") | join("; ")) + ".",
  "<!-- /retention -->"
  ] | join("\n");

# --- section l: replicas on one Postgres ($l: run's replicas.json) -----------------------
def rep_rows($l):
  ($l.levels | map(select(.replicas == 1)) | .[0].per_second) as $one
  | $l.levels | map(. + {speedup: (if $one then .per_second / $one else null end),
                         met: (.completed == .agents and .distinct == .agents and .duplicates == 0)});
def rep_checks($l): [rep_rows($l)[] | .met];
def replicas_section($l; $alone):
  rep_rows($l) as $rows | rep_checks($l) as $checks
  | ($rows | map(select(.replicas > 1)) | map(.speedup // 0) | max // null) as $best
  | ($rows | map(.per_second / (.replicas * .workers))) as $perw
  | (if ($perw | min) > 0 then ($perw | max) / ($perw | min) else 1e9 end) as $spread
  | ($rows | map(.replicas * .workers) | max) as $maxw
  | def yn: if . then "yes" else "**no**" end;
  [
  "<!-- replicas -->",
  "## Control plane replicas on one Postgres",
  "",
  "\($l.agents) agents of `true` (`shell` runtime) in a plain-directory project (no git repository, so no worktrees), its store a fresh database on the bench's Postgres (\($l.pg), fsync off) for each replica count. A fracta-cp with `--workers 0` queues them (`POST /api/v1/agents`, `tests/bench/post_load.cc`) and is stopped; then N `fracta-cp run --workers \($l.workers)` processes (\($l.cp_build) build `\($l.cp_name)`, \($l.cp_id)) start on the same store, one after another, each waited for until ready, and the time runs from just before the first starts until the store counts all \($l.agents) agents ended (psql, polled every 0.2 s). The provider is `runtime.backend: exec:` a wrapper around the fracta-spawn-local beside fracta-cp that appends the session name to a file on every `start`; the section fails if a name is there twice. Missions per replica: `missions.claimed_by` grouped by replica.",
  "",
  measured($l; $alone; "replicas"),
  "- **Every agent Completed and started exactly once:** \($checks | map(select(.)) | length) of \($checks | length) replica counts",
  "",
  "| replicas | workers in all | agents | completed | seconds | agents/s | speedup vs 1 replica | agents/s per worker | starts (distinct) | missions per replica | highest attempt | each started once, all Completed? |",
  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
  ($rows[] | ["\(.replicas)", "\(.replicas * .workers)", "\(.agents)",
              "\(.completed)" + (if .failed > 0 then " (\(.failed) Failed)" else "" end) + (if .stopped > 0 then " (\(.stopped) Stopped)" else "" end),
              (.seconds | fix(1)), (.per_second | fix(1)), (if .speedup then (.speedup | ratio) else "—" end),
              (.per_second / (.replicas * .workers) | fix(2)),
              "\(.starts) (\(.distinct))", (.by_replica | map(tostring) | join(" + ")), "\(.max_attempt)", (.met | yn)] | row),
  "",
  "Reading it: the \($l.nproc) CPUs of this machine run every replica, their workers, the agents' supervisors and `sh`, the provider wrapper, Postgres and the poller. " +
    (if $best == null then "Only one replica count was measured."
     elif $best >= 1.15 then "More replicas drained the queue faster here (best speedup \($best | ratio))" +
       (if $spread <= 1.35 then ", about in step with the number of workers (agents/s per worker \($perw | map(fix(2)) | join(", "))): a worker sees one agent through at a time — claim, start, follow until it ends, record — so with agents of `true` the rate is bound by that round trip per worker, not by the CPUs or by one fracta-cp. One fracta-cp with as many workers (`--workers \($maxw)`) was not measured; it might do as well." else "." end)
     elif $best >= 0.9 then "More replicas were not faster here (best speedup \($best | ratio)): the CPUs, not one fracta-cp's workers, are the limit; replicas are for availability and for spreading load over machines, which one machine cannot show."
     else "More replicas were slower here (best speedup \($best | ratio)): with \($l.nproc) CPUs the added processes and the contention on the queue cost more than the extra workers bring; replicas are for availability and for spreading load over machines, which one machine cannot show." end) +
    (if ([$l.load_start, $l.load_end] | map(split(" ")[0] | tonumber) | max) > ($l.nproc | tonumber)
     then " The machine was busy with other work (load above \($l.nproc)): more processes also win a larger share of contended CPUs, and the load changed between the replica counts, so read the speedups as rough." else "" end),
  "<!-- /replicas -->"
  ] | join("\n");

def full:

# Pool every round's runs per command name.
($hyperfine[0] | group_by(.command)
  | map({key: .[0].command,
         value: {median: ([.[].times[]] | median),
                 runs: ([.[].times[]] | length),
                 command: $commands[.[0].command]}})
  | from_entries) as $m
| ($m["stdin-exec.true"].median - $m["true"].median) as $wrap
| def t($name): $m[$name].median;
  # record runs go through stdin-exec: take its measured cost out
  def rec($name): t($name) - $wrap;
  ($meta.have_static | if . then ["static", "dynamic"] else ["dynamic"] end) as $builds
| t("true") as $true
  # The targets are for the build that ships: the static one when there is one.
  # The other build's rows are context.
| $builds[0] as $shipped
| [ $builds[] as $b
    | {name: "latest-seq, sqlite, \($b) build", median: t("latest.sqlite.\($b)"), base: $true,
       target: $meta.latest_target, context: ($b != $shipped)},
      {name: "record, sqlite, \($b) build", median: rec("record.sqlite.\($b)"), base: $true,
       target: $meta.record_target, context: ($b != $shipped)} ] as $vs_true
| [ $builds[] as $b
    | {name: "latest-seq, Postgres, \($b) build", median: t("latest.pg.\($b)"), base: $true},
      {name: "record, Postgres, \($b) build", median: rec("record.pg.\($b)"), base: $true} ] as $pg_context
| [ $builds[] as $b
    | {name: "latest-seq: naive-events.sh vs fracta-events (\($b))", median: t("latest.sqlite.\($b)"),
       base: t("latest.naive"), context: ($b != $shipped)},
      {name: "record: naive-events.sh vs fracta-events (\($b))", median: rec("record.sqlite.\($b)"),
       base: rec("record.naive"), context: ($b != $shipped)} ] as $vs_naive
| ($vs_true | map(.ratio = .median / .base | .met = (.ratio <= .target))) as $vs_true
| ($vs_naive | map(.ratio = .base / .median | .met = (.ratio > 1))) as $vs_naive
| ($sizes[0] | map(.met = (.stripped <= $meta.size_target))) as $size_rows
  # fracta-spawn-local: its own builds, and the same choice of the shipped one
| ($meta.sl_have_static | if . then ["static", "dynamic"] else ["dynamic"] end) as $sl_builds
| $sl_builds[0] as $sl_shipped
| t("spawn.true") as $sl_true
| [{op: "is-running", tmux: "has-session"}, {op: "peek", tmux: "capture-pane"},
   {op: "status", tmux: "display-message"}] as $ops
| [ $sl_builds[] as $b | $ops[]
    | {name: "`\(.op)`, \($b) build", tmux_name: "`\(.tmux)`", median: t("spawn.\(.op).\($b)"),
       tmux: t("tmux.\(.tmux)"), base: $sl_true, context: ($b != $sl_shipped)}
    | .ratio = .median / .base | .tmux_ratio = .median / .tmux
    | .met = (.ratio <= $meta.spawn_true_target and .tmux_ratio <= $meta.spawn_tmux_target) ] as $sl_ops
  # start + wait: start-wait.c with /bin/true costs itself plus two /bin/true runs
| t("startwait.true") as $sw_true
| (t("startwait.driver") - 2 * $sw_true) as $sw_driver
| [ $sl_builds[] as $b | ["plain", "without a worktree"], ["worktree", "with a git worktree"]
    | {name: "start + wait of `true`, \(.[1]), \($b) build", raw: t("startwait.\(.[0]).\($b)")}
    | .median = .raw - $sw_driver ] as $sw_rows
  # memory of the idle supervisors, per build and mode
| ($rss[0] | group_by([.build, .mode]) | map(
      {build: .[0].build, mode: .[0].mode, n: length,
       rss_mean: (map(.rss_kib) | add / length), rss_median: (map(.rss_kib) | median), rss_max: (map(.rss_kib) | max),
       pss_mean: (map(.pss_kib) | add / length), pss_median: (map(.pss_kib) | median), pss_max: (map(.pss_kib) | max)}
      | .judged = (.build == $sl_shipped and .mode == "batch")
      | .met = (.rss_mean <= $meta.rss_target_kib))
    | sort_by(.build != $sl_shipped, .mode != "batch")) as $mem
  # the control plane: judged on sqlite and the git project; the rest is context
| def startwait($project): t("startwait.\(if $project == "git" then "worktree" else "plain" end).\($meta.cp_build)") - $sw_driver;
  ($cp_post[0] | map(. + {context: (.store != "sqlite"), ratio: (.post.per_second / .healthz.per_second)}
      | .met = (.post.per_second >= $meta.cp_post_target))) as $cp_post_rows
| ($cp_spawn[0] | map(. + {context: (.project != "git"), base_ms: (startwait(.project) * 1000)}
      | .met = (.p50_ms <= $meta.cp_running_target_ms))) as $cp_spawn_rows
| ($cp_drain[0] | map(. + {context: (.project != "git"), base_ms: (startwait(.project) * 1000)}
      | .met = (.hwm_kib <= $meta.cp_rss_target_kib and .completed == .agents and .listed_completed == .agents)))
  as $cp_drain_rows
| ([$vs_true[], $vs_naive[], $size_rows[], $sl_ops[], $cp_post_rows[], $cp_spawn_rows[], $cp_drain_rows[]]
   | map(select(.context | not) | .met)
   + [$mem[] | select(.judged) | .met]
   + gw_checks($gateway[0]) + reap_checks($reap[0]) + rep_checks($replicas[0])
   + (if $k8s[0] then k8s_checks($k8s[0]) else [] end)
   + (if $agents[0] then agents_checks($agents[0]) else [] end)) as $all_met
  # target and met? cells: in parentheses for context rows
| def goal($text): if .context then "(\($text); context)" else $text end;
  def verdict: if .context then "(\(.met | if . then "yes" else "no" end))" else (.met | yesno) end;
  .
| ($watch[0]) as $w
| [
  "# fracta benchmarks",
  "",
  "Written by `tests/bench/run` (`make bench`) from one run on one machine; regenerate it, don't edit it.",
  "Machines here are shared and noisy: read the ratios (both sides measured in the same run, interleaved); absolute times are context.",
  "",
  "- **Date:** \($meta.date)",
  "- **Machine:** \($meta.nproc) CPUs (nproc), \($meta.model), Linux \($meta.kernel)",
  "- **Load average** (1/5/15 min): \($meta.load_start) at the start, \($meta.load_end) at the end" +
    (if $meta.pressure_end != "" then "; CPU pressure over the last minute: \($meta.pressure_end)% of the time some task waited for a CPU" else "" end),
  (if ([$meta.load_start, $meta.load_end] | map(split(" ")[0] | tonumber) | max) > ($meta.nproc | tonumber)
      or ($meta.pressure_end != "" and ($meta.pressure_end | tonumber) > 25)
   then "- **Busy machine:** other work competed for the CPUs during this run (load above \($meta.nproc) or CPU pressure above 25%), so the heavier commands are penalised more than `/bin/true`: read the ratios as upper bounds"
   else empty end),
  "- **Commit:** \($meta.commit)" + (if $meta.src_name != "" then " of `\($meta.src_name)`, the source tree the measured binaries were built from" else "" end) + (if $meta.dirty > 0 then " — the binaries were built from a working tree with uncommitted changes in lib/, cmd/ or CMakeLists.txt" else "" end),
  "- **fracta-events builds:** " + (if $meta.have_static
      then "static `\($meta.static_name)/bin/fracta-events` (\($meta.static_id)) and dynamic `\($meta.build_name)/bin/fracta-events` (\($meta.dyn_id); \($meta.dyn_libs) shared libraries), both measured, as copies taken at the start of the run"
      else "dynamic `\($meta.build_name)/bin/fracta-events` only (\($meta.dyn_id); \($meta.dyn_libs) shared libraries), as a copy taken at the start of the run: \($meta.static_name)/bin/fracta-events was missing" end),
  "- **fracta-spawn-local builds:** " + (if $meta.sl_have_static
      then "static `\($meta.static_name)/bin/fracta-spawn-local` (\($meta.sl_static_id)) and dynamic `\($meta.build_name)/bin/fracta-spawn-local` (\($meta.sl_dyn_id); \($meta.sl_dyn_libs) shared libraries), both measured, as copies taken at the start of the run"
      else "dynamic `\($meta.build_name)/bin/fracta-spawn-local` only (\($meta.sl_dyn_id); \($meta.sl_dyn_libs) shared libraries), as a copy taken at the start of the run: \($meta.static_name)/bin/fracta-spawn-local was missing" end),
  "- **fracta-cp build:** \($meta.cp_build) `\(if $meta.cp_build == "static" then $meta.static_name else $meta.build_name end)/bin/fracta-cp` (\($meta.cp_id)) only, the one that ships" + (if $meta.cp_build == "static" then "" else " (no static fracta-cp and fracta-spawn-local were built)" end) + ", as a copy taken at the start of the run, beside that build's fracta-spawn-local",
  "- **Timing:** \($meta.hyperfine), `--shell=none`; every command \($meta.runs) runs pooled from \($meta.rounds) interleaved rounds (order alternating), after \($meta.warmup) warm-up runs per round; medians over the pooled runs",
  "- **Stores:** sqlite in a temp directory on local disk (WAL, synchronous=NORMAL); \($meta.pg) throwaway server from tests/lib/pg-fixture (fsync off) over its Unix socket. Each filled with \($meta.events) events before timing; the record runs then add to them. After the timing runs the sqlite store held \($meta.sqlite_after.events) events: database file \($meta.sqlite_after.db | bytes), write-ahead log \($meta.sqlite_after.wal | bytes)",
  "- **Targets met:** \($all_met | map(select(.)) | length) of \($all_met | length), judged " + (if $shipped == $sl_shipped then "on the \($shipped) build" else "on fracta-events' \($shipped) build and fracta-spawn-local's \($sl_shipped) build" end) + (if $meta.have_static and $meta.sl_have_static then " (the one that ships; the dynamic build's rows are context)" elif ($meta.have_static or $meta.sl_have_static) then " (a static build was missing)" else " (no static build to judge)" end),
  "- The run took \($meta.seconds) s",
  "",
  "## Process cost against `/bin/true`",
  "",
  "| benchmark | median | baseline median (`/bin/true`) | ratio | target | met? |",
  "|---|---:|---:|---:|---:|---|",
  ($vs_true[] | [.name, (.median | ms), (.base | ms), (.ratio | ratio), goal("≤ \(.target)×"), verdict] | row),
  ($pg_context[] | [.name + " (context)", (.median | ms), (.base | ms), (.median / .base | ratio), "—", "—"] | row),
  "",
  "## fracta-events against the naive shell provider",
  "",
  "`tests/bench/naive-events.sh`: a JSONL file; record = `tail -n1 | jq .seq` + 1, `date`, the line built by `jq`; latest-seq = `tail -n1 | jq .seq`. Same events in the file as in the sqlite store.",
  "",
  "| benchmark | fracta median | baseline median (naive) | ratio naive/fracta | target | met? |",
  "|---|---:|---:|---:|---:|---|",
  ($vs_naive[] | [.name, (.median | ms), (.base | ms), (.ratio | ratio), goal("> 1×, fracta faster"), verdict] | row),
  "",
  "## Watch latency",
  "",
  "`tests/bench/watch_latency.cc`: one `fracta-events watch` running; \($w[0].events // 0) events recorded one at a time, \($w[0].interval_ms // 0) ms apart, each by a fresh `fracta-events record` process whose event carries its send time (CLOCK_MONOTONIC, taken just before the record process is spawned); the reader timestamps each watch line as read(2) returns it. Latency = arrival − send, so it includes the record process itself (its duration is the last column). Target: every event delivered, none later than \($meta.watch_target_ms) ms (the CLI suite only checks that each one arrives).",
  "",
  "| store, build | p50 | p90 | p99 | max | record call p50 | delivered | max ≤ \($meta.watch_target_ms) ms, all delivered |",
  "|---|---:|---:|---:|---:|---:|---|---|",
  ($w[] | ["\(.store), \(.build)", (.p50_us | us_as_ms), (.p90_us | us_as_ms), (.p99_us | us_as_ms), (.max_us | us_as_ms),
           (.record_p50_us | us_as_ms),
           "\(.received)/\(.events), \(.missing) lost, \(.duplicates) duplicated, \(.out_of_order) out of order",
           (if .max_us <= $meta.watch_target_ms * 1000 and .received == .events and .missing == 0 then "yes" else "**no**" end)] | row),
  "",
  sizes_section($size_rows; $meta.size_target; false),
  "",
  "## fracta-spawn-local session ops against `/bin/true` and tmux",
  "",
  "One stream session (`fracta-spawn-local start`, `\"mode\":\"stream\"`) and one tmux session (\($meta.tmux), private server `-L fracta-bench`, no config, a 200×50 pane like fracta's terminal) run the same command: 50 lines of output, then `exec sleep 600`. The ops are timed on them in interleaved rounds with their own `/bin/true` (\($sl_true | ms) in these rounds). tmux equivalents: `is-running` ↔ `has-session -t NAME`, `peek NAME 50` ↔ `capture-pane -p -t NAME -S -50`, and `status` ↔ `display-message -p -t NAME '#{pane_pid} #{session_activity}'`, the closest tmux has (a pid and the last activity, where `status` prints a JSON object with state, times, pid, mode and directory).",
  "",
  "| op | fracta median | tmux op | tmux median | ratio to `/bin/true` | ratio to tmux | target | met? |",
  "|---|---:|---|---:|---:|---:|---:|---|",
  ($sl_ops[] | [.name, (.median | ms), .tmux_name, (.tmux | ms), (.ratio | ratio), (.tmux_ratio | ratio),
                goal("≤ \($meta.spawn_true_target)× `/bin/true` and ≤ \($meta.spawn_tmux_target)× tmux"), verdict] | row),
  "",
  "tmux itself, for reference: " + ($ops | map("`\(.tmux)` \(t("tmux.\(.tmux)") / $sl_true | ratio)") | join(", ")) + " of `/bin/true`.",
  "",
  "## fracta-spawn-local start + wait",
  "",
  "A session's whole life: `start NAME` of `{\"command\":\"true\"}` (in a work directory, or with `\"git\":{\"repo\":…}`: a new worktree `.worktrees/NAME` on a new branch `feature/NAME` of a throwaway repository with one commit of 20 small files; \($meta.git)), then `wait NAME 60`, run by `tests/bench/start-wait.c` with a fresh name every run. Its own cost, median(`start-wait … /bin/true`) − 2 × median(`/bin/true`) = \($sw_driver | ms), was measured in the same rounds and is taken out. \($meta.start_runs) runs per command; the worktrees, branches and state directories of the ended sessions are removed after every round, untimed. No target is set for this one.",
  "",
  "| benchmark | median | ratio to `/bin/true` |",
  "|---|---:|---:|",
  ($sw_rows[] | [.name, (.median | ms), (.median / $sw_true | ratio)] | row),
  "",
  "## Memory of idle fracta-spawn-local supervisors",
  "",
  "\($meta.sessions) idle batch sessions (`sleep 600`) started per build, then \($meta.stream_sessions) stream sessions of the \($sl_shipped) build on their own; after a second, `VmRSS` (from /proc/PID/status) and `Pss` (from /proc/PID/smaps_rollup) of each session's supervisor (`supervisor_pid` in state.json, checked to be the measured binary). RSS counts every page a process has mapped in, shared or not; Pss splits each shared page among the processes that map it, so for many supervisors of one static binary (its code pages shared by all of them) Pss is the memory each one really adds. The target is judged on RSS: the sum over the supervisors divided by their number.",
  "",
  "| build, sessions | RSS sum / N | RSS median | RSS max | Pss sum / N | Pss median | Pss max | target | met? |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---|",
  ($mem[] | . + {context: (.judged | not)}
   | ["\(.build) build, \(.n) \(.mode) sessions", (.rss_mean | mib), (.rss_median | mib), (.rss_max | mib),
      (.pss_mean | mib), (.pss_median | mib), (.pss_max | mib),
      goal("RSS sum / N ≤ \($meta.rss_target_kib | mib)"), verdict] | row),
  "",
  "Starting and stopping them (context): " + ($fleets[0] | map("\(.count) \(.mode) sessions of the \(.build) build started in \(.start_s | fix(2)) s (`start`, 4 at a time) and stopped in \(.stop_s | fix(2)) s (`stop`, 8 at a time)") | join("; ")) + ".",
  "",
  "## Control plane (fracta-cp)",
  "",
  "fracta-cp of the \($meta.cp_build) build runs in the foreground (`fracta-cp run --listen 127.0.0.1:0 --ready-fd 3 --workers N`) in a throwaway project whose `fracta.yaml` holds `agents: {default_runtime: shell}`: the `shell` runtime runs the contract as a `sh -c` command line, and the local backend is the fracta-spawn-local beside fracta-cp (sessions in the project's `.fracta/sessions`). A git project has one commit of 20 small files, and each agent gets a worktree `.worktrees/TASK` on a new branch; a plain-directory project (no git repository) gets plain workspaces. The store is the default sqlite `.fracta/state.db` unless the row says Postgres (a database of its own on the server above). Each fracta-cp is stopped with SIGTERM and must exit 0. The targets are judged on sqlite and on the git project; the other rows are context.",
  "",
  "### Queueing: `POST /api/v1/agents`",
  "",
  "`tests/bench/post_load.cc`: \($meta.cp_threads) threads, each with its own keep-alive connection (fracta's `http::Client`), send \($meta.cp_requests) requests each, one after another, after \($meta.cp_post_warmup) untimed ones; a barrier starts the timed ones together, and each request's latency is taken around the call. Every POST is a new task (`{\"task\":\"b<thread>-<i>\",\"contract\":\"true\"}`) and must answer 201. fracta-cp runs with `--workers 0`, so this is what queueing costs: validate, insert the agent, enqueue its mission and record `lifecycle.queued` in one transaction, answer. Baseline: `GET /healthz` (no store access) the same way against the same process, once before and once after the POSTs, pooled; ratio = POST rate ÷ /healthz rate.",
  "",
  "| store | POST /s | POST p50 | POST p99 | `/healthz` /s (baseline) | `/healthz` p50 | ratio | target | met? |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---|",
  ($cp_post_rows[] | [.store, (.post.per_second | fix(0)), (.post.p50_ms | ms_of_ms), (.post.p99_ms | ms_of_ms),
      (.healthz.per_second | fix(0)), (.healthz.p50_ms | ms_of_ms), (.ratio | ratio),
      (if .context then "—" else "≥ \($meta.cp_post_target)/s" end), (if .context then "—" else (.met | yesno) end)] | row),
  "",
  "Context: " + ($cp_post_rows | map("after \(.queued) agents queued on \(.store), fracta-cp's peak RSS (VmHWM) was \(.hwm_kib | mib); POST max \(.post.max_ms | ms_of_ms)") | join("; ")) + ".",
  "",
  "### spawn → Running",
  "",
  "\($meta.cp_spawns) agents of `sleep 0.2`, spawned one at a time into a fracta-cp with \($meta.cp_workers) workers, each waited for (`GET …/wait`) before the next; two warm-up agents first, not counted. Latency = `ts` of the agent's `lifecycle.running` event − `ts` of its `lifecycle.queued` event (`GET /api/v1/agents/TASK/events`), both stamped by the control plane (RFC 3339, nanoseconds): queued in the POST's transaction; running once a worker has claimed the mission, rendered the runtime's files and start request, minted the agent's token and `fracta-spawn-local start` has returned (in a git project that start makes the worktree). Context column: one `fracta-spawn-local start` + `wait` of `true` on its own, same build, from the start + wait section (with a worktree for the git project, in a directory for the plain one); it includes the `wait` and the process's exit, which spawn → Running does not.",
  "",
  "| project | agents | p50 | p90 | p99 | max | start + wait alone (context) | p50 ÷ start + wait | target | met? |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ($cp_spawn_rows[] | ["\(.project) project, sqlite", "\(.agents)", (.p50_ms | ms_of_ms), (.p90_ms | ms_of_ms), (.p99_ms | ms_of_ms),
      (.max_ms | ms_of_ms), (.base_ms | ms_of_ms), (.p50_ms / .base_ms | ratio),
      goal("p50 ≤ \($meta.cp_running_target_ms) ms"), verdict] | row),
  "",
  "### Draining the queue",
  "",
  "\($meta.cp_drain) agents of `true` queued by a fracta-cp with `--workers 0`, which is then stopped; a fresh fracta-cp with `--workers \($meta.cp_workers)` is timed from just before it starts until `/metrics` counts all \($meta.cp_drain) agents ended (polled every 0.1 s), and `GET /api/v1/agents?status=Completed` must then list all of them. Peak RSS = `VmHWM` of the fracta-cp process (from /proc/PID/status, read just before it is stopped; sessions, git and fracta-spawn-local run in child processes of their own). Wall time per agent = seconds ÷ agents, with \($meta.cp_workers) workers on \($meta.nproc) CPUs; context: one `start` + `wait` of `true` on its own, as above.",
  "",
  "| project | completed | seconds | agents/s | wall time per agent | start + wait alone (context) | fracta-cp VmHWM | VmRSS at the end | target | met? |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ($cp_drain_rows[] | ["\(.project) project, sqlite", "\(.completed)/\(.agents)" + (if .failed > 0 then " (\(.failed) Failed)" else "" end),
      (.seconds | fix(1)), (.per_second | fix(1)), (.seconds / .agents * 1000 | ms_of_ms), (.base_ms | ms_of_ms),
      (.hwm_kib | mib), (.rss_kib | mib), goal("VmHWM ≤ \($meta.cp_rss_target_kib | mib), all Completed"),
      (verdict + (if .met then "" else
        ([(if .hwm_kib > $meta.cp_rss_target_kib then "RSS over" else "RSS within" end),
          (if .completed < .agents then "\(.agents - .completed) not Completed" else empty end)] | " (" + join("; ") + ")") end))] | row),
  "",
  "How the rate changed (context): " + ($cp_drain_rows | map(. as $d | "\(.project) project, agents/s in each quarter of the drain: " +
     ([range(0; 4)] | map(($d.quarters_s[.] - (if . == 0 then 0 else $d.quarters_s[. - 1] end)) as $dt
        | ($d.agents / 4 / $dt) | fix(1)) | join(", ")) + " (a quarter ended at " + ($d.quarters_s | map(fix(1) + " s") | join(", ")) + ")") | join("; ")) + ".",
  ($cp_drain_rows[] | select(.failed > 0)
   | "", "Failed in the \(.project) project: \(.failed) of \(.agents) agents; the first reasons: " +
     (.failed_examples | map("`\(.name)`: \(.reason | gsub("\n"; " "))") | join("; ")) + "."),
  "",
  gw_section($gateway[0]; false),
  "",
  reap_section($reap[0]; false),
  "",
  replicas_section($replicas[0]; false),
  "",
  k8s_section($k8s[0]; false),
  "",
  (if $agents[0] then agents_section($agents[0]; false), "" else empty end),
  (if $retention[0] then retention_section($retention[0]; false), "" else empty end),
  "## Method notes",
  "",
  "- `record` reads its event from stdin, and hyperfine \($meta.hyperfine | ltrimstr("hyperfine ")) has no `--input` (with `--shell=none` stdin is empty), so the record commands run as `stdin-exec FILE fracta-events … record` (`tests/bench/stdin-exec.c`: open, dup2, exec). Its cost, median(`stdin-exec FILE /bin/true`) − median(`/bin/true`) = \($wrap | ms), was measured in the same rounds and is subtracted from every record median above, fracta's and the naive script's alike. The raw medians are below.",
  "- Medians are exact over the pooled runs; a ratio is median/median from the same rounds. Three groups are timed separately, each with its own `/bin/true`: fracta-events, the fracta-spawn-local ops with tmux, and start + wait.",
  "- MiB = 2^20 bytes.",
  "- MB = 10^6 bytes.",
  "",
  "### Raw medians",
  "",
  "| name | command | runs | median |",
  "|---|---|---:|---:|",
  ($m | to_entries[] | ["`\(.key)`", "`\(.value.command // "?" | gsub("\\|"; "\\|"))`", "\(.value.runs)", (.value.median | ms)] | row)
] | join("\n");

if $only == "gateway" then gw_section($gateway[0]; true)
elif $only == "reap" then reap_section($reap[0]; true)
elif $only == "replicas" then replicas_section($replicas[0]; true)
elif $only == "k8s" then k8s_section($k8s[0]; true)
elif $only == "agents" then agents_section($agents[0]; true)
elif $only == "retention" then retention_section($retention[0]; true)
elif $only == "sizes" then sizes_section($sizes[0] | map(.met = (.stripped <= $meta.size_target)); $meta.size_target; true)
elif $only == "" then full
else error("report.jq: no section \($only)") end
