#!/bin/sh
# install-go.sh — Debian's Go >= 1.23 from bookworm-backports, to build Gas
# City's own session conformance tests (tests/gascity/README.md). Idempotent;
# run as root. Prints the go binary's path.
set -eu
list=/etc/apt/sources.list.d/bookworm-backports.sources
if [ ! -f "$list" ]; then
    cat >"$list" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
go=/usr/lib/go-1.23/bin/go
if [ ! -x "$go" ]; then
    apt-get update -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -t bookworm-backports golang-1.23-go >/dev/null
fi
"$go" version >&2
echo "$go"
