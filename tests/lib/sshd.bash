# sshd.bash — a real OpenSSH server on a free loopback port, for git remotes
# reached over SSH. It runs in the foreground under start_bg, so the suite's
# common_teardown stops it. Load after common.bash.

# sshd_start DIR — host and client keys (ed25519, no passphrase) in DIR, the
# client's key the only one authorized; sets SSHD_PORT, SSHD_USER (whoever
# runs the suite), SSH_KEY (the client's private key file) and
# SSH_KNOWN_HOSTS (a known_hosts file holding the server's host key).
sshd_start() {
  local d=$1
  mkdir -p "$d"
  ssh-keygen -q -t ed25519 -N '' -C fracta-test-host -f "$d/host_key"
  ssh-keygen -q -t ed25519 -N '' -C fracta-test-client -f "$d/client_key"
  cp "$d/client_key.pub" "$d/authorized_keys"
  SSHD_PORT=$(free_port)
  SSHD_USER=$(id -un)
  SSH_KEY="$d/client_key"
  cat >"$d/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $SSHD_PORT
HostKey $d/host_key
AuthorizedKeysFile $d/authorized_keys
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile none
CONF
  # the privilege-separation directory sshd wants when it starts as root
  if [[ $(id -u) == 0 ]]; then mkdir -p /run/sshd; fi
  start_bg /usr/sbin/sshd -D -e -f "$d/sshd_config" 2>>"$d/sshd.log"
  SSH_KNOWN_HOSTS="$d/known_hosts"
  printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$d/host_key.pub")" >"$SSH_KNOWN_HOSTS"
  wait_for 20 sshd_answers || { cat "$d/sshd.log" >&2; return 1; }
}

# ssh_command — what git needs to reach the server as the client
ssh_command() {
  printf 'ssh -i %s -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s' \
    "$SSH_KEY" "$SSH_KNOWN_HOSTS"
}

sshd_answers() {
  $(ssh_command) -p "$SSHD_PORT" "$SSHD_USER@127.0.0.1" true 2>/dev/null
}
