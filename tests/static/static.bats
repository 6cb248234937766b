#!/usr/bin/env bats
# static.bats — the fully static binaries (`make static`) work with nothing
# around them: no shared libraries, no NSS modules, no /usr, no /dev. Each
# binary runs in an empty root holding only itself, /etc/hosts and
# /etc/resolv.conf (chroot as root, `unshare -r --root` otherwise), and must
# resolve `localhost` by itself (c-ares reads the root's /etc/hosts).
#
#   bats tests/static                      (or: make static-test)
#   FRACTA_STATIC_BIN=/some/bin bats tests/static
#
# FRACTA_STATIC_BIN defaults to build-static/bin of this checkout. The
# Postgres test starts its own server with tests/lib/pg-fixture (TCP on
# 127.0.0.1) and stops it afterwards.

bats_require_minimum_version 1.5.0

load lib

setup_file() {
  [[ -d $STATIC_BIN ]] || {
    echo "no $STATIC_BIN: run 'make static' first (or set FRACTA_STATIC_BIN)" >&3
    return 1
  }

  # Our own Postgres. Starting it may fail (no postgresql-15, port taken);
  # that fails only the Postgres test, which shows why.
  export PG_DIR=/tmp/fracta-static-pg-$$
  export PG_LOG=$BATS_FILE_TMPDIR/pg-fixture.log
  export PG_PORT=""
  local port try
  for try in 0 1 2; do
    port=$((20000 + ($$ + try * 7919) % 20000))
    if "$REPO/tests/lib/pg-fixture" start "$PG_DIR" "$port" >>"$PG_LOG" 2>&1; then
      PG_PORT=$port
      break
    fi
  done
}

teardown_file() {
  if [[ -n ${PG_DIR:-} ]]; then
    "$REPO/tests/lib/pg-fixture" stop "$PG_DIR" >/dev/null 2>&1 || true
  fi
}

# binaries — every file in STATIC_BIN, one per line
binaries() {
  local f
  for f in "$STATIC_BIN"/*; do
    [[ -f $f ]] && echo "$f"
  done
  return 0
}

# events_root — an empty root holding fracta-events; prints its path
events_root() {
  local bin=$STATIC_BIN/fracta-events root=$BATS_TEST_TMPDIR/root
  [[ -x $bin ]] || {
    echo "no $bin" >&2
    return 1
  }
  make_root "$root" "$bin"
  echo "$root"
}

@test "every static binary is not a dynamic executable" {
  local bin bad=0 bins
  mapfile -t bins < <(binaries)
  ((${#bins[@]} > 0)) || { echo "no binaries in $STATIC_BIN"; false; }
  for bin in "${bins[@]}"; do
    run ldd "$bin"
    if [[ $output != *"not a dynamic executable"* ]]; then
      echo "$bin: ldd says: $output"
      bad=1
    fi
  done
  ((bad == 0))
}

@test "make install installs these static binaries, every one, and the man pages" {
  local prefix=$BATS_TEST_TMPDIR/usr bin bins
  run make -s -C "$REPO" install PREFIX="$prefix" BUILD_STATIC="$(dirname "$STATIC_BIN")"
  ((status == 0)) || { echo "make install: exit $status: $output"; false; }
  mapfile -t bins < <(binaries)
  ((${#bins[@]} > 0)) || { echo "no binaries in $STATIC_BIN"; false; }
  for bin in "${bins[@]}"; do
    cmp -s "$bin" "$prefix/bin/${bin##*/}" || { echo "$prefix/bin/${bin##*/} is not $bin"; false; }
    run ldd "$prefix/bin/${bin##*/}"
    [[ $output == *"not a dynamic executable"* ]] || { echo "installed ${bin##*/}: ldd says: $output"; false; }
    [[ -f $prefix/share/man/man1/${bin##*/}.1 ]] || { echo "no man page for ${bin##*/}"; false; }
  done
  [[ $(ls "$prefix/bin" | wc -l) == "${#bins[@]}" ]] || { echo "installed: $(ls "$prefix/bin")"; false; }
}

@test "every static binary runs --version and --help in an empty root" {
  local bin name root flag bad=0 bins
  mapfile -t bins < <(binaries)
  ((${#bins[@]} > 0)) || { echo "no binaries in $STATIC_BIN"; false; }
  for bin in "${bins[@]}"; do
    name=${bin##*/}
    root=$BATS_TEST_TMPDIR/root-$name
    make_root "$root" "$bin"
    for flag in --version --help; do
      run in_empty_root "$root" "/$name" "$flag" </dev/null
      if ((status != 0)) || [[ -z $output ]]; then
        echo "$name $flag: exit $status, output: $output"
        bad=1
      fi
    done
  done
  ((bad == 0))
}

@test "fracta-events records and lists events in SQLite in an empty root" {
  local root
  root=$(events_root)
  local ev='{"type":"t.x","actor":"a"}'

  run --separate-stderr in_empty_root "$root" /fracta-events --store sqlite:/events.db record <<<"$ev"
  [[ $status == 0 ]] || { echo "record 1: exit $status: $stderr"; false; }
  run --separate-stderr in_empty_root "$root" /fracta-events --store sqlite:/events.db record <<<"$ev"
  [[ $status == 0 ]] || { echo "record 2: exit $status: $stderr"; false; }

  run --separate-stderr in_empty_root "$root" /fracta-events --store sqlite:/events.db latest-seq
  [[ $status == 0 ]] || { echo "latest-seq: exit $status: $stderr"; false; }
  [[ $output == 2 ]] || { echo "latest-seq printed '$output', want 2"; false; }

  run --separate-stderr in_empty_root "$root" /fracta-events --store sqlite:/events.db list <<<'{}'
  [[ $status == 0 ]] || { echo "list: exit $status: $stderr"; false; }
  jq -e 'type == "array" and length == 2 and ([.[].seq] | sort) == [1, 2]' <<<"$output" >/dev/null \
    || { echo "list printed: $output"; false; }

  [[ -f $root/events.db ]]
}

@test "fracta-events reaches Postgres by host name (localhost) in an empty root" {
  [[ -n $PG_PORT ]] || {
    echo "pg-fixture did not start:"
    cat "$PG_LOG"
    false
  }
  local root
  root=$(events_root)
  local url="postgresql://postgres@localhost:$PG_PORT/postgres"

  run --separate-stderr in_empty_root "$root" /fracta-events --store "$url" record <<<'{"type":"t.x","actor":"a"}'
  [[ $status == 0 ]] || { echo "record: exit $status: $stderr"; false; }

  run --separate-stderr in_empty_root "$root" /fracta-events --store "$url" latest-seq
  [[ $status == 0 ]] || { echo "latest-seq: exit $status: $stderr"; false; }
  [[ $output == 1 ]] || { echo "latest-seq printed '$output', want 1"; false; }
}

@test "the static fracta-cp and fracta-gw refuse a tls section in one line, exit 100 (no GnuTLS in them)" {
  local p=$BATS_TEST_TMPDIR/project
  mkdir -p "$p/.fracta"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -keyout "$p/key.pem" -out "$p/cert.pem" 2>/dev/null
  cat >"$p/fracta.yaml" <<'YAML'
control_plane_api: {listen: "127.0.0.1:0", tls: {cert_file: cert.pem, key_file: key.pem}}
gateway: {listen: "127.0.0.1:0", tls: {cert_file: cert.pem, key_file: key.pem}}
YAML
  run --separate-stderr bash -c 'cd "$1" && exec "$2" run --no-gateway' _ "$p" "$STATIC_BIN/fracta-cp"
  [[ $status == 100 ]] || { echo "fracta-cp run: exit $status: $stderr"; false; }
  [[ $(wc -l <<<"$stderr") == 1 && $stderr == "fracta-cp: error: "*"control_plane_api.tls: this fracta-cp has no TLS"* ]] ||
    { echo "fracta-cp's error: $stderr"; false; }
  run --separate-stderr bash -c 'cd "$1" && exec "$2" serve' _ "$p" "$STATIC_BIN/fracta-gw"
  [[ $status == 100 ]] || { echo "fracta-gw serve: exit $status: $stderr"; false; }
  [[ $(wc -l <<<"$stderr") == 1 && $stderr == "fracta-gw: error: "*"gateway.tls: this fracta-gw has no TLS"* ]] ||
    { echo "fracta-gw's error: $stderr"; false; }
}
