#!/usr/bin/env bats
# fracta-events with the k8s: store (ConfigMaps), against the Kubernetes API
# double (tests/k8s/double.mjs): the events contract of fracta-events.bats,
# run as a third store kind, plus what only this store has — Gas City's
# layout (read back with kubectl as gc-events-k8s reads it), the CAS counter
# under 4 concurrent writers (issue 6, acceptance 5), repair of an event
# whose writer died between the counter bump and the event's ConfigMap, and
# giving up with 111 when the counter never stops changing.
#
# The contract_* functions and their helpers are fracta-events.bats' own:
# they are sourced from it (everything between its `load` and its first
# @test), so both suites run one definition of the contract.
#
# shellcheck disable=SC2154  # status, output, lines, stderr, stderr_lines: set by bats' `run`
# shellcheck disable=SC2119,SC2120  # configmaps' selector is passed in @test bodies, which shellcheck skips
load ../lib/common
load ../lib/k8s

CONTRACT_SUITE="$BATS_TEST_DIRNAME/fracta-events.bats"
# shellcheck source=/dev/null
source <(sed -n '/^load \.\.\/lib\/common$/,/^@test /{/^load /d;/^@test /d;p}' "$CONTRACT_SUITE")
declare -F contract_seq_starts_at_1_no_gaps >/dev/null ||
  { echo "no contract_* functions found in $CONTRACT_SUITE" >&2; exit 1; }

setup_file() {
  require_cmd openssl node kubectl jq curl
  k8s_file_certs
}

setup() {
  common_setup
  EV="$FRACTA_BIN/fracta-events"
  [[ -x $EV ]] || fail "$EV is not built (cmake --build build)"
  export HOME="$BATS_TEST_TMPDIR"
  k8s_events_store gc
  NS=gc
}

teardown() {
  common_teardown
}

# The ConfigMaps of the namespace (JSON list), straight from the API.
configmaps() { k8s_curl "$K8S_URL/api/v1/namespaces/$NS/configmaps${1:+?labelSelector=$1}"; }

# ---------------------------------------------------------- the contract --

@test "k8s: seq starts at 1 with no gaps; latest-seq matches list" { contract_seq_starts_at_1_no_gaps; }
@test "k8s: event fields round-trip; unknown fields and input seq ignored" { contract_fields_round_trip; }
@test "k8s: missing or Go-zero ts becomes now; explicit ts kept verbatim" { contract_ts; }
@test "k8s: list filters (Go names, snake_case, since as time, subject, limit)" { contract_list_filters; }
@test "k8s: watch N replays seq > N, then streams new events" { contract_watch_replays_then_streams; }
@test "k8s: unknown op exits 2 silently; no op 100; --help lists ops; --version" { contract_cli_surface; }
@test "k8s: bad input exits 100 with one stderr line and writes no ConfigMap" { contract_bad_input_fresh_store; }
@test "k8s: bad input leaves an existing store unchanged" { contract_bad_input_leaves_store_unchanged; }
@test "k8s: 8 concurrent first writers create the counter once" { contract_concurrent_first_use; }
@test "k8s: query filters as NDJSON; tail and --format text print lines" { contract_query_and_tail; }

@test "k8s: ensure-running creates the counter ConfigMap (seq 0), and only that" {
  contract_ensure_running_creates_store
  run --separate-stderr configmaps
  assert_status 0
  assert_json '[.items[].metadata.name] == ["gc-events-seq"]'
  assert_json '.items[0].data.seq == "0"'
  assert_json '.items[0].metadata.labels["gc/component"] == "event-seq"'
}

# ---------------------------------------------------- acceptance (issue 6) --

@test "k8s: 4 concurrent writers x 100 records: seqs 1..400, no gaps, no loss; a live watcher sees them in order" {
  local procs=4 each=100 total=400
  # Started on the empty store: it lists, then watches, so nothing can slip
  # between; it is checked at the end, not waited for.
  start_bg "$EV" watch 0 >watch.out 2>watch.err
  local watcher=$BG_PID

  concurrent_records "$procs" "$each"

  run --separate-stderr ev list <<<'{}'
  assert_status 0
  local events=$output
  assert_json "length == $total" "$events"
  assert_json "[.[].seq] == [range(1; $total + 1)]" "$events"
  assert_json "[.[].message] | unique | length == $total" "$events"
  assert_json '[.[] | select((.message | split("-")[0]) != .actor)] == []' "$events"
  assert_equal "$(latest_seq)" "$total" "latest-seq"

  # The ConfigMaps themselves: one per event, named by seq, and the counter.
  run --separate-stderr configmaps gc/component=event
  assert_status 0
  assert_json "[.items[].metadata.name] | sort == [range(1; $total + 1) | \"gc-evt-\" + (tostring | (\"0\" * (10 - length)) + .)]"
  run --separate-stderr kc get configmap gc-events-seq -o jsonpath='{.data.seq}'
  assert_status 0
  assert_equal "$output" "$total" "counter data.seq"

  watched_in_order "$watcher" "$total"
}

# ------------------------------------------------------- Gas City's layout --

@test "k8s: Gas City's layout: kubectl reads the counter's data.seq and each event's data.event" {
  record '{"type":"session.woke","actor":"mayor","subject":"t1","message":"hi","payload":{"k":[1,2]}}'
  record '{"type":"bead.created","actor":"deacon/1 x","ts":"2024-01-01T10:00:00+02:00"}'
  record '{"type":"session.woke","actor":"mayor"}'

  # The counter, as gc-events-k8s reads it.
  run --separate-stderr kc get configmap gc-events-seq -o json
  assert_status 0
  assert_json '.data.seq == "3"'
  assert_json '.metadata.labels["gc/component"] == "event-seq"'

  # Its list: every gc/component=event ConfigMap's data.event, sorted by seq.
  run --separate-stderr kc get configmaps -l gc/component=event -o json
  assert_status 0
  local cms=$output
  assert_json '[.items[].metadata.name] | sort == ["gc-evt-0000000001","gc-evt-0000000002","gc-evt-0000000003"]' "$cms"
  run jq -c '[.items[].data.event | fromjson] | sort_by(.seq)' <<<"$cms"
  assert_status 0
  local listed=$output
  assert_json '[.[].seq] == [1,2,3]' "$listed"
  assert_json '.[0] | .type == "session.woke" and .actor == "mayor" and .subject == "t1" and .message == "hi" and .payload == {"k":[1,2]}' "$listed"
  assert_json '.[1].ts == "2024-01-01T10:00:00+02:00"' "$listed"
  # The same events fracta's own list prints.
  run --separate-stderr ev list <<<'{}'
  assert_status 0
  assert_equal "$(jq -c 'sort_by(.seq)' <<<"$output")" "$listed" "fracta list vs the ConfigMaps"

  # Labels: type and actor, sanitised into label values; its label selectors work.
  assert_json '[.items[] | select(.metadata.name == "gc-evt-0000000002") | .metadata.labels] | .[0] |
               .["gc/type"] == "bead.created" and .["gc/actor"] == "deacon_1_x"' "$cms"
  run --separate-stderr kc get configmaps -l 'gc/component=event,gc/type=session.woke,gc/actor=mayor' -o json
  assert_status 0
  assert_json '[.items[].data.event | fromjson | .seq] | sort == [1,3]'
  # fracta's own filter matches the exact actor, not its label value.
  assert_list '{"actor":"deacon/1 x"}' '[2]'
  assert_list '{"actor":"deacon_1_x"}' '[]'
}

@test "k8s: any type or actor makes valid labels (the API server would refuse an event ConfigMap otherwise)" {
  local long
  long=$(printf 'x%.0s' {1..70})
  record '{"type":"_lead.and.trail_","actor":"-/-"}'
  record "{\"type\":\"$long\",\"actor\":\"ü\"}"
  record '{"type":"a b/c:d","actor":"x.-_y"}'
  run --separate-stderr configmaps gc/component=event
  assert_status 0
  assert_json '[.items[] | .metadata.labels | [.["gc/type"], .["gc/actor"]]] | sort ==
               ([["lead.and.trail", ""], ["'"${long:0:63}"'", ""], ["a_b_c_d", "x.-_y"]] | sort)'
  run --separate-stderr ev list <<<"{\"type\":\"$long\"}"
  assert_status 0
  assert_json '[.[].seq] == [2]'
  assert_list '{"actor":"-/-"}' '[1]'
}

@test "k8s: watch exits 0 soon after its reader goes away" {
  record '{"type":"a"}'
  mkfifo pipe
  # The FIFO is opened by the background shell: opening it here would block.
  # shellcheck disable=SC2016  # $0 expands in the inner shell
  start_bg bash -c 'exec "$0" watch 0 >pipe 2>watch.err' "$EV"
  local watcher=$BG_PID
  head -n 1 pipe >first.out
  assert_json '.seq == 1' "$(cat first.out)"
  wait_for 5 process_gone "$watcher"
  wait "$watcher" || fail "watch exited $? after its reader left: $(cat watch.err)"
  [[ ! -s watch.err ]] || fail "watch wrote to stderr: $(cat watch.err)"
}

@test "k8s: events Gas City's script wrote are read (counter without last-event)" {
  # gc-events-k8s's own writes: the counter with data.seq only, event ConfigMaps via apply.
  kc apply -f - <<'EOF' >/dev/null
apiVersion: v1
kind: ConfigMap
metadata: {name: gc-events-seq, labels: {app.kubernetes.io/managed-by: gascity, gc/component: event-seq}}
data: {seq: "2"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: gc-evt-0000000001, labels: {app.kubernetes.io/managed-by: gascity, gc/component: event, gc/type: a, gc/actor: gc}}
data: {event: '{"seq":1,"type":"a","ts":"2024-01-01T00:00:01Z","actor":"gc"}'}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: gc-evt-0000000002, labels: {app.kubernetes.io/managed-by: gascity, gc/component: event, gc/type: b, gc/actor: gc}}
data: {event: '{"seq":2,"type":"b","ts":"2024-01-01T00:00:02Z","actor":"gc"}'}
EOF
  assert_equal "$(latest_seq)" "2" "latest-seq"
  record '{"type":"c","actor":"fracta"}'
  assert_list '{}' '[1,2,3]'
  run --separate-stderr ev list <<<'{}'
  assert_json '[.[].type] == ["a","b","c"]'
}

# ------------------------------------------------------- crash and contention --

# The state a writer leaves when it dies after its counter CAS and before it
# creates the event's ConfigMap: data.seq and data.last-event say N+1, no gc-evt-N+1.
simulate_crashed_writer() {
  local obj
  obj=$(kc get configmap gc-events-seq -o json) || return 1
  obj=$(jq -c --arg ev "$1" '.data.seq = ($ev | fromjson | .seq | tostring) | .data["last-event"] = $ev' <<<"$obj")
  kc replace -f - <<<"$obj" >/dev/null || fail "could not replace the counter"
}

@test "k8s: a writer that died between the counter bump and its ConfigMap leaves no gap: readers and the next writer repair it" {
  record '{"type":"a","message":"1"}'
  record '{"type":"a","message":"2"}'
  start_bg "$EV" watch 0 >watch.out 2>watch.err
  wait_for 10 has_lines watch.out 2

  simulate_crashed_writer '{"seq":3,"type":"orphan","ts":"2024-01-01T00:00:00Z","actor":"dead","message":"3"}'
  run --separate-stderr kc get configmap gc-evt-0000000003
  assert_status 1

  # The watcher notices the counter ahead of the ConfigMaps and repairs it.
  wait_for 10 has_lines watch.out 3
  run --separate-stderr kc get configmap gc-evt-0000000003 -o jsonpath='{.data.event}'
  assert_status 0
  assert_json '.seq == 3 and .type == "orphan" and .message == "3"'

  # Again with no watcher: the next writer repairs before taking its seq.
  kill "$BG_PID"
  simulate_crashed_writer '{"seq":4,"type":"orphan","ts":"2024-01-01T00:00:00Z","actor":"dead","message":"4"}'
  record '{"type":"a","message":"5"}'
  run --separate-stderr ev list <<<'{}'
  assert_status 0
  assert_json '[.[].seq] == [1,2,3,4,5]'
  assert_json '[.[].message] == ["1","2","3","4","5"]'

  # And a reader alone: latest-seq and list show the orphan, never a gap.
  simulate_crashed_writer '{"seq":6,"type":"orphan","ts":"2024-01-01T00:00:00Z","actor":"dead","message":"6"}'
  assert_equal "$(latest_seq)" "6" "latest-seq"
  assert_list '{}' '[1,2,3,4,5,6]'
  run jq -s -c '[.[].seq]' watch.out
  assert_equal "$output" "[1,2,3]" "the first watcher's seqs"
}

@test "k8s: a reader without create rights still sees an orphaned event; a writer without them fails loudly" {
  record '{"type":"a","message":"1"}'
  simulate_crashed_writer '{"seq":2,"type":"orphan","ts":"2024-01-01T00:00:00Z","actor":"dead","message":"2"}'
  k8s_ctl POST /deny '{"verb":"create","resource":"configmaps"}' >/dev/null
  assert_list '{}' '[1,2]'
  assert_list '{"type":"orphan"}' '[2]'
  assert_list '{"type":"a"}' '[1]'
  assert_equal "$(latest_seq)" "2" "latest-seq"
  run --separate-stderr kc get configmap gc-evt-0000000002
  assert_status 1

  # The writer must create gc-evt-2 before it may take seq 3: it cannot, so it fails.
  run --separate-stderr ev record <<<'{"type":"a","message":"3"}'
  assert_status 1
  assert_equal "${#stderr_lines[@]}" "1" "stderr lines: $stderr"
  [[ $stderr == *forbidden* ]] || fail "stderr: $stderr"
  assert_equal "$(latest_seq)" "2" "latest-seq after the refused record"

  k8s_ctl DELETE /deny >/dev/null
  record '{"type":"a","message":"3"}'
  run --separate-stderr ev list <<<'{}'
  assert_status 0
  assert_json '[.[].seq] == [1,2,3] and [.[].message] == ["1","2","3"]'
  run --separate-stderr configmaps gc/component=event
  assert_json '[.items[].metadata.name] | sort == ["gc-evt-0000000001","gc-evt-0000000002","gc-evt-0000000003"]'
}

@test "k8s: a counter that conflicts on every replace: record gives up with 111, one stderr line, nothing recorded" {
  record '{"type":"first"}'
  k8s_fault '{"method":"PUT","path":"/configmaps/gc-events-seq","code":409,"reason":"Conflict","count":-1}'
  run --separate-stderr ev record <<<'{"type":"second"}'
  assert_status 111
  assert_equal "$output" "" "stdout"
  assert_equal "${#stderr_lines[@]}" "1" "stderr lines: $stderr"
  [[ ${stderr_lines[0]} == "fracta-events: error: record: "* ]] || fail "stderr: $stderr"
  local puts
  puts=$(k8s_requests | jq -s '[.[] | select(.method == "PUT" and .name == "gc-events-seq")] | length')
  assert_equal "$puts" "25" "counter replaces (1 + 24 attempts)"
  k8s_ctl DELETE /faults >/dev/null
  assert_list '{}' '[1]'
  assert_equal "$(latest_seq)" "1" "latest-seq"
}

# ------------------------------------------------------------- selection --

@test "k8s: 'k8s:' takes the kubeconfig context's namespace; --kubeconfig and --context are honoured" {
  K8S_NAMESPACE=gc k8s_kubeconfig "$BATS_TEST_TMPDIR/other-config" token "$K8S_TOKEN"
  export KUBECONFIG=/nonexistent
  run --separate-stderr ev --store k8s: --kubeconfig "$BATS_TEST_TMPDIR/other-config" --context double \
    record <<<'{"type":"via-context"}'
  assert_status 0
  run --separate-stderr configmaps gc/component=event
  assert_json '[.items[].data.event | fromjson | .type] == ["via-context"]'

  run --separate-stderr ev --store k8s: --kubeconfig "$BATS_TEST_TMPDIR/other-config" --context nope latest-seq
  assert_status 100
  assert_equal "${#stderr_lines[@]}" "1" "stderr lines: $stderr"

  run --separate-stderr ev --store k8s:Not_A_Namespace --kubeconfig "$BATS_TEST_TMPDIR/other-config" latest-seq
  assert_status 100
  [[ $stderr == "fracta-events: error: "*namespace* ]] || fail "stderr: $stderr"
}
