#!/usr/bin/env bats
# Acceptance of objectives with real agents: a tree of shell agents three
# levels deep, each proposing its children itself through its gateway
# endpoint (fracta_propose_mission, with the MCP SDK client the way an agent
# CLI calls tools), under an objective's budgets: every admitted mission
# runs, every refused one is refused with its rule, the tree and counters
# are exact. Made with the `fracta` verbs a person would use.

load ../lib/common
load ../lib/cp
load ../lib/gw

setup() { gw_suite_setup; call_tool_script; }
teardown() { gw_suite_teardown; }

# tree_script — every agent's contract: below level 3 propose two children
# (the root also a third, over max_branching, and a duplicate dedupe_key);
# at level 3 propose one more (too deep) and report a finding. Then stay
# live until the test releases them, so the counts do not race the ends;
# the root resolves the objective last.
tree_script() {
  OUT="$BATS_TEST_TMPDIR/out"
  mkdir -p "$OUT"
  TREE="$BATS_TEST_TMPDIR/tree.sh"
  cat >"$TREE" <<SH
#!/bin/sh
set -u
CALL=$CALL OUT=$OUT TREE=$TREE RELEASE=$BATS_TEST_TMPDIR/release
SH
  cat >>"$TREE" <<'SH'
me=$FRACTA_TASK
level=$(( $(printf %s "$me" | tr -cd - | wc -c) + 1 ))
propose() {
  $CALL fracta_propose_mission "{\"task\":\"$1\",\"contract\":\"sh $TREE\",\"dedupe_key\":\"$2\",\"rationale\":\"split $me\"}" >"$OUT/$1.out" 2>&1
  echo $? >"$OUT/$1.rc"
}
if [ "$level" -lt 3 ]; then
  propose "$me-a" "k-$me-a"
  propose "$me-b" "k-$me-b"
  if [ "$level" = 1 ]; then
    propose "$me-c" "k-$me-c"
    propose "$me-dup" "k-$me-a"
  fi
else
  propose "$me-a" "k-$me-a"
  $CALL fracta_report_finding "{\"summary\":\"leaf $me\"}" >"$OUT/$me.finding" 2>&1 || exit 3
fi
i=0
until [ -e "$RELEASE" ] || [ "$i" -ge 900 ]; do sleep 0.2; i=$((i + 1)); done
if [ "$level" = 1 ]; then
  $CALL fracta_resolve_objective '{"status":"answered","outcome":"all leaves reported"}' >"$OUT/resolve.out" 2>&1 || exit 4
fi
exit 0
SH
}

objective_counts() {  # mission_count refused_count finding_count, as "7 6 4"
  expect_api 200 GET /api/v1/objectives/o1 || return 1
  jq -r '.objective | "\(.mission_count) \(.refused_count) \(.finding_count)"' <<<"$API_BODY"
}
counts_are() { [[ $(objective_counts) == "$1" ]]; }

@test "a tree of 3 levels of shell agents proposing through the gateway: admitted run, refused name their rule, counters exact" {
  CP_QUEUE="workers: 8, lease_timeout: 10s, start_timeout: 60s, max_attempts: 100" gw_project
  tree_script
  cd "$P"
  run --separate-stderr "$FRACTA_BIN/fracta" objectives create --id o1 --description "three levels" \
    --max-depth 3 --max-branching 2 --max-missions 50
  assert_status 0
  assert_json '.objective.id == "o1" and .objective.status == "open" and .objective.max_depth == 3'
  run --separate-stderr "$FRACTA_BIN/fracta" spawn r --objective o1 --contract "sh $TREE"
  assert_status 0

  # 1 root + 2 + 4 admitted; refused: r-c (max_branching), r-dup (dedupe),
  # and the four level-3 proposals (max_depth); 4 findings
  wait_for 180 counts_are "7 6 4"
  touch "$BATS_TEST_TMPDIR/release"
  local a
  for a in r r-a r-b r-a-a r-a-b r-b-a r-b-b; do
    wait_agent "$a" 60
    assert_json '.status == "Completed" and .objective_id == "o1"' "$API_BODY"
  done

  # the tree: each agent's parent is its proposer
  expect_api 200 GET /api/v1/agents
  assert_equal "$(jq -c '[.agents[] | select(.objective_id == "o1") | "\(.name)<\(.parent)"] | sort' <<<"$API_BODY")" \
    '["r-a-a<r-a","r-a-b<r-a","r-a<r","r-b-a<r-b","r-b-b<r-b","r-b<r","r<"]' "the tree"
  # every refusal names its rule, to the agent and in the proposals
  assert_equal "$(cat "$OUT/r-c.rc" "$OUT/r-dup.rc" "$OUT/r-a-a-a.rc" "$OUT/r-a.rc" | paste -sd' ')" "1 1 1 0" "tool exits"
  grep -q max_branching "$OUT/r-c.out" || fail "r-c: $(cat "$OUT/r-c.out")"
  grep -q dedupe_key "$OUT/r-dup.out" || fail "r-dup: $(cat "$OUT/r-dup.out")"
  grep -q max_depth "$OUT/r-b-b-a.out" || fail "r-b-b-a: $(cat "$OUT/r-b-b-a.out")"
  run --separate-stderr "$FRACTA_BIN/fracta" proposals list --objective o1
  assert_status 0
  assert_equal "$(jq -c '[.proposals[] | select(.status == "refused") | .rule] | sort' <<<"$output")" \
    '["dedupe","max_branching","max_depth","max_depth","max_depth","max_depth"]' "refusal rules"
  assert_equal "$(jq '[.proposals[] | select(.status == "admitted")] | length' <<<"$output")" 6 "admitted proposals"
  run "$FRACTA_BIN/fracta-events" --store "$STORE_URL" query --type objective.refused
  assert_status 0
  assert_equal "$(grep -c . <<<"$output")" 6 "objective.refused events"

  # the root resolved it; the counters are exact
  run --separate-stderr "$FRACTA_BIN/fracta" objectives get o1
  assert_status 0
  assert_json '.objective | .status == "answered" and .outcome == "all leaves reported" and .mission_count == 7
    and .refused_count == 6 and .finding_count == 4 and .completed_count == 7 and .failed_count == 0'
}
