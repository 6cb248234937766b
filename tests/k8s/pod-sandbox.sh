#!/bin/sh
# pod-sandbox.sh — one container of a pod run by the double's kubelet
# (kubelet.mjs), as PID 1 of its own PID and mount namespaces:
#
#   setpriv --pdeathsig KILL -- unshare --mount --pid --uts --fork --kill-child=KILL \
#     --propagation private -- /bin/sh pod-sandbox.sh DIR BIN WORKDIR RO HOST N \
#     SRC DST MODE … -- COMMAND [ARG…]
#
# The container's root is an overlay of the host's / (the "image": the host's
# tools) with a writable layer on a tmpfs, so nothing it writes outside its
# volumes reaches the host; RO=1 (readOnlyRootFilesystem) makes that root
# read-only. The N volumes are bind mounts of the kubelet's directories at
# their mountPaths (MODE ro|rw), fracta's binaries (BIN) at /opt/fracta/bin,
# /dev and a fresh /proc; the hostname is HOST (the pod's name). Then the command runs in WORKDIR with the pod's
# environment, which this script inherits and never adds to: it uses absolute
# paths and its own arguments only. When PID 1 ends, the kernel ends every
# other process of the pod, as a container runtime does.
set -eu
dir=$1 bin=$2 workdir=$3 ro=$4 host=$5 n=$6
shift 6
/usr/bin/hostname "$host"
root=$dir/rootfs
/usr/bin/mkdir -p "$dir/layer" "$root"
/usr/bin/mount -t tmpfs -o mode=0755 tmpfs "$dir/layer"
/usr/bin/mkdir -p "$dir/layer/upper" "$dir/layer/work"
/usr/bin/mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/layer/upper,workdir=$dir/layer/work" "$root"
/usr/bin/mkdir -p "$root/opt/fracta/bin" "$root/dev" "$root/proc"
/usr/bin/mount --bind "$bin" "$root/opt/fracta/bin"
/usr/bin/mount --rbind /dev "$root/dev"
/usr/bin/mount -t proc proc "$root/proc"
while [ "$n" -gt 0 ]; do
  src=$1 dst=$2 mode=$3
  shift 3
  n=$((n - 1))
  /usr/bin/mkdir -p "$root$dst"
  /usr/bin/mount --bind "$src" "$root$dst"
  [ "$mode" = rw ] || /usr/bin/mount -o remount,bind,ro "$root$dst"
done
[ "$1" = -- ] && shift
/usr/bin/mkdir -p "$root$workdir"
[ "$ro" = 1 ] && /usr/bin/mount -o remount,ro "$root"
exec /usr/sbin/chroot "$root" /usr/bin/env -C "$workdir" -- "$@"
