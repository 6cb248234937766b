#!/usr/bin/env bats
# The man pages: mandoc -T lint clean, the shared EXIT STATUS table in every
# section-1 page, and every option of each binary's --help documented.

@test "man pages lint clean and match the binaries' --help" {
  run "$FRACTA_SOURCE/tests/lib/check-man"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [ -z "$output" ]
}

@test "every binary has a man page" {
  for bin in "$FRACTA_BIN"/fracta*; do
    [ -f "$FRACTA_SOURCE/man/$(basename "$bin").1" ] || { echo "no man page for $(basename "$bin")"; false; }
  done
}
