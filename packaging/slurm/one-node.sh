#!/bin/sh
# A one-node Slurm cluster over this node's migm daemon (Debian 12's Slurm 22.05: slurmctld, slurmd,
# slurm-client, munge). Installed by the package as /usr/share/migm/slurm/one-node.sh; docs/slurm.md
# shows what it writes, and packaging/deb/test.sh runs it from the installed package.
#   one-node.sh up     munge running; migm's Prolog, TaskProlog, Epilog and job_submit.lua installed
#                      (migm slurm config --install); slurm.conf and gres.conf written from the lines
#                      migm prints; slurmctld and slurmd started; returns when the node is idle
#   one-node.sh down   jobs cancelled and waited for, slurmd and slurmctld stopped (and munged, if
#                      up started it)
# Environment (defaults in brackets): SLURM_ETC, where slurm.conf goes [/etc/slurm]; SLURM_STATE,
# Slurm's state, spool, logs and pid files [/var/lib/slurm/one-node]; MIGM_SOCKET, the daemon's socket
# [/run/migm/migm.sock]; SLURM_NODE, the node's name [this host's short name]; SLURM_PORT, slurmctld's
# port (slurmd takes the next) [6817]. Under systemd with the defaults it uses Debian's units;
# otherwise it starts the daemons itself (how the test runs it).
set -eu
etc="${SLURM_ETC:-/etc/slurm}"
state="${SLURM_STATE:-/var/lib/slurm/one-node}"
socket="${MIGM_SOCKET:-/run/migm/migm.sock}"
host="$(hostname -s)"
node="${SLURM_NODE:-$host}"
port="${SLURM_PORT:-6817}"
export SLURM_CONF="$etc/slurm.conf"
systemd=0
[ -d /run/systemd/system ] && [ "$etc" = /etc/slurm ] && systemd=1

die() { echo "one-node.sh: $*" >&2; exit 1; }

# Waits up to $1 seconds for the command after it to succeed.
await() {
  limit=$(( $1 * 10 )); shift
  i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -le "$limit" ] || return 1
    sleep 0.1
  done
}

node_idle() { [ "$(sinfo -h -n "$node" -o %T 2>/dev/null)" = idle ]; }
no_jobs() { [ -z "$(squeue -h -o %i 2>/dev/null)" ]; }

up() {
  for cmd in slurmctld slurmd sbatch munge migm; do
    command -v "$cmd" >/dev/null || die "$cmd not found (apt-get install slurmctld slurmd slurm-client munge)"
  done
  migm queue --socket "$socket" >/dev/null || die "no migm daemon answers on $socket (systemctl enable --now migm)"
  # munge: the key Debian's package made (one key for every node of a cluster), the daemon running.
  if ! munge -n </dev/null >/dev/null 2>&1; then
    if [ "$systemd" = 1 ]; then
      systemctl start munge
    else
      [ -f /etc/munge/munge.key ] || { mungekey -c -k /etc/munge/munge.key; chown munge:munge /etc/munge/munge.key; }
      install -d -o munge -g munge -m 0755 /run/munge
      setpriv --reuid=munge --regid=munge --clear-groups /usr/sbin/munged
      mkdir -p "$state" && touch "$state/munged.started"
    fi
    await 10 sh -c 'munge -n </dev/null' || die "munged did not start"
  fi
  mkdir -p "$etc" "$state/ctld" "$state/d" "$state/log"
  # The lines for this node, from its migm daemon; the scripts go beside slurm.conf.
  migm slurm config --socket "$socket" --node "$node" --scripts "$etc/migm" --lua-dir "$etc" --install \
    > "$etc/migm.lines"
  gpumem="$(sed -n 's/^NodeName=[^ ]* Gres=\(gpumem:[0-9]*M\)$/\1/p' "$etc/migm.lines")"
  [ -n "$gpumem" ] || die "migm slurm config printed no Gres line: see $etc/migm.lines"
  cat > "$etc/slurm.conf" <<CONF
# One Slurm node over migm (written by one-node.sh)
ClusterName=migm
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
$(grep -v -e '^#' -e '^NodeName=' "$etc/migm.lines")
NodeName=$node NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$(nproc) Gres=$gpumem State=UNKNOWN
PartitionName=gpu Nodes=$node Default=YES DefaultTime=60 MaxTime=INFINITE State=UP
CONF
  grep '^NodeName=.* Name=gpumem ' "$etc/migm.lines" > "$etc/gres.conf"
  if [ "$systemd" = 1 ]; then
    systemctl restart slurmctld slurmd
  else
    slurmctld
    slurmd -N "$node"
  fi
  await 60 node_idle || die "node $node not idle: $(sinfo -h -N -o '%N %T %E' 2>&1); see $state/log"
  echo "one-node.sh: Slurm node $node idle over migm ($gpumem); SLURM_CONF=$SLURM_CONF"
  grep -v '^GPU memory' "$etc/migm/gpumem-sizes.txt" | sed 's/^/  /'
}

down() {
  ids="$(squeue -h -o %i 2>/dev/null || true)"
  # shellcheck disable=SC2086
  [ -z "$ids" ] || scancel $ids
  await 60 no_jobs || echo "one-node.sh: jobs still there: $ids" >&2
  if [ "$systemd" = 1 ]; then
    systemctl stop slurmd slurmctld
  else
    for d in slurmd slurmctld; do
      pid="$(cat "$state/$d.pid" 2>/dev/null || true)"
      [ -n "$pid" ] && kill "$pid" 2>/dev/null && await 30 sh -c "! kill -0 $pid" || true
    done
    if [ -f "$state/munged.started" ]; then
      pkill -u munge -x munged || true
      rm -f "$state/munged.started"
    fi
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: one-node.sh up|down" >&2; exit 2 ;;
esac
