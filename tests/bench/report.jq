# report.jq — renders tests/bench/RESULTS.md from one run's measurements
# (called by tests/bench/run; every figure is computed here from its inputs).
#
# $meta       the run's facts and targets (object)
# $commands   {name: command line}
# $hyperfine  [[hyperfine result objects of every round, `command` = the name]]
# $watch      [[watch_latency outputs, plus store and build]]
# $sizes      [[{file, size, stripped}]]

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
def us_as_ms: . / 1000 | fix(2) + " ms";
def ratio: fix(2) + "×";
def bytes: if . < 1000000 then (. / 1000 | fix(1)) + " kB" else (. / 1000000 | fix(2)) + " MB" end;
def yesno: if . then "yes" else "**no**" end;
def row: "| " + join(" | ") + " |";

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
| ([$vs_true[], $vs_naive[], $size_rows[]] | map(select(.context | not) | .met)) as $all_met
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
  "- **Commit:** \($meta.commit)" + (if $meta.dirty > 0 then " — the binaries were built from a working tree with uncommitted changes in lib/, cmd/ or CMakeLists.txt" else "" end),
  "- **fracta-events builds:** " + (if $meta.have_static
      then "static `build-static/bin/fracta-events` (\($meta.static_id)) and dynamic `build/bin/fracta-events` (\($meta.dyn_id); \($meta.dyn_libs) shared libraries), both measured, as copies taken at the start of the run"
      else "dynamic `build/bin/fracta-events` only (\($meta.dyn_id); \($meta.dyn_libs) shared libraries), as a copy taken at the start of the run: build-static/bin/fracta-events was missing" end),
  "- **Timing:** \($meta.hyperfine), `--shell=none`; every command \($meta.runs) runs pooled from \($meta.rounds) interleaved rounds (order alternating), after \($meta.warmup) warm-up runs per round; medians over the pooled runs",
  "- **Stores:** sqlite in a temp directory on local disk (WAL, synchronous=NORMAL); \($meta.pg) throwaway server from tests/lib/pg-fixture (fsync off) over its Unix socket. Each filled with \($meta.events) events before timing; the record runs then add to them. After the timing runs the sqlite store held \($meta.sqlite_after.events) events: database file \($meta.sqlite_after.db | bytes), write-ahead log \($meta.sqlite_after.wal | bytes)",
  "- **Targets met:** \($all_met | map(select(.)) | length) of \($all_met | length), judged on the \($shipped) build" + (if $meta.have_static then " (the one that ships; the dynamic build's rows are context)" else " (no static build to judge)" end),
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
  "`tests/bench/watch_latency.cc`: one `fracta-events watch` running; \($w[0].events // 0) events recorded one at a time, \($w[0].interval_ms // 0) ms apart, each by a fresh `fracta-events record` process whose event carries its send time (CLOCK_MONOTONIC, taken just before the record process is spawned); the reader timestamps each watch line as read(2) returns it. Latency = arrival − send, so it includes the record process itself (its duration is the last column). No target is set for this one.",
  "",
  "| store, build | p50 | p90 | p99 | max | record call p50 | delivered |",
  "|---|---:|---:|---:|---:|---:|---|",
  ($w[] | ["\(.store), \(.build)", (.p50_us | us_as_ms), (.p90_us | us_as_ms), (.p99_us | us_as_ms), (.max_us | us_as_ms),
           (.record_p50_us | us_as_ms),
           "\(.received)/\(.events), \(.missing) lost, \(.duplicates) duplicated, \(.out_of_order) out of order"] | row),
  "",
  "## Static binary sizes (stripped)",
  "",
  (if ($size_rows | length) == 0 then "build-static/bin was missing when this ran: sizes not measured."
   else ("| binary | stripped size | as built | target | met? |\n|---|---:|---:|---:|---|\n" +
         ($size_rows | map(["`\(.file)`", "\(.stripped / 1000000 | fix(2)) MB", "\(.size / 1000000 | fix(2)) MB",
                             "≤ \($meta.size_target / 1000000 | fix(0)) MB", (.met | yesno)] | row) | join("\n")))
   end),
  "",
  "## Method notes",
  "",
  "- `record` reads its event from stdin, and hyperfine \($meta.hyperfine | ltrimstr("hyperfine ")) has no `--input` (with `--shell=none` stdin is empty), so the record commands run as `stdin-exec FILE fracta-events … record` (`tests/bench/stdin-exec.c`: open, dup2, exec). Its cost, median(`stdin-exec FILE /bin/true`) − median(`/bin/true`) = \($wrap | ms), was measured in the same rounds and is subtracted from every record median above, fracta's and the naive script's alike. The raw medians are below.",
  "- Medians are exact over the pooled runs; a ratio is median/median from the same rounds.",
  "- MB = 10^6 bytes.",
  "",
  "### Raw medians",
  "",
  "| name | command | runs | median |",
  "|---|---|---:|---:|",
  ($m | to_entries[] | ["`\(.key)`", "`\(.value.command // "?" | gsub("\\|"; "\\|"))`", "\(.value.runs)", (.value.median | ms)] | row)
] | join("\n")
