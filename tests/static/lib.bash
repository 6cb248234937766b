# lib.bash — what the static suites share: where the binaries are, and the
# empty roots they run in.
#
#   make_root DIR BINARY…      an empty root: the binaries, etc/hosts, etc/resolv.conf
#   in_empty_root DIR CMD…     CMD (a path inside DIR) with DIR as its root,
#                              an empty environment and a time limit
#   container_root DIR BINARY…  make_root, plus what a container runtime gives
#                              a scratch image's process (a /proc, /dev/null,
#                              /dev/pts and /dev/ptmx for terminal sessions,
#                              /bin on PATH) and a shell for sessions'
#                              commands: Debian's static busybox as /bin/sh
#   in_container_root DIR WORKDIR CMD…   CMD in DIR as its root, in WORKDIR,
#                              with /proc, /dev/null and the ptys mounted (a mount
#                              namespace of its own); ROOT_ENV=(K=V…) adds to
#                              the empty environment
#
# FRACTA_STATIC_BIN defaults to build-static/bin of this checkout.

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
STATIC_BIN=${FRACTA_STATIC_BIN:-$REPO/build-static/bin}
# Only stops a hung binary; nothing here is expected to come near it.
RUN_TIMEOUT=${FRACTA_STATIC_TIMEOUT:-300}

make_root() {
  local dir=$1 bin
  shift
  mkdir -p "$dir/etc"
  for bin in "$@"; do cp "$bin" "$dir/"; done
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$dir/etc/hosts"
  printf 'nameserver 127.0.0.1\n' >"$dir/etc/resolv.conf"
}

in_empty_root() {
  local dir=$1
  shift
  if [[ $(id -u) == 0 ]]; then
    env -i HOME=/ PATH=/ "$(command -v timeout)" "$RUN_TIMEOUT" \
      "$(command -v chroot)" "$dir" "$@"
  else
    env -i HOME=/ PATH=/ "$(command -v timeout)" "$RUN_TIMEOUT" \
      "$(command -v unshare)" -r --root="$dir" "$@"
  fi
}

container_root() {
  local dir=$1
  shift
  [[ -x /bin/busybox ]] && file -L /bin/busybox | grep -q 'statically linked' ||
    { echo "no static /bin/busybox: install busybox-static (make deps)" >&2; return 1; }
  make_root "$dir" "$@"
  mkdir -p "$dir/proc" "$dir/dev/pts" "$dir/bin" "$dir/tmp"
  : >"$dir/dev/null"
  ln -s pts/ptmx "$dir/dev/ptmx"  # a pty instance of the root's own, as containers have
  cp /bin/busybox "$dir/bin/sh"
}

in_container_root() {
  local dir=$1 workdir=$2
  shift 2
  local userns=()
  [[ $(id -u) == 0 ]] || userns=(-r)
  # Before the chroot, with the host's tools: bind the host's /proc (a mount
  # of proc itself would need a PID namespace, whose end would kill the
  # daemons started here) and /dev/null into the root; then the command runs
  # in it, seeing nothing else.
  env -i HOME=/ PATH=/bin:/ "${ROOT_ENV[@]}" "$(command -v timeout)" "$RUN_TIMEOUT" \
    "$(command -v unshare)" "${userns[@]}" --mount --propagation private \
    "$(command -v sh)" -c '
      root=$1 workdir=$2 mount=$3 chroot=$4
      shift 4
      "$mount" --rbind /proc "$root/proc" && "$mount" --bind /dev/null "$root/dev/null" &&
        "$mount" -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts" &&
        exec "$chroot" "$root" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$workdir" "$@"' \
    _ "$dir" "$workdir" "$(command -v mount)" "$(command -v chroot)" "$@"
}
