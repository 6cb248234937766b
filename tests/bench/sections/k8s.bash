# shellcheck shell=bash disable=SC2154 # sourced by tests/bench/run, which sets the knobs and helpers
# sections/k8s.bash — m: fracta-spawn-k8s against the Kubernetes API double
# (tests/k8s/double.mjs, playing kubelet). Sourced by tests/bench/run (a full
# run, or `tests/bench/run k8s`); leaves k8s.json.
#
# tests/bench/k8s-ops starts $K8S_SESSIONS sessions, records the API requests
# of start, list, is-running and stop from the double's request log, and
# times is-running and list as whole processes (hyperfine) against kubectl
# doing the same reads on the same double.

command -v kubectl >/dev/null || die "kubectl not found (run 'make deps')"
k8s_load_start=$(cut -d' ' -f1-3 /proc/loadavg)
k8s_t0=$(date +%s)
say "k8s: $K8S_SESSIONS sessions on the API double; requests per op, is-running and list vs kubectl"
k8s_bin=$work/bin/$k8s_build
BENCH_K8S_RUNS=$K8S_RUNS "$here/k8s-ops" "$k8s_bin" "$K8S_SESSIONS" >"$work/k8s-ops.json" || die "k8s-ops failed"
run_facts "$k8s_load_start" "$k8s_t0"
jq "${FACTS[@]}" \
  --arg build "${k8s_bin##*/}" --arg kubectl "$(kubectl version --client 2>/dev/null | head -1)" \
  --argjson runs "$K8S_RUNS" '. + $ARGS.named' "$work/k8s-ops.json" >"$work/k8s.json"
