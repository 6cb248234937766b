#!/usr/bin/env bats
# Nudges into the real interactive TUIs (issue 24): Claude Code and Codex in
# stream sessions, their model the scripted model server (tests/model). Many
# people (or a Gas City mayor) may talk to one agent at once; the supervisor
# types one nudge at a time and waits for the program to react, so each
# message reaches the model once, whole, in the order it was typed.
#
#   concurrent  20 `fracta say` at once to one stream agent: every message
#               is in what the model was sent, exactly once and unbroken,
#               in the order the supervisor typed them (the ordinal of
#               each nudge.delivered event)
#   deaf        then, the TUI stopped (SIGSTOP): a nudge fails within its
#               --timeout (exit 111) and is recorded as nudge.failed
# shellcheck disable=SC2154  # status, output: set by bats' `run`

load ../lib/agents

setup() { agent_setup; claude_onboarded; }
teardown() { agent_teardown; }

N=20

# message I — the I-th message: long enough (200 characters) that a split or
# an interleaving would show, and unique to I.
message() { printf 'note-%02d-%s-end' "$1" "$(printf '%0194d' 0 | tr 0 "$(($1 % 10))")"; }

# A conversation that answers whatever it is told, for many turns.
chat_script() {
  jq -n --argjson n $((N + 10)) '{conversations: [{match: "busy-room",
      turns: ([{text: "Ready for orders."}] + [range($n) | {text: "Noted: {{last_user}}"}])}],
    fallback: {text: "ok"}}' >"$BATS_TEST_TMPDIR/script.json"
}

claude_start() {
  model_start "$BATS_TEST_TMPDIR/script.json" || return 1
  agent_start claude CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 "base_url: \"$MODEL_URL\"" \
    "secret_env: {ANTHROPIC_API_KEY: sk-ant-test-not-a-real-key}"
}

codex_start() {
  model_start "$BATS_TEST_TMPDIR/script.json" || return 1
  agent_start codex CODEX_HOME="$HOME/.codex" "base_url: \"$MODEL_URL/v1\"" "model: gpt-test" \
    "secret_env: {OPENAI_API_KEY: sk-test-not-a-real-key}"
}

# user_text CONV — every text the user sent, in the model's last request of
# that conversation, in order, joined by newlines (Anthropic messages or
# Responses input items alike).
user_text() {
  model_turns "$1" | tail -1 | jq -r '
    .body | (.messages // .input) | .[] | select(.role == "user") | .content |
    if type == "string" then . else .[] | select(.type == "text" or .type == "input_text") | .text end'
}

# all_heard CONV — the model was sent every message, each as a text of its
# own (one run onto another, as a stranded line and the next nudge would be,
# does not count).
all_heard() {
  local text i
  text=$(user_text "$1") || return 1
  for ((i = 1; i <= N; i++)); do grep -qxF "$(message "$i")" <<<"$text" || return 1; done
}

# missing CONV — the numbers of the messages the model was never sent whole.
missing() {
  local text i
  text=$(user_text "$1")
  for ((i = 1; i <= N; i++)); do grep -qxF "$(message "$i")" <<<"$text" || printf '%02d ' "$i"; done
}

# heard_or_settled CONV — every message was heard, or the conversation has
# settled without some: the model got no new request for a while (15 s times
# the suite's patience; a TUI sends what it queued as soon as a reply ends).
# Then a lost message fails the test at once, not after wait_for's patience.
heard_or_settled() {
  all_heard "$1" && return 0
  local n now
  n=$(model_turns "$1" | wc -l)
  now=$(date +%s)
  if [[ $n != "${settle_turns:-}" ]]; then
    settle_turns=$n settle_since=$now
    return 1
  fi
  ((now - settle_since >= 15 * ${FRACTA_TEST_PATIENCE:-4}))
}

# typed_order TASK — the message numbers in the order the supervisor typed
# them: the session's nudge.delivered events sorted by their ordinal, each
# matched to its message by the text's digest (the event never holds the text).
typed_order() {
  local i digests=()
  for ((i = 1; i <= N; i++)); do
    digests+=("$(printf %s "$(message "$i")" | sha256sum | cut -c1-16)=$(printf %02d "$i")")
  done
  fracta events query --subject "$1" --type nudge.delivered |
    jq -sr 'sort_by(.payload.ordinal) | .[] | .payload.text_sha256' |
    while read -r d; do
      for i in "${digests[@]}"; do
        if [[ ${i%=*} == "$d" ]]; then echo "${i#*=}"; fi
      done
    done
}

# heard_order CONV — the message numbers, in the order the model was sent them.
heard_order() { user_text "$1" | grep -o 'note-[0-9][0-9]-[0-9]*-end' | sed 's/^note-\([0-9][0-9]\)-.*/\1/'; }

concurrent_says() {
  local start=$1 i pids=()
  chat_script
  "$start" || return 1
  run --separate-stderr fracta spawn busy-room --mode stream --contract "You are busy-room: answer what you are told."
  assert_status 0
  # Ready: its first answer is on the screen. (A TUI still starting reads and
  # drops what is typed: Claude Code loses keys typed before its first frame
  # is done; fracta cannot tell that apart from a read.)
  wait_for 300 peek_shows busy-room "Ready for orders." || fail "the agent never answered: $(fracta get busy-room)"
  for ((i = 1; i <= N; i++)); do
    (fracta say busy-room "$(message "$i")" >"$BATS_TEST_TMPDIR/say$i.out" 2>&1
     echo $? >"$BATS_TEST_TMPDIR/say$i.rc") &
    pids+=($!)
  done
  wait "${pids[@]}"
  for ((i = 1; i <= N; i++)); do
    assert_equal "$(cat "$BATS_TEST_TMPDIR/say$i.rc")" 0 "say $i: $(cat "$BATS_TEST_TMPDIR/say$i.out")"
  done
  wait_for 600 heard_or_settled 0 || return 1
  all_heard 0 || fail "the model was never sent message(s) $(missing 0)(the conversation settled without them); last request's user text: $(user_text 0)"
  local heard delivered text
  heard=$(heard_order 0)
  text=$(user_text 0)
  for ((i = 1; i <= N; i++)); do
    assert_equal "$(grep -cxF "$(message "$i")" <<<"$text")" 1 "times message $i reached the model"
  done
  delivered=$(typed_order busy-room)
  assert_equal "$(wc -l <<<"$delivered")" "$N" "nudge.delivered events of the messages"
  assert_equal "$(tr '\n' ' ' <<<"$heard")" "$(tr '\n' ' ' <<<"$delivered")" "the model's order against the typing order"
  # Deaf: the TUI stopped (SIGSTOP) reads nothing; a nudge gives up in time.
  local pids pid
  pids=$(session_processes "$WT_ROOT/busy-room")
  [[ -n $pids ]] || fail "no process runs in the worktree"
  for pid in $pids; do kill -STOP "$pid"; done
  run --separate-stderr "$FRACTA_BIN/fracta-spawn-local" nudge busy-room --timeout 3 <<<"are you there?"
  for pid in $pids; do kill -CONT "$pid" 2>/dev/null || true; done
  assert_status 111
  [[ $stderr == *"no reaction within 3s"* ]] || fail "stderr: $stderr"
  run --separate-stderr fracta events query --subject busy-room --type nudge.failed
  assert_status 0
  assert_equal "$(jq -s length <<<"$output")" 1 "nudge.failed events"
  run --separate-stderr fracta kill busy-room
  assert_status 0
}

@test "claude: 20 concurrent says to one stream agent reach the model once each, whole, in typing order; deaf → 111" {
  concurrent_says claude_start
}

@test "codex: 20 concurrent says to one stream agent reach the model once each, whole, in typing order; deaf → 111" {
  concurrent_says codex_start
}
