#!/bin/sh
# run.sh GASCITY_CHECKOUT [go test args…] — Gas City's own session and events
# conformance suites against fracta's binaries, offline (tests/gascity/README.md).
# GASCITY_CHECKOUT: a checkout of github.com/gastownhall/gascity. Only the
# standard-library packages the suites need are copied to a scratch module
# (Gas City's go.mod asks for a newer Go and modules that are not needed).
set -eu
src=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
go=${GO:-$(command -v go || echo /usr/lib/go-1.23/bin/go)}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gascity-conf.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
for d in internal/runtime internal/events; do
    mkdir -p "$scratch/$d"
    cp -R "$src/$d/." "$scratch/$d/"
done
printf 'module github.com/gastownhall/gascity\n\ngo 1.23\n' >"$scratch/go.mod"
mkdir -p "$scratch/internal/fractaconf"
cp "$here/fracta_conformance_test.go" "$scratch/internal/fractaconf/"
cd "$scratch"
GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOCACHE=${GOCACHE:-/tmp/gascity-conf-gocache} \
    "$go" test -count=1 ./internal/fractaconf/ "$@"
