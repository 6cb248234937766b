# shellcheck shell=bash disable=SC2154,SC2034 # sourced by the gateway and before sections, which read what it sets
# sections/gw-common.bash — what the gateway sections share: a project whose
# control plane runs one agent (gw-bench) with a gateway token, a fracta-gw
# in front of it, one mcp_load run, and the clean-up of all that.
gw_pid='' echo_pid='' sg_pid='' gw_project=''
gw_sl=$work/bin/$cp_build/fracta-spawn-local  # the control plane's provider
gw_stop_all() {  # the clean-up's part: whatever still runs
  local p
  for p in "$gw_pid" "$echo_pid" "$sg_pid"; do
    [[ -n $p ]] && { kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; }
  done
  gw_pid='' echo_pid='' sg_pid=''
  if [[ -n $gw_project && -d $gw_project/.fracta/sessions ]]; then
    FRACTA_STATE_DIR=$gw_project/.fracta/sessions "$gw_sl" stop gw-bench >/dev/null 2>&1
  fi
  gw_project=
}
cleanup_hooks+=(gw_stop_all)
gw_start() {  # BIN: a fracta-gw (BIN) for the project; sets gw_pid, gw_url, gw_endpoint (the agent's)
  ready_run fracta-gw "$gw_project" env FRACTA_CP_URL="$cp_url" "$1" serve --listen 127.0.0.1:0 --ready-fd 3
  gw_pid=$ready_pid gw_url=$ready_url gw_endpoint=$ready_url/agents/gw-bench/mcp
  poll_ok "$gw_url/readyz" || die "fracta-gw: /readyz is not 200: $(curl -s "$gw_url/readyz")"
}
gw_stop_gateway() {
  local rc=0
  kill -TERM "$gw_pid"
  wait "$gw_pid" || rc=$?
  gw_pid=
  (( rc == 0 )) || { tail -20 "$work/fracta-gw.log" >&2; die "fracta-gw exited with $rc after SIGTERM"; }
}
gw_load() {  # TARGET URL CLIENTS CALLS ROUND [TOKEN TOOL]: one mcp_load run
  local target=$1 url=$2 c=$3 calls=$4 r=$5 token=${6:-} tool=${7:-echo} out=$work/gw/$1-c$3-r$5
  wait_for "$work/mcp_load" calls --url "$url" ${token:+--token "$token"} --tool "$tool" --clients "$c" \
    --calls $(( calls / c )) --warmup "$GW_WARMUP" --raw "$out.raw" >"$out.json" \
    || die "mcp_load: $target, $c clients, round $r failed"
}
# gw_agent_up: the project (gateway section, echo backend), its control plane
# (1 worker) and the agent gw-bench; sets gw_project and gw_token.
gw_agent_up() {
  local token_file i
  gw_project=$work/gw/project
  cp_project "$gw_project" git
  cat >>"$gw_project/fracta.yaml" <<YAML
gateway: {listen: "127.0.0.1:0"}
mcp_servers:
  servers:
    echo: {local: {command: "$work/mcp_echo"}}
YAML
  cp_run "$gw_project" 1
  # shellcheck disable=SC2016 # the agent's shell expands it
  curl -sf -X POST -H 'Content-Type: application/json' \
    --data-binary '{"task":"gw-bench","contract":"printf %s \"$FRACTA_GATEWAY_TOKEN\" >.token; exec sleep 3600"}' \
    "$cp_url/api/v1/agents" >/dev/null || die "POST gw-bench failed"
  token_file=$gw_project/.worktrees/gw-bench/.token
  for (( i = 0; i < 300; i++ )); do [[ -s $token_file ]] && break; sleep 0.1; done
  [[ -s $token_file ]] || die "agent gw-bench wrote no token: $(curl -s "$cp_url/api/v1/agents/gw-bench")"
  gw_token=$(<"$token_file")
}
