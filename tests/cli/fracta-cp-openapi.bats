#!/usr/bin/env bats
# fracta-cp: the served /openapi.json against the real daemon
# (spec/control-plane.md, "HTTP API").
#
#   walk: …      every operation of the served document is sent to the daemon
#                (with {task} = an existing agent and a minimal valid body):
#                the router always finds it (never its 404 "not found: <path>"
#                nor 405), and the status that comes back is the one this
#                state calls for (expected_status), which the document lists
#                for that operation
#   security: …  with a token configured, exactly the operations the document
#                marks with the bearer scheme refuse a request without it
#
# Each test has its own git project and daemon (`fracta-cp start`), stopped
# in teardown.

load ../lib/common

setup() {
  common_setup
  require_cmd curl git
  PROJECT="$BATS_TEST_TMPDIR/project"
  DAEMON_STARTED=""
}

teardown() {
  if [[ -n $DAEMON_STARTED ]]; then
    (cd "$PROJECT" && "$FRACTA_BIN/fracta-cp" stop >/dev/null) || fail "fracta-cp stop failed"
  fi
  common_teardown
}

# new_project [YAML-LINE…] — a git project with one commit, a .fracta
# directory and a fracta.yaml for the shell runtime on a free loopback port.
new_project() {
  mkdir -p "$PROJECT/.fracta"
  git -C "$PROJECT" init -q
  printf 'fracta test project\n' >"$PROJECT/README"
  git -C "$PROJECT" add README
  git -C "$PROJECT" -c user.name=bats -c user.email=bats@example.invalid commit -qm initial
  {
    echo 'agents: {default_runtime: shell}'
    echo 'control_plane_api:'
    echo '  listen: "127.0.0.1:0"'
    local line
    for line in "$@"; do echo "$line"; done
  } >"$PROJECT/fracta.yaml"
  printf '.fracta/\n.worktrees/\n' >"$PROJECT/.git/info/exclude"
}

# start_daemon — `fracta-cp start` in the project; sets URL.
start_daemon() {
  cd "$PROJECT" || return 1
  run --separate-stderr "$FRACTA_BIN/fracta-cp" start
  assert_status 0
  DAEMON_STARTED=1
  assert_json '.url | startswith("http://127.0.0.1:")'
  URL=$(jq -r .url <<<"$output")
  assert_equal "$(<"$PROJECT/.fracta/controlplane.url")" "$URL" ".fracta/controlplane.url"
}

# concrete PATH — the path with its parameters filled in: {task} is t1,
# an objective's {id} o1, a proposal's 1.
concrete() {
  local path=${1//\{task\}/t1}
  [[ $path == /api/v1/proposals/* ]] && path=${path//\{id\}/1}
  echo "${path//\{id\}/o1}"
}

# call METHOD PATH [BODY] — one request; sets CODE and BODY (the response).
# Extra curl options may come in CURL_EXTRA (an array).
call() {
  local method=$1 path=$2 body=${3-} rc=0
  local args=(-sS -o "$BATS_TEST_TMPDIR/response" -w '%{http_code}' -X "$method" "${CURL_EXTRA[@]}")
  [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  CODE=$(curl "${args[@]}" "$URL$path") || rc=$?
  BODY=$(<"$BATS_TEST_TMPDIR/response")
  CURL_RC=$rc
}

# fetch_document — GET /openapi.json into $BATS_TEST_TMPDIR/openapi.json.
fetch_document() {
  CURL_EXTRA=()
  call GET /openapi.json
  assert_equal "$CODE" 200 "GET /openapi.json"
  printf '%s' "$BODY" >"$BATS_TEST_TMPDIR/openapi.json"
  assert_json '.openapi == "3.1.0" and .info.title == "fracta control plane" and (.paths | length) > 0' "$BODY"
}

# operations — "METHOD<TAB>PATH" of every operation in the fetched document.
operations() {
  jq -r '.paths | to_entries[] | .key as $p | .value | keys_unsorted[]
         | select(IN("get","put","post","delete","options","head","patch","trace")) | "\(.)\t\($p)"' \
    "$BATS_TEST_TMPDIR/openapi.json"
}

# query_of METHOD PATH — "?a=x&b=y" from the operation's query parameters,
# each given its schema's default, else the first value of its enum.
query_of() {
  jq -r --arg m "$1" --arg p "$2" '
    . as $doc
    | def deref: if type == "object" and has("$ref") then . as $r | $doc | getpath($r["$ref"][2:] | split("/")) | deref else . end;
      [(.paths[$p].parameters // []), (.paths[$p][$m].parameters // [])] | add
    | map(deref | select(.in == "query") | .name as $n | (.schema | deref) as $s
          | ($s.default // ($s.enum // [])[0]) as $v | select($v != null) | "\($n)=\($v)")
    | if length == 0 then "" else "?" + join("&") end' "$BATS_TEST_TMPDIR/openapi.json"
}

# body_for "METHOD PATH" — the minimal valid body of each operation that
# takes one; fails for any other.
body_for() {
  case $1 in
  "post /api/v1/agents") echo '{"task":"t2","contract":"true"}' ;;
  "delete /api/v1/agents/{task}") echo '{"keep_files":true}' ;;
  "post /api/v1/agents/{task}/say") echo '{"message":"hello","from":"bats"}' ;;
  "post /api/v1/agents/{task}/events") echo '{"events":[{"type":"bats.ping","message":"hi"}]}' ;;
  "post /api/v1/messages") echo '{"from":"bats","to":"t1","message":"hi"}' ;;
  "post /api/v1/agents/{task}/intent") echo '{"intent":"testing the API"}' ;;
  "post /api/v1/auth/verify") echo '{"task":"t1","token":"not-the-token"}' ;;
  "post /api/v1/objectives") echo '{"id":"o1","description":"walk the API"}' ;;
  "post /api/v1/objectives/{id}/close") echo '{"status":"answered","outcome":"walked"}' ;;
  "post /api/v1/proposals/{id}/reject") echo '{"note":"no"}' ;;
  "post /api/v1/agents/{task}/proposals") echo '{"task":"c1","contract":"true"}' ;;
  "post /api/v1/agents/{task}/findings") echo '{"summary":"a finding"}' ;;
  "post /api/v1/agents/{task}/resolve") echo '{"status":"answered","outcome":"done"}' ;;
  *) return 1 ;;
  esac
}

# expected_status "METHOD PATH" — what each operation must answer in the
# walk: t1 has completed, and the requests go in the document's order with
# the bodies of body_for. Anything else (a 500 too) fails the walk, even
# when the document lists it.
expected_status() {
  case $1 in
  "post /api/v1/agents") echo 201 ;;                 # t2 is new
  "post /api/v1/agents/{task}/say") echo 409 ;;      # t1 has ended; the shell runtime cannot resume
  "post /api/v1/agents/{task}/events") echo 202 ;;
  "post /api/v1/messages") echo 201 ;;
  "post /api/v1/auth/verify") echo 401 ;;           # not t1's token
  "post /api/v1/objectives") echo 201 ;;             # o1 is new
  "post /api/v1/objectives/{id}/unfreeze") echo 409 ;;  # o1 is open, not frozen
  "post /api/v1/proposals/{id}/"*) echo 404 ;;      # no proposal 1
  "post /api/v1/agents/{task}/proposals" | "post /api/v1/agents/{task}/findings" | \
    "post /api/v1/agents/{task}/resolve") echo 409 ;;  # t1 works on no objective
  "get "* | "post "* | "delete "*) echo 200 ;;
  *) return 1 ;;
  esac
}

# is_router_miss — the last answer is the router's own: 405, or a 404 whose
# error is "not found: <path>" (a handler's 404 says `agent "x" not found`).
is_router_miss() {
  [[ $CODE == 405 ]] && return 0
  [[ $CODE == 404 ]] && jq -e '.error | startswith("not found: ")' >/dev/null 2>&1 <<<"$BODY"
}

@test "walk: the router's miss and a handler's 404 are told apart" {
  new_project
  start_daemon
  CURL_EXTRA=()
  call GET /api/v1/no-such-route
  assert_equal "$CODE" 404
  is_router_miss || fail "an unrouted path is not seen as the router's miss: $BODY"
  call PUT /api/v1/agents
  assert_equal "$CODE" 405
  is_router_miss || fail "a 405 is not seen as the router's miss"
  call GET /api/v1/agents/nobody
  assert_equal "$CODE" 404
  assert_json '.error == "agent \"nobody\" not found"' "$BODY"
  ! is_router_miss || fail "a handler's 404 is taken for the router's"
}

@test "walk: every operation of the served document reaches its handler and answers the documented status this state calls for" {
  new_project
  start_daemon
  fetch_document
  CURL_EXTRA=()

  # The agent {task} stands for; wait until it has ended, so that what each
  # operation answers does not depend on timing.
  call POST /api/v1/agents '{"task":"t1","contract":"true"}'
  assert_equal "$CODE" 201 "spawn t1 ($BODY)"
  call GET '/api/v1/agents/t1/wait?timeout=60s'
  assert_equal "$CODE" 200 "wait for t1 ($BODY)"
  assert_json '.status == "Completed"' "$BODY"

  local method path lower key query code_ok expected count=0 report=""
  while IFS=$'\t' read -r lower path; do
    method=${lower^^}
    key="$lower $path"
    local body=""
    if jq -e --arg m "$lower" --arg p "$path" '.paths[$p][$m].requestBody.required == true' \
      "$BATS_TEST_TMPDIR/openapi.json" >/dev/null; then
      body=$(body_for "$key") || fail "$key takes a body, but this suite has none for it: add one to body_for"
    else
      body=$(body_for "$key") || body=""
    fi
    query=$(query_of "$lower" "$path")
    CURL_EXTRA=()
    [[ $path == */watch ]] && CURL_EXTRA=(--max-time 2)
    call "$method" "$(concrete "$path")$query" "$body"
    if [[ $path == */watch ]]; then
      # A stream: a cut-off at --max-time (28) is as good as its end.
      [[ $CURL_RC == 0 || $CURL_RC == 28 ]] || fail "$key: curl exit $CURL_RC"
    else
      [[ $CURL_RC == 0 ]] || fail "$key: curl exit $CURL_RC"
    fi
    report+="$key$query -> $CODE"$'\n'
    ! is_router_miss || fail "$key: the router has no such route ($CODE $BODY)"
    code_ok=$(jq --arg m "$lower" --arg p "$path" --arg c "$CODE" '.paths[$p][$m].responses | has($c)' \
      "$BATS_TEST_TMPDIR/openapi.json")
    [[ $code_ok == true ]] || fail "$key: answered $CODE, which the document does not list ($BODY)"
    expected=$(expected_status "$key") || fail "$key: no expected status for it: add one to expected_status"
    assert_equal "$CODE" "$expected" "$key$query ($BODY)"
    count=$((count + 1))
  done < <(operations)
  echo "$report"  # shown by bats on failure
  assert_equal "$count" "$(jq '[.paths[] | keys_unsorted[] | select(IN("get","put","post","delete","options","head","patch","trace"))] | length' "$BATS_TEST_TMPDIR/openapi.json")" "operations walked"
  ((count >= 19)) || fail "only $count operations in the document"
}

@test "walk: watch streams SSE, metrics is text, the rest is JSON, as documented" {
  new_project
  start_daemon
  fetch_document
  CURL_EXTRA=()
  call POST /api/v1/agents '{"task":"t1","contract":"true"}'
  assert_equal "$CODE" 201
  call GET '/api/v1/agents/t1/wait?timeout=60s'
  assert_equal "$CODE" 200

  local type
  type=$(curl -sS --max-time 2 -o /dev/null -w '%{content_type}' "$URL/api/v1/agents/t1/watch") || [[ $? == 28 ]]
  [[ $type == text/event-stream* ]] || fail "watch: Content-Type $type"
  assert_json '.paths["/api/v1/agents/{task}/watch"].get.responses["200"].content | has("text/event-stream")' \
    "$(<"$BATS_TEST_TMPDIR/openapi.json")"
  # t1 has ended: the stream is a snapshot, then its events, then the end.
  run curl -sS --max-time 10 "$URL/api/v1/agents/t1/watch"
  assert_status 0
  [[ ${lines[0]} == "event: snapshot" ]] || fail "watch: first line ${lines[0]}"
  jq -e '.name == "t1"' <<<"${lines[1]#data: }" >/dev/null || fail "watch: snapshot data ${lines[1]}"

  type=$(curl -sS -o /dev/null -w '%{content_type}' "$URL/metrics")
  [[ $type == text/plain* ]] || fail "metrics: Content-Type $type"
  assert_json '.paths["/metrics"].get.responses["200"].content | has("text/plain")' \
    "$(<"$BATS_TEST_TMPDIR/openapi.json")"
  type=$(curl -sS -o /dev/null -w '%{content_type}' "$URL/api/v1/agents")
  [[ $type == application/json* ]] || fail "agents: Content-Type $type"
}

@test "security: with a token, exactly the operations marked bearer refuse a request without it" {
  # every operation asks once without the token: more failures than the
  # default rate limit lets through
  new_project '  token: bats-secret' '  auth_rate_limit: {failures: 1000, window: 1m}'
  start_daemon
  fetch_document  # open: no token needed
  CURL_EXTRA=(-H 'Authorization: Bearer bats-secret')
  call POST /api/v1/agents '{"task":"t1","contract":"true"}'
  assert_equal "$CODE" 201 "spawn with the token"

  local lower path secured
  while IFS=$'\t' read -r lower path; do
    secured=$(jq --arg m "$lower" --arg p "$path" '(.paths[$p][$m].security // []) | map(has("bearer")) | any' \
      "$BATS_TEST_TMPDIR/openapi.json")
    CURL_EXTRA=()
    [[ $path == */watch ]] && CURL_EXTRA=(--max-time 2)
    call "${lower^^}" "$(concrete "$path")"
    if [[ $secured == true ]]; then
      assert_equal "$CODE" 401 "$lower $path without a token"
      assert_json '.error == "missing bearer token"' "$BODY"
    else
      [[ $CODE != 401 ]] || fail "$lower $path is documented open but answered 401"
      [[ $path != /api/v1/* ]] || fail "$lower $path is under /api/v1 but documented open"
    fi
  done < <(operations)
}
