#!/usr/bin/env bats
# Secure by default (fracta-cp(1), fracta-gw(1) "SECURITY"): a daemon
# listening beyond loopback needs a strong token, or --insecure-listen /
# *.insecure_listen: true, which it then warns about on every start.

load ../lib/common

setup() {
  common_setup
  git_repo proj
  mkdir -p proj/.fracta
  GOOD=$(openssl rand -hex 32)
}
teardown() { common_teardown; }

settled() { has_lines "$1" 1 || process_gone "$2"; }

# try BIN ADDR TOKEN FLAG KEY — start fracta-BIN on ADDR with FRACTA_CP_TOKEN
# TOKEN (none: unset), --insecure-listen when FLAG is "flag", the config key
# <section>.insecure_listen: true when KEY is "key"; sets OUT (stderr),
# STARTED (yes/no) and RC (the exit status when it did not start)
try() {
  local bin=$1 addr=$2 token=$3 flag=$4 key=$5 op=run extra=(--workers 0)
  [[ $bin == gw ]] && op=serve extra=()
  local f="$BATS_TEST_TMPDIR/proj/fracta.yaml"
  {
    echo "agents: {default_runtime: shell}"
    local cp_extra="" gw_extra=""
    [[ $key == key && $bin == cp ]] && cp_extra=", insecure_listen: true"
    [[ $key == key && $bin == gw ]] && gw_extra=", insecure_listen: true"
    echo "control_plane_api: {listen: \"127.0.0.1:0\"$cp_extra}"
    echo "gateway: {listen: \"127.0.0.1:0\"$gw_extra}"
  } >"$f"
  [[ $flag == flag ]] && extra+=(--insecure-listen)
  local out="$BATS_TEST_TMPDIR/$bin-$RANDOM"
  if [[ $token == none ]]; then
    (unset FRACTA_CP_TOKEN; cd proj && exec "$FRACTA_BIN/fracta-$bin" --config "$f" "$op" --listen "$addr" \
      "${extra[@]}" --ready-fd 4 4>"$out.ready" 2>"$out.err" </dev/null) &
  else
    (cd proj && FRACTA_CP_TOKEN=$token exec "$FRACTA_BIN/fracta-$bin" --config "$f" "$op" --listen "$addr" \
      "${extra[@]}" --ready-fd 4 4>"$out.ready" 2>"$out.err" </dev/null) &
  fi
  local pid=$!
  BG_PIDS+=("$pid")
  wait_for 30 settled "$out.ready" "$pid"
  RC=0
  if grep -q '^ready ' "$out.ready"; then
    STARTED=yes
    kill "$pid"
    wait "$pid" || RC=$?
  else
    STARTED=no
    wait "$pid" || RC=$?
  fi
  OUT=$(<"$out.err")
}

@test "the refusal matrix: listen address x token x --insecure-listen / insecure_listen, for fracta-cp and fracta-gw" {
  local -A tokens=(
    [none]=none
    [placeholder]="change-me-control-plane-token-0123456789abcdef"
    [short]="Zq3xV9pLk2Wm7Rt"
    [good]=$GOOD
  )
  local -A reasons=([none]="without a token" [placeholder]="placeholder token" [short]="short token")
  # ADDR REACHABLE-FROM-ELSEWHERE
  local addrs=("127.0.0.1:0 no" "[::1]:0 no" "localhost:0 no" "0.0.0.0:0 yes" ":0 yes")
  local bin row addr open kind way checked=0
  for bin in cp gw; do
    for row in "${addrs[@]}"; do
      read -r addr open <<<"$row"
      for kind in none placeholder short good; do
        for way in plain flag key; do
          local flag=- key=-
          [[ $way == flag ]] && flag=flag
          [[ $way == key ]] && key=key
          try "$bin" "$addr" "${tokens[$kind]}" "$flag" "$key"
          local what="fracta-$bin $addr token=$kind $way"
          ((++checked))
          if [[ $open == yes && $kind != good && $way == plain ]]; then
            [[ $STARTED == no && $RC == 100 ]] || fail "$what: started=$STARTED exit=$RC, want refusal (100): $OUT"
            [[ $(wc -l <<<"$OUT") == 1 && $OUT == "fracta-$bin: error: "*"${reasons[$kind]}"*"--insecure-listen" ]] ||
              fail "$what: want one line naming the reason and the way round, got: $OUT"
          else
            [[ $STARTED == yes && $RC == 0 ]] || fail "$what: started=$STARTED exit=$RC, want it to serve: $OUT"
            if [[ $open == yes && $kind != good ]]; then
              grep -q "warn.*${reasons[$kind]}.*--insecure-listen allows" <<<"$OUT" ||
                fail "$what: no warning about the open listener: $OUT"
            else
              grep -q 'insecure-listen' <<<"$OUT" && fail "$what: a warning where none is due: $OUT"
            fi
          fi
          if [[ $kind != none ]] && grep -qF -- "${tokens[$kind]}" <<<"$OUT"; then
            fail "$what: the token is in the output: $OUT"
          fi
        done
      done
    done
  done
  ((checked >= 96)) || fail "only $checked cases ran"
}
