#!/usr/bin/env bats
# The scripted model server (tests/model/server.mjs) itself: the Anthropic
# Messages wire (SSE and JSON, count_tokens), script selection and turn
# counting, the request log, the faults — driven by curl — and one run of the
# real Claude Code CLI through a tool loop against it.
# shellcheck disable=SC2154  # status, output: set by bats' `run`

load ../lib/common
load ../lib/model

setup() {
  model_setup <<'EOF'
{
  "conversations": [
    { "match": "task-alpha", "turns": [
        { "text": "Looking.", "tools": [ { "name": "Bash", "input": { "command": "ls" } } ] },
        { "text": "alpha done: {{last_user}}" } ] },
    { "match": "task-beta", "turns": [
        { "text": "beta one" },
        { "text": "beta two", "fault": { "kind": "rate_limit", "times": 1 } } ] },
    { "match": "task-faults", "turns": [
        { "text": "never seen", "fault": { "kind": "server_error", "retry": false } },
        { "text": "overloaded once", "fault": { "kind": "overloaded", "times": 1 } },
        { "text": "a long answer that is cut in the middle", "fault": { "kind": "cut", "times": 1 } },
        { "text": "never", "fault": { "kind": "hang" } } ] }
  ],
  "fallback": { "text": "side answer" }
}
EOF
}

teardown() {
  common_teardown
}

# messages N TASK [USER] — a Messages request body with N assistant turns
# before the last user message.
messages() {
  local n=$1 task=$2 user=${3:-go} i
  {
    printf '{"model":"claude-test","max_tokens":100,"system":[{"type":"text","text":"You work on %s."}],"messages":[' "$task"
    printf '{"role":"user","content":"start"}'
    for ((i = 0; i < n; i++)); do
      printf ',{"role":"assistant","content":[{"type":"text","text":"t%d"}]}' "$i"
      printf ',{"role":"user","content":[{"type":"text","text":"<system-reminder>x</system-reminder>"},{"type":"text","text":"%s"}]}' "$user"
    done
    printf ']%s}' "${STREAM:+,\"stream\":true}"
  }
}

post() { # post PATH BODY — prints the response body, then the status on a line
  curl -sS -o - -w '\n%{http_code}\n' -H 'x-api-key: sk-secret-value' -H 'content-type: application/json' \
    --data-binary "$2" "$MODEL_URL$1"
}

@test "writes its URL to the ready file; a plain JSON turn carries the scripted tool call" {
  [[ $MODEL_URL =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "ready file holds '$MODEL_URL'"
  run post /v1/messages "$(messages 0 task-alpha)"
  assert_status 0
  [[ ${lines[-1]} == 200 ]] || fail "status ${lines[-1]}"
  assert_json '.role == "assistant" and .stop_reason == "tool_use"
    and .content[0] == {"type":"text","text":"Looking."}
    and .content[1].type == "tool_use" and .content[1].name == "Bash" and .content[1].input == {"command":"ls"}
    and (.content[1].id | startswith("toolu_")) and .usage.input_tokens > 0 and .usage.output_tokens > 0' "${lines[0]}"
}

@test "streaming SSE: the event sequence of a Messages stream, text in two deltas" {
  body=$(STREAM=1 messages 1 task-alpha 'hello there')
  run post '/v1/messages?beta=true' "$body"
  assert_status 0
  events=$(grep '^event: ' <<<"$output" | cut -d' ' -f2 | tr '\n' ' ')
  assert_equal "$events" "message_start content_block_start content_block_delta content_block_delta content_block_stop message_delta message_stop " "event order"
  text=$(grep '^data: ' <<<"$output" | cut -c7- | jq -rj 'select(.type=="content_block_delta") | .delta.text')
  assert_equal "$text" "alpha done: hello there" "joined text ({{last_user}} without system reminders)"
  grep '^data: ' <<<"$output" | cut -c7- | jq -se 'map(select(.type=="message_delta"))[0] | .delta.stop_reason == "end_turn" and .usage.output_tokens > 0' >/dev/null ||
    fail "no end_turn message_delta with usage: $output"
}

@test "a tool call streams as tool_use with input_json_delta" {
  body=$(STREAM=1 messages 0 task-alpha)
  run post /v1/messages "$body"
  assert_status 0
  data=$(grep '^data: ' <<<"$output" | cut -c7-)
  jq -se 'map(select(.type=="content_block_start"))[1].content_block | .type == "tool_use" and .name == "Bash" and .input == {}' <<<"$data" >/dev/null ||
    fail "no tool_use block start: $data"
  jq -se '[.[] | select(.delta.type=="input_json_delta") | .delta.partial_json] | join("") | fromjson == {"command":"ls"}' <<<"$data" >/dev/null ||
    fail "tool input not streamed: $data"
  jq -se 'map(select(.type=="message_delta"))[0].delta.stop_reason == "tool_use"' <<<"$data" >/dev/null || fail "stop_reason is not tool_use"
}

@test "conversations are told apart by their marker; turns advance by the assistant turns in the request" {
  run post /v1/messages "$(messages 0 task-beta)"
  assert_json '.content[0].text == "beta one"' "${lines[0]}"
  run post /v1/messages "$(messages 0 task-alpha)"
  assert_json '.content[1].name == "Bash"' "${lines[0]}"
  # The same request again (a resumed or retried call) gets the same turn.
  run post /v1/messages "$(messages 0 task-beta)"
  assert_json '.content[0].text == "beta one"' "${lines[0]}"
  run post /v1/messages "$(messages 3 task-beta)"
  [[ ${lines[-1]} == 500 ]] || fail "past the last turn: status ${lines[-1]}"
  assert_json '.error.message | test("has no turn 3")' "${lines[0]}"
  run post /v1/messages "$(messages 0 task-unknown)"
  assert_json '.content[0].text == "side answer"' "${lines[0]}"
  run model_turns
  assert_equal "$(jq -sc 'map([.conversation, .turn, .response])' <<<"$output")" \
    '[[1,0,"text"],[0,0,"tools"],[1,0,"text"],[1,3,"script-exhausted"],["fallback",0,"text"]]' "recorded turns"
}

@test "the log holds path, body and headers, never the credential" {
  post /v1/messages "$(messages 0 task-beta)" >/dev/null
  run jq -c 'select(.path == "/v1/messages")' "$MODEL_LOG"
  assert_json '.method == "POST" and .headers["x-api-key"] == "'"$(model_fingerprint sk-secret-value)"'" and .headers["content-type"] == "application/json"
    and .body.system[0].text == "You work on task-beta." and (.time | length) > 0'
  run grep -c sk-secret-value "$MODEL_LOG"
  assert_equal "$output" 0 "the key in the log"
}

@test "count_tokens and models answer; an unknown endpoint is a 404 and is recorded" {
  run post /v1/messages/count_tokens "$(messages 0 task-alpha)"
  assert_json '.input_tokens > 0' "${lines[0]}"
  run curl -sS "$MODEL_URL/v1/models"
  assert_json '.data[0].id == "scripted"'
  run post /v1/nothing '{}'
  [[ ${lines[-1]} == 404 ]] || fail "status ${lines[-1]}"
  assert_equal "$(jq -r '.response' "$MODEL_LOG" | tr '\n' ' ')" "count_tokens models not-found " "recorded"
}

@test "faults: 429 once then the turn; 500 every time with x-should-retry false; 529 once" {
  run post /v1/messages "$(messages 1 task-beta)"
  [[ ${lines[-1]} == 429 ]] || fail "first try: status ${lines[-1]}"
  assert_json '.type == "error" and .error.type == "rate_limit_error"' "${lines[0]}"
  run post /v1/messages "$(messages 1 task-beta)"
  assert_json '.content[0].text == "beta two"' "${lines[0]}"
  for _ in 1 2; do
    run curl -sS -D - -H 'content-type: application/json' --data-binary "$(messages 0 task-faults)" "$MODEL_URL/v1/messages"
    grep -q '^HTTP/1.1 500' <<<"$output" || fail "not a 500: $output"
    grep -qi '^x-should-retry: false' <<<"$output" || fail "no x-should-retry: $output"
    grep -q '"api_error"' <<<"$output" || fail "not an api_error: $output"
  done
  run post /v1/messages "$(messages 1 task-faults)"
  [[ ${lines[-1]} == 529 ]] || fail "status ${lines[-1]}"
  assert_json '.error.type == "overloaded_error"' "${lines[0]}"
  run post /v1/messages "$(messages 1 task-faults)"
  assert_json '.content[0].text == "overloaded once"' "${lines[0]}"
  assert_equal "$(model_turns | jq -r .response | tr '\n' ' ')" \
    "fault:rate_limit text fault:server_error fault:server_error fault:overloaded text " "recorded"
}

@test "faults: a stream cut mid-message, then whole on the retry" {
  body=$(STREAM=1 messages 2 task-faults)
  run curl -sS -H 'content-type: application/json' --data-binary "$body" "$MODEL_URL/v1/messages"
  [[ $status -ne 0 ]] || fail "curl saw a complete answer: $output"
  grep -q 'event: content_block_delta' <<<"$output" || fail "nothing of the message was sent: $output"
  grep -q 'message_stop' <<<"$output" && fail "the cut stream has a message_stop: $output"
  run curl -sS -H 'content-type: application/json' --data-binary "$body" "$MODEL_URL/v1/messages"
  assert_status 0
  grep -q 'message_stop' <<<"$output" || fail "the retry is not whole: $output"
}

@test "faults: a plain JSON answer cut mid-message" {
  run --separate-stderr curl -sS -H 'content-type: application/json' --data-binary "$(messages 2 task-faults)" "$MODEL_URL/v1/messages"
  [[ $status -ne 0 ]] || fail "curl saw a complete answer: $output"
  [[ $output == '{"id":"msg_'* ]] || fail "nothing of the message was sent: $output"
  jq -e . <<<"${lines[0]}" >/dev/null 2>&1 && fail "the cut answer parses as JSON: $output"
  true
}

@test "faults: a hang keeps the request open until the server stops" {
  curl -sS -o "$BATS_TEST_TMPDIR/hang.out" -H 'content-type: application/json' \
    --data-binary "$(messages 3 task-faults)" "$MODEL_URL/v1/messages" &
  curl_pid=$!
  wait_for 60 grep -q '"fault:hang"' "$MODEL_LOG"
  kill -0 "$curl_pid" || fail "curl ended although the server never answered"
  model_stop
  wait_for 60 process_gone "$curl_pid"
  wait "$curl_pid" && fail "curl succeeded on a hung request"
  [[ ! -s $BATS_TEST_TMPDIR/hang.out ]] || fail "something was answered: $(cat "$BATS_TEST_TMPDIR/hang.out")"
}

@test "bad arguments: exit 2 with a one-line error" {
  run node "$FRACTA_SOURCE/tests/model/server.mjs" --script script.json
  assert_status 2
  [[ $output == "model-server: error: "* ]] || fail "output: $output"
}

@test "the real Claude Code CLI runs a scripted Bash tool loop against it" {
  PATH=$(agent_cli_path):$PATH
  claude_offline_env
  export HOME=$BATS_TEST_TMPDIR/home
  mkdir -p "$HOME" work
  cd work
  git init -q
  run claude -p "please do task-alpha" --output-format json --allowedTools Bash
  assert_status 0
  assert_json '.is_error == false and .result == "alpha done: please do task-alpha" and .num_turns == 2 and (.session_id | length) > 0'
  model_calls_at_least 2 0
  # The second call carries the Bash result (the `ls` of an empty repository
  # prints nothing) as a tool_result for the scripted tool_use id.
  run model_turns 0
  assert_json '.turn == 1 and ([.body.messages[] | select(.role=="user") | .content[]? | select(type=="object" and .type=="tool_result")] | length) == 1' "${lines[1]}"
  assert_json '[.body.tools[].name] | index("Bash") != null' "${lines[0]}"
}
