#!/usr/bin/env bats
# tests/lib/lint-bats, the lint ctest runs over every suite (lint/bats):
# fed samples, it reports each check that cannot fail, by line, and nothing
# else.

load ../lib/common

setup() { common_setup; }
teardown() { common_teardown; }

LINT=$BATS_TEST_DIRNAME/../lib/lint-bats

# lint — run the lint over a file holding the sample on stdin, with the
# helpers the suites load (assert_status reads a run's result). The samples
# spell @test as TEST: bats would rewrite the word even in a here-document.
lint() {
  sed 's/^TEST /@test /' >"$BATS_TEST_TMPDIR/sample.bats"
  run --separate-stderr "$LINT" "$BATS_TEST_TMPDIR/sample.bats" "$BATS_TEST_DIRNAME/../lib/common.bash"
}

# reported_lines — the line numbers the lint reported, space-separated.
reported_lines() { sed -E 's/^[^:]*:([0-9]+):.*/\1/' <<<"$output" | tr '\n' ' ' | sed 's/ $//'; }

@test "a negated command that is not a test's last is reported; last, after if/while, or before || is not" {
  lint <<'EOF'
TEST "a" {
  ! grep -q x f
  true
}
TEST "b" {
  true && ! grep -q x f
  true
}
TEST "c" {
  if ! grep -q x f || ! grep -q y f; then echo; fi
  while ! test -e f; do sleep 1; done
  ! grep -q x f || fail "x in f"
  [[ ! -e a && ! -e b ]] || fail
  for f in a b; do
    ! grep -q x "$f"
  done
  ! grep -q x f
}
helper() {
  ! kill -0 "$1"
}
EOF
  assert_status 1
  assert_equal "$(reported_lines)" "2 6 15"
  [[ ${lines[0]} == *"sample.bats:2: '! grep -q x f' in @test \"a\" is negated but not its last command"* ]] ||
    fail "message: ${lines[0]}"
}

@test "a run whose result is never looked at is reported; one looked at, run -N and run ! are not" {
  lint <<'EOF'
TEST "unchecked, then another run" {
  run false
  run true
  [ "$status" -eq 0 ]
}
TEST "unchecked at the end" {
  x=1
  FOO=bar \
    run false
}
TEST "checked in every way" {
  run -1 false
  run ! true
  run --separate-stderr -0 true
  run false; assert_status 1
  run echo hi
  [[ $output == hi ]]
  run echo a b
  (( ${#lines[@]} == 1 ))
  run printf x
  run jq . <<<"$output"
  my_check
}
my_check() {
  [[ $status -eq 0 ]] || return 1
  echo ok
}
my_run() {
  run --separate-stderr "$@"
}
TEST "a function ending in a run is a run" {
  my_run false
  my_run true
  assert_status 0
}
EOF
  assert_status 1
  assert_equal "$(reported_lines)" "2 8 32"
  [[ $output == *"sample.bats:8: in @test \"unchecked at the end\", a run's result is never looked at"* ]] ||
    fail "message: $output"
}

@test "here-documents and multi-line strings are not commands; a clean file is silent" {
  lint <<'EOF'
TEST "strings" {
  cat >x <<'SH'
! this is text
run neither
SH
  bash -c '
    ! grep -q x f
    true'
  run cat x
  assert_status 0
}
EOF
  assert_status 0
  assert_equal "$output" ""
}

@test "an unreadable file is an error" {
  run --separate-stderr "$LINT" "$BATS_TEST_TMPDIR/missing.bats"
  assert_status 2
  [[ $stderr == "lint-bats: error: $BATS_TEST_TMPDIR/missing.bats: No such file or directory" ]] || fail "stderr: $stderr"
}
