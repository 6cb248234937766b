#!/usr/bin/env bats
# The scripted model server's OpenAI Responses wire (tests/model/responses.mjs):
# the SSE event sequence, function calls with argument deltas, MCP tools in
# their namespace, turn counting over input items, faults — driven by curl —
# and one run of the real Codex CLI through a shell tool loop against it.
# shellcheck disable=SC2154  # status, output, lines: set by bats' `run`

load ../lib/common
load ../lib/model

setup() {
  model_setup <<'EOF'
{
  "conversations": [
    { "match": "task-alpha", "turns": [
        { "text": "Looking.", "tools": [ { "name": "exec_command", "input": { "cmd": "echo alpha >alpha.txt" } } ] },
        { "tools": [ { "name": "mcp__fracta__fracta_set_intent", "input": { "intent": "testing" } } ] },
        { "text": "alpha done: {{last_user}}" } ] },
    { "match": "task-faults", "turns": [
        { "text": "limited once", "fault": { "kind": "rate_limit", "times": 1 } },
        { "text": "a long answer that is cut in the middle", "fault": { "kind": "cut", "times": 1 } },
        { "text": "never", "fault": { "kind": "server_error", "retry": false } } ] }
  ]
}
EOF
}

teardown() {
  common_teardown
}

# responses N TASK [USER] — a Responses request body (Codex's shape) with N
# earlier model turns, each a message and a function call with its output;
# with NS set, the tools offer the MCP namespace mcp__fracta.
responses() {
  local n=$1 task=$2 user=${3:-go} i
  {
    printf '{"model":"gpt-test","input":['
    printf '{"type":"message","role":"developer","content":[{"type":"input_text","text":"You work on %s."}]}' "$task"
    printf ',{"type":"message","role":"user","content":[{"type":"input_text","text":"<environment_context>x</environment_context>"}]}'
    printf ',{"type":"message","role":"user","content":[{"type":"input_text","text":"start"}]}'
    for ((i = 0; i < n; i++)); do
      printf ',{"type":"message","role":"assistant","content":[{"type":"output_text","text":"t%d"}]}' "$i"
      printf ',{"type":"function_call","call_id":"c%d","name":"exec_command","arguments":"{}"}' "$i"
      printf ',{"type":"function_call_output","call_id":"c%d","output":"ok"}' "$i"
      printf ',{"type":"message","role":"user","content":[{"type":"input_text","text":"%s"}]}' "$user"
    done
    printf '],"tools":[{"type":"function","name":"exec_command"}'
    [[ -n ${NS:-} ]] && printf ',{"type":"namespace","name":"mcp__fracta","tools":[{"type":"function","name":"fracta_set_intent"}]}'
    printf ']%s}' "${STREAM:+,\"stream\":true}"
  }
}

post() { # post BODY — prints the response body, then the status on a line
  curl -sS -o - -w '\n%{http_code}\n' -H 'authorization: Bearer sk-secret-value' -H 'content-type: application/json' \
    --data-binary "$1" "$MODEL_URL/v1/responses"
}

data_of() { grep '^data: ' <<<"$1" | cut -c7-; }

@test "streaming SSE: the event sequence of a text and function-call turn, with usage at the end" {
  run post "$(STREAM=1 responses 0 task-alpha)"
  assert_status 0
  events=$(grep '^event: ' <<<"$output" | cut -d' ' -f2 | tr '\n' ' ')
  assert_equal "$events" "response.created response.in_progress response.output_item.added response.content_part.added response.output_text.delta response.output_text.delta response.output_text.done response.content_part.done response.output_item.done response.output_item.added response.function_call_arguments.delta response.function_call_arguments.done response.output_item.done response.completed " "event order"
  data=$(data_of "$output")
  text=$(jq -rj 'select(.type=="response.output_text.delta") | .delta' <<<"$data")
  assert_equal "$text" "Looking." "joined text"
  jq -se 'map(select(.type=="response.output_item.done"))[1].item | .type == "function_call" and .name == "exec_command"
    and (.arguments | fromjson) == {"cmd":"echo alpha >alpha.txt"} and (.call_id | startswith("call_")) and .namespace == null' <<<"$data" >/dev/null ||
    fail "no function_call item: $data"
  jq -se '[.[] | select(.type=="response.function_call_arguments.delta") | .delta] | join("") | fromjson == {"cmd":"echo alpha >alpha.txt"}' <<<"$data" >/dev/null ||
    fail "arguments not streamed: $data"
  jq -se 'last | .type == "response.completed" and .response.status == "completed" and .response.usage.input_tokens > 0
    and .response.usage.output_tokens > 0 and .response.usage.total_tokens == .response.usage.input_tokens + .response.usage.output_tokens
    and (.response.output | length) == 2' <<<"$data" >/dev/null || fail "no response.completed with usage: $data"
  jq -se '[.[].sequence_number] == [range(0; length)]' <<<"$data" >/dev/null || fail "sequence numbers: $data"
}

@test "an MCP tool is called in its namespace when the request offers it, by its scripted name otherwise" {
  run post "$(NS=1 responses 1 task-alpha)"
  assert_json '.status == "completed" and .output[0].type == "function_call" and .output[0].name == "fracta_set_intent"
    and .output[0].namespace == "mcp__fracta" and (.output[0].arguments | fromjson) == {"intent":"testing"}' "${lines[0]}"
  run post "$(responses 1 task-alpha)"
  assert_json '.output[0].name == "mcp__fracta__fracta_set_intent" and .output[0].namespace == null' "${lines[0]}"
}

@test "turns advance by the runs of model items in the input; {{last_user}} skips Codex's context messages" {
  run post "$(responses 2 task-alpha 'and now this')"
  assert_json '.output[0].content[0].text == "alpha done: and now this"' "${lines[0]}"
  run post "$(responses 0 task-alpha)"
  assert_json '.output[0].content[0].text == "Looking."' "${lines[0]}"
  run post "$(responses 3 task-alpha)"
  [[ ${lines[-1]} == 500 ]] || fail "past the last turn: status ${lines[-1]}"
  assert_json '.error.message | test("has no turn 3")' "${lines[0]}"
  assert_equal "$(model_turns | jq -sc 'map([.conversation, .turn, .response])')" \
    '[[0,2,"text"],[0,0,"tools"],[0,3,"script-exhausted"]]' "recorded turns"
  run grep -c sk-secret-value "$MODEL_LOG"
  assert_equal "$output" 0 "the key in the log"
}

@test "faults: 429 once then the turn; a stream cut mid-message; 500 with x-should-retry false" {
  run post "$(responses 0 task-faults)"
  [[ ${lines[-1]} == 429 ]] || fail "first try: status ${lines[-1]}"
  assert_json '.error.code == "rate_limit_exceeded" and (.error.message | length) > 0' "${lines[0]}"
  run post "$(responses 0 task-faults)"
  assert_json '.output[0].content[0].text == "limited once"' "${lines[0]}"

  body=$(STREAM=1 responses 1 task-faults)
  run curl -sS -H 'content-type: application/json' --data-binary "$body" "$MODEL_URL/v1/responses"
  [[ $status -ne 0 ]] || fail "curl saw a complete answer: $output"
  grep -q 'event: response.output_text.delta' <<<"$output" || fail "nothing of the message was sent: $output"
  grep -q 'response.completed' <<<"$output" && fail "the cut stream completed: $output"
  run curl -sS -H 'content-type: application/json' --data-binary "$body" "$MODEL_URL/v1/responses"
  grep -q 'response.completed' <<<"$output" || fail "the retry is not whole: $output"

  run curl -sS -D - -H 'content-type: application/json' --data-binary "$(responses 2 task-faults)" "$MODEL_URL/v1/responses"
  grep -q '^HTTP/1.1 500' <<<"$output" || fail "not a 500: $output"
  grep -qi '^x-should-retry: false' <<<"$output" || fail "no x-should-retry: $output"
}

@test "the real Codex CLI runs a scripted shell tool loop against it" {
  PATH=$(agent_cli_path):$PATH
  export HOME=$BATS_TEST_TMPDIR/home CODEX_HOME=$BATS_TEST_TMPDIR/codex-home OPENAI_API_KEY=sk-test-not-a-real-key
  mkdir -p "$HOME" "$CODEX_HOME" work
  cd work
  git init -q
  run --separate-stderr codex exec --json --skip-git-repo-check -c sandbox_mode='"workspace-write"' \
    -c "model_providers.scripted={name=\"scripted\",base_url=\"$MODEL_URL/v1\",env_key=\"OPENAI_API_KEY\",wire_api=\"responses\"}" \
    -c model_provider='"scripted"' -m gpt-test "please do task-alpha" </dev/null
  assert_status 0
  [[ $(<alpha.txt) == alpha ]] || fail "the scripted command did not run: $output $stderr"
  # Codex offers no fracta namespace here: the MCP call is refused by name,
  # and the turn after it still ends the run.
  jq -se 'map(select(.type=="item.completed" and .item.type=="agent_message"))[-1].item.text == "alpha done: please do task-alpha"' <<<"$output" >/dev/null ||
    fail "no final answer: $output"
  model_calls_at_least 3 0
  run model_turns 0
  assert_json '.turn == 1 and ([.body.input[] | select(.type=="function_call_output")] | length) == 1
    and .body.stream == true and (.headers.authorization | startswith("<redacted"))' "${lines[1]}"
  assert_json '[.body.tools[].name] | index("exec_command") != null' "${lines[0]}"
}
