#!/usr/bin/env bats
# manifests/ (spec/kubernetes.md, "Manifests for running fracta itself"):
# rendered offline with the real kubectl's kustomize, every object validated
# against the Kubernetes OpenAPI schemas with unknown fields refused
# (tests/k8s/validate.mjs), and the properties the spec asks for checked on
# the rendered objects with jq. The session objects fracta-spawn-k8s builds
# (lib/k8s/objects) are validated by the same script from the unit suite
# (tests/unit/k8s_objects_test.cc, "k8s render: …"), which renders a batch
# and a stream session's Lists.

# shellcheck disable=SC2154  # status, output, stderr: set by bats' `run`
load ../lib/common

setup() {
  common_setup
  require_cmd kubectl node
  MANIFESTS="$FRACTA_SOURCE/manifests"
  VALIDATE="$FRACTA_SOURCE/tests/k8s/validate.mjs"
}

teardown() {
  common_teardown
}

# render DIR — `kubectl kustomize DIR` into rendered.yaml, and the objects as
# a JSON array into objects.json (validated on the way).
render() {
  run --separate-stderr kubectl kustomize "$1"
  assert_status 0 || return 1
  printf '%s\n' "$output" >rendered.yaml
  run --separate-stderr node "$VALIDATE" --json rendered.yaml
  assert_status 0 || return 1
  printf '%s\n' "$output" >objects.json
}

# A writable copy of manifests/ (kustomize refuses absolute paths to bases).
copy_manifests() {
  cp -r "$MANIFESTS" copy
}

# The pod specs of every workload, as {kind, name, spec}.
pod_specs='[.[] | select(.kind == "Deployment" or .kind == "StatefulSet" or .kind == "Job") |
             {kind, name: .metadata.name, spec: .spec.template.spec}]
           + [.[] | select(.kind == "CronJob") | {kind, name: .metadata.name, spec: .spec.jobTemplate.spec.template.spec}]
           + [.[] | select(.kind == "Pod") | {kind, name: .metadata.name, spec: .spec}]'

@test "kubectl kustomize renders manifests/ offline, and every object validates" {
  run --separate-stderr kubectl kustomize "$MANIFESTS"
  assert_status 0
  printf '%s\n' "$output" >rendered.yaml
  run --separate-stderr node "$VALIDATE" rendered.yaml
  assert_status 0
  assert_equal "$output" "ok: 18 objects"
}

@test "the validator refuses unknown fields, bad enums and wrong types in rendered manifests" {
  kubectl kustomize "$MANIFESTS" >rendered.yaml
  sed -e 's/terminationGracePeriodSeconds: 45/terminationGracePeriodSecond: 45/' \
    -e 's/concurrencyPolicy: Forbid/concurrencyPolicy: Sometimes/' \
    -e 's/replicas: 2/replicas: "2"/' rendered.yaml >broken.yaml
  run --separate-stderr node "$VALIDATE" broken.yaml
  assert_status 1
  [[ $output == *"Deployment/fracta-cp: /spec/template/spec/terminationGracePeriodSecond: unknown field"* ]] || fail "$output"
  [[ $output == *"CronJob/fracta-reap: /spec/concurrencyPolicy: must be one of Allow, Forbid, Replace"* ]] || fail "$output"
  [[ $output == *"Deployment/fracta-gw: /spec/replicas: must be integer"* ]] || fail "$output"
}

@test "everything the spec lists is there, in namespace fracta" {
  render "$MANIFESTS"
  run jq -r '[.[] | .kind + "/" + (.metadata.name | sub("-[a-z0-9]{10}$"; ""))] | sort | join(" ")' objects.json
  assert_equal "$output" "ConfigMap/fracta-control-plane ConfigMap/fracta-gateway CronJob/fracta-reap Deployment/fracta-cp Deployment/fracta-gw Namespace/fracta PodDisruptionBudget/fracta-cp PodDisruptionBudget/fracta-gw Role/fracta-control-plane RoleBinding/fracta-control-plane Secret/fracta-control-plane Secret/fracta-postgres Service/fracta-cp Service/fracta-gw Service/fracta-postgres ServiceAccount/fracta-agent ServiceAccount/fracta-control-plane StatefulSet/fracta-postgres"
  assert_json 'all(.[] | select(.kind != "Namespace"); .metadata.namespace == "fracta")' "$(cat objects.json)"
  # Postgres keeps its data on a claim.
  assert_json '.[] | select(.kind == "StatefulSet") | .spec.volumeClaimTemplates[0].spec.resources.requests.storage == "10Gi"' "$(cat objects.json)"
}

@test "every pod runs as non-root with the restricted security context, with requests and limits" {
  render "$MANIFESTS"
  run jq -c "$pod_specs | length" objects.json
  assert_equal "$output" "4"
  # One line per violation; none expected.
  run jq -r "$pod_specs | .[] | . as \$w |
    (if .spec.securityContext.runAsNonRoot != true then \"\(\$w.name): pod runAsNonRoot\" else empty end),
    (if .spec.securityContext.seccompProfile.type != \"RuntimeDefault\" then \"\(\$w.name): pod seccomp\" else empty end),
    (if (.spec.securityContext.runAsUser // 0) == 0 then \"\(\$w.name): pod runAsUser\" else empty end),
    ((.spec.containers + (.spec.initContainers // []))[] | . as \$c |
      (if .securityContext.allowPrivilegeEscalation != false then \"\(\$w.name)/\(\$c.name): allowPrivilegeEscalation\" else empty end),
      (if .securityContext.capabilities.drop != [\"ALL\"] or (.securityContext.capabilities.add // []) != [] then \"\(\$w.name)/\(\$c.name): capabilities\" else empty end),
      (if .securityContext.readOnlyRootFilesystem != true then \"\(\$w.name)/\(\$c.name): readOnlyRootFilesystem\" else empty end),
      (if .securityContext.privileged == true or .securityContext.runAsUser == 0 then \"\(\$w.name)/\(\$c.name): root or privileged\" else empty end),
      (if (.resources.requests.cpu and .resources.requests.memory and .resources.limits.cpu and .resources.limits.memory) | not then \"\(\$w.name)/\(\$c.name): resources\" else empty end),
      (if .imagePullPolicy != \"IfNotPresent\" then \"\(\$w.name)/\(\$c.name): imagePullPolicy\" else empty end))" objects.json
  assert_status 0
  assert_equal "$output" ""
  # The namespace enforces the restricted Pod Security Standard.
  assert_json '.[] | select(.kind == "Namespace") | .metadata.labels["pod-security.kubernetes.io/enforce"] == "restricted"' "$(cat objects.json)"
}

@test "images come from kustomization.yaml's images: one place overrides them all" {
  render "$MANIFESTS"
  run jq -r "[$pod_specs | .[].spec.containers[].image] | unique | join(\" \")" objects.json
  assert_equal "$output" "ghcr.io/fracta-dev/fracta:0.1.0 postgres:17.6"
  # The project's version is the image tag.
  run grep -E '^project\(fracta VERSION 0\.1\.0 ' "$FRACTA_SOURCE/CMakeLists.txt"
  assert_status 0

  copy_manifests
  sed -i -e 's|^  - name: ghcr.io/fracta-dev/fracta$|  - name: ghcr.io/fracta-dev/fracta\n    newName: registry.example.com/mirror/fracta|' \
    -e 's|newTag: 0.1.0|newTag: 9.9.9|' -e 's|newTag: "17.6"|newTag: "16.4"|' copy/kustomization.yaml
  render copy
  run jq -r "[$pod_specs | .[] | .name + \"=\" + (.spec.containers[].image)] | sort | join(\" \")" objects.json
  assert_equal "$output" "fracta-cp=registry.example.com/mirror/fracta:9.9.9 fracta-gw=registry.example.com/mirror/fracta:9.9.9 fracta-postgres=postgres:16.4 fracta-reap=registry.example.com/mirror/fracta:9.9.9"
}

@test "the control plane's Role grants exactly the verbs fracta-spawn-k8s uses" {
  # The list fracta-spawn-k8s is designed to use (manifests/rbac.yaml says
  # which operation needs which verb). The k8s provider suite compares the
  # API calls it records against the double with this same list.
  local expected="batch/jobs: create delete get list watch
core/configmaps: create delete list
core/pods: create delete get list watch
core/pods/log: get
core/pods/proxy: create delete get update
core/secrets: create delete get list"
  render "$MANIFESTS"
  run jq -r '.[] | select(.kind == "Role" and .metadata.name == "fracta-control-plane") | .rules[] |
             .apiGroups[] as $g | .resources[] as $r |
             "\(if $g == "" then "core" else $g end)/\($r): \(.verbs | sort | join(" "))"' objects.json
  assert_status 0
  assert_equal "$(LC_ALL=C sort <<<"$output")" "$(LC_ALL=C sort <<<"$expected")"
  # No wildcards, no cluster-wide grants.
  assert_json '[.[] | select(.kind == "ClusterRole" or .kind == "ClusterRoleBinding")] | length == 0' "$(cat objects.json)"
  assert_json '[.[] | select(.kind == "Role") | .rules[] | .verbs[], .resources[], .apiGroups[] | select(. == "*")] | length == 0' "$(cat objects.json)"
  # Bound to the account the control plane and the reaper run as; the
  # gateway and Postgres get no API token at all.
  assert_json '.[] | select(.kind == "RoleBinding") | .roleRef.name == "fracta-control-plane" and .subjects == [{"kind":"ServiceAccount","name":"fracta-control-plane","namespace":"fracta"}]' "$(cat objects.json)"
  run jq -r "$pod_specs | .[] | .name + \"=\" + (.spec.serviceAccountName // \"-\") + \",\" + (.spec.automountServiceAccountToken | if . == null then \"default\" else tostring end)" objects.json
  assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "fracta-cp=fracta-control-plane,default fracta-gw=-,false fracta-postgres=-,false fracta-reap=fracta-control-plane,default "
  assert_json '.[] | select(.kind == "ServiceAccount" and .metadata.name == "fracta-agent") | .automountServiceAccountToken == false' "$(cat objects.json)"
}

@test "secrets come from Secrets, never from ConfigMaps or plain env values" {
  render "$MANIFESTS"
  # As shipped, the Secrets' values are empty (fracta init fills them with
  # random ones; fracta-cp refuses an empty token): no placeholder anywhere.
  run jq -r '[.[] | select(.kind == "Secret") | .data[] | select(. != "")] | length' objects.json
  assert_equal "$output" "0"
  run grep -r -i -E 'change-?me|placeholder' "$MANIFESTS"
  assert_status 1
  run jq -r '.[] | select(.kind == "Secret") | .data | keys[]' objects.json
  assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "FRACTA_CP_TOKEN POSTGRES_PASSWORD "
  # Every env var named like a secret is a secretKeyRef, to an existing Secret.
  run jq -r "([.[] | select(.kind == \"Secret\") | .metadata.name]) as \$secrets |
    $pod_specs | .[] | .name as \$w | .spec.containers[].env[]? |
    select(.name | test(\"PASSWORD|TOKEN\")) |
    if .valueFrom.secretKeyRef.name as \$s | \$secrets | index(\$s) then empty else \"\(\$w): \(.name)\" end" objects.json
  assert_status 0
  assert_equal "$output" ""
  # The DSN names the password by variable, expanded at load time.
  run jq -r '.[] | select(.kind == "ConfigMap" and (.metadata.name | startswith("fracta-control-plane"))) | .data["fracta.yaml"]' objects.json
  [[ $output == *'postgres://fracta:${POSTGRES_PASSWORD}@fracta-postgres:5432/fracta'* ]] || fail "$output"
}

@test "control plane: 2 replicas, probes, preStop drain within the grace period, Service :9090, PDB" {
  render "$MANIFESTS"
  local cp
  cp=$(jq -c '.[] | select(.kind == "Deployment" and .metadata.name == "fracta-cp")' objects.json)
  assert_json '.spec.replicas == 2' "$cp"
  assert_json '.spec.template.spec.containers[0].livenessProbe.httpGet.path == "/healthz"' "$cp"
  assert_json '.spec.template.spec.containers[0].readinessProbe.httpGet.path == "/readyz"' "$cp"
  assert_json '.spec.template.spec.containers[0].lifecycle.preStop.sleep.seconds > 0' "$cp"
  # grace > preStop + --drain-timeout
  run jq -r '.spec.template.spec as $s | $s.containers[0] as $c |
             ($c.command | index("--drain-timeout")) as $i | ($c.command[$i + 1] | rtrimstr("s") | tonumber) as $drain |
             $s.terminationGracePeriodSeconds > ($drain + $c.lifecycle.preStop.sleep.seconds)' <<<"$cp"
  assert_equal "$output" "true"
  assert_json '.[] | select(.kind == "Service" and .metadata.name == "fracta-cp") | .spec.type == "ClusterIP" and .spec.ports[0].port == 9090' "$(cat objects.json)"
  assert_json '.[] | select(.kind == "Service" and .metadata.name == "fracta-gw") | .spec.ports[0].port == 8080' "$(cat objects.json)"
  assert_json '.[] | select(.kind == "Deployment" and .metadata.name == "fracta-gw") | .spec.replicas == 2' "$(cat objects.json)"
  assert_json '.[] | select(.kind == "PodDisruptionBudget" and .metadata.name == "fracta-cp") | .spec.minAvailable == 1' "$(cat objects.json)"
  assert_json '.[] | select(.kind == "CronJob") | .spec.jobTemplate.spec.template.spec.containers[0].command == ["fracta-reap","--config","/etc/fracta/fracta.yaml","--once","--format","json"]' "$(cat objects.json)"
}

@test "container commands use only flags the real binaries know" {
  render "$MANIFESTS"
  local bin flags flag
  for bin in fracta-cp fracta-gw; do
    run --separate-stderr "$FRACTA_BIN/$bin" --help
    assert_status 0
    local help=$output
    flags=$(jq -r --arg b "$bin" '.[] | select(.kind == "Deployment") | .spec.template.spec.containers[].command |
                                  select(.[0] == $b) | .[] | select(startswith("--"))' objects.json)
    [[ -n $flags ]] || fail "no $bin container"
    for flag in $flags; do
      [[ $help == *" $flag "* ]] || fail "$bin --help does not list $flag"
    done
  done
}

@test "the shipped fracta.yaml files load in the real binaries, without warnings" {
  # The control plane's: it gets as far as opening the store (the Postgres
  # host does not resolve here), so the configuration itself was accepted.
  POSTGRES_PASSWORD=pw FRACTA_CP_TOKEN=t run --separate-stderr \
    "$FRACTA_BIN/fracta-cp" run --config "$MANIFESTS/config/control-plane.yaml" --listen 127.0.0.1:0 --workers 0
  assert_status 111
  [[ $stderr == *"open store"* ]] || fail "stderr: $stderr"
  [[ $stderr != *"unknown key"* && $stderr != *"warn"* ]] || fail "stderr: $stderr"

  # The gateway's: it serves (readiness on a descriptor), then stops on TERM.
  FRACTA_CP_TOKEN=t start_bg "$FRACTA_BIN/fracta-gw" serve --config "$MANIFESTS/config/gateway.yaml" \
    --listen 127.0.0.1:0 --ready-fd 4 4>gw.ready 2>gw.err
  wait_for 20 grep -q '^ready http://127.0.0.1:' gw.ready || fail "stderr: $(cat gw.err)"
  kill -TERM "$BG_PID"
  local rc=0
  wait "$BG_PID" || rc=$?
  assert_equal "$rc" 0 "fracta-gw exit status after TERM"
  run grep -E 'warn|unknown key' gw.err
  assert_status 1
  assert_status 1
}

@test "the NetworkPolicy component is optional: off by default, valid when added" {
  render "$MANIFESTS"
  assert_json '[.[] | select(.kind == "NetworkPolicy")] | length == 0' "$(cat objects.json)"
  copy_manifests
  printf 'components:\n  - components/network-policy\n' >>copy/kustomization.yaml
  render copy
  run jq -r '[.[] | select(.kind == "NetworkPolicy") | .metadata.name] | sort | join(" ")' objects.json
  assert_equal "$output" "fracta-agents fracta-cp fracta-gw fracta-postgres"
  # Postgres only from the control plane and the reaper.
  run jq -r '.[] | select(.kind == "NetworkPolicy" and .metadata.name == "fracta-postgres") |
             [.spec.ingress[].from[].podSelector.matchLabels["app.kubernetes.io/component"]] | sort | join(" ")' objects.json
  assert_equal "$output" "control-plane reaper"
}
