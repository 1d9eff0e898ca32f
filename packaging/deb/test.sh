#!/usr/bin/env bash
# The Debian package as a site installs it (run by ./test as root where dpkg is): built by
# packaging/deb/build.sh, installed with dpkg -i; the daemon started with its unit's own command line
# and config (/etc/migm/migm.yaml: state in /var/lib/migm, the socket in /run/migm, group migm); a job
# submitted by an ordinary user of group migm runs as that user and ends done; where Slurm's packages
# are, the package's one-node Slurm recipe runs and that user's sbatch --gres=gpumem:10G gets its MIG
# slice through the installed Prolog (/usr/bin/migm); the package removed
# (the journal stays) and installed again: the daemon starts from the same journal and knows the job.
# Leaves the machine as it found it (package, user and state it created removed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ "$(id -u)" = 0 ] || { echo "deb test: needs root (dpkg -i)" >&2; exit 1; }
work="$(mktemp -d)"
user=migm-deb-test
had_state=0; [ -e /var/lib/migm ] && had_state=1
daemon=
slurm_up=
cleanup() {
  [ -n "$slurm_up" ] && /usr/share/migm/slurm/one-node.sh down >/dev/null 2>&1 || true
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  dpkg -P migm >/dev/null 2>&1 || true
  userdel -r "$user" >/dev/null 2>&1 || true
  [ "$had_state" = 0 ] && rm -rf /var/lib/migm
  rm -rf "$work" /run/migm
}
trap cleanup EXIT
fail() { echo "deb test: $*" >&2; [ -f "$work/daemon.log" ] && tail -20 "$work/daemon.log" >&2; exit 1; }

deb="$("$root/packaging/deb/build.sh" "$work/out" | tail -1)"
dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb failed"
for f in /usr/bin/migm /etc/migm/migm.yaml /lib/systemd/system/migm.service /usr/share/man/man1/migm.1.gz \
         /usr/share/bash-completion/completions/migm /usr/lib/migm/runtime/bin/java /var/cache/migm/migm.aot; do
  [ -e "$f" ] || fail "$f not installed"
done
migm --version | grep -q "^migm .* (commit " || fail "migm --version: $(migm --version)"
getent group migm >/dev/null || fail "group migm not created"

start_daemon() {
  # What systemd would run: the unit's ExecStart, with its RuntimeDirectory made.
  local cmd
  cmd="$(sed -n 's/^ExecStart=//p' /lib/systemd/system/migm.service)"
  install -d -m "$(sed -n "s/^RuntimeDirectoryMode=//p" /lib/systemd/system/migm.service)" /run/migm
  $cmd --http-listen off >"$work/daemon.log" 2>&1 &
  daemon=$!
  for _ in $(seq 1 300); do [ -S /run/migm/migm.sock ] && return 0; sleep 0.1; done
  fail "the daemon did not open /run/migm/migm.sock"
}
stop_daemon() { kill "$daemon"; wait "$daemon" 2>/dev/null || true; daemon=; }

id "$user" >/dev/null 2>&1 || useradd -m -G migm "$user"
start_daemon
home_dir="$(getent passwd "$user" | cut -d: -f6)"
cat > "$home_dir/job.yaml" <<'JOB'
version: v1
jobs:
  - {name: hello, command: ["sh", "-c", "id -un > who.txt; sleep 1"], memory: 1GiB}
JOB
chown "$user" "$home_dir/job.yaml"
as_user() { runuser -u "$user" -- env MIGM_SOCKET=/run/migm/migm.sock "$@"; }
id_="$(cd "$home_dir" && as_user migm submit job.yaml)" || fail "submit as $user failed"
for _ in $(seq 1 600); do
  as_user migm queue --all | awk -v id="$id_" '$1 == id && $4 == "done" {found=1} END {exit !found}' && break
  sleep 0.2
done
as_user migm queue --all | awk -v id="$id_" '$1 == id && $4 == "done" {found=1} END {exit !found}' \
  || fail "job $id_ not done: $(as_user migm queue --all)"
[ "$(cat "$home_dir/who.txt" 2>/dev/null)" = "$user" ] || fail "the job did not run as $user"

# Slurm on top, from the installed paths: the package's one-node recipe (docs/slurm.md), its scripts
# calling /usr/bin/migm, and sbatch --gres=gpumem:10G by the same ordinary user. 10G is 10240 MiB,
# more than the 10gb profiles' 9856: the job gets a 20gb instance (3g.20gb or 4g.20gb).
slurm_note="Slurm not installed: no sbatch"
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null; then
  export SLURM_ETC="$work/slurm/etc" SLURM_STATE="$work/slurm/state" SLURM_PORT=16917 SLURM_NODE=migmdeb
  chmod 0755 "$work"
  /usr/share/migm/slurm/one-node.sh up >"$work/slurm-up.log" 2>&1 || fail "one-node.sh up: $(tail -5 "$work/slurm-up.log")"
  slurm_up=1
  grep -q "^Prolog=$SLURM_ETC/migm/prolog.sh" "$SLURM_ETC/slurm.conf" || fail "slurm.conf names no migm Prolog"
  grep -q "/usr/bin/migm' slurm prolog" "$SLURM_ETC/migm/prolog.sh" || fail "the Prolog does not call /usr/bin/migm: $(cat "$SLURM_ETC/migm/prolog.sh")"
  grep -q '^9856M ' "$SLURM_ETC/migm/gpumem-sizes.txt" || fail "no sizes guide for users"
  sid="$(cd "$home_dir" && runuser -u "$user" -- env SLURM_CONF="$SLURM_ETC/slurm.conf" sbatch --parsable \
    --gres=gpumem:10G -o slurm-%j.out --wrap 'echo "cvd=$CUDA_VISIBLE_DEVICES"')" || fail "sbatch as $user failed"
  for _ in $(seq 1 600); do
    st="$(SLURM_CONF="$SLURM_ETC/slurm.conf" scontrol show job "$sid" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')"
    case "$st" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL) break ;; esac
    sleep 0.2
  done
  [ "$st" = COMPLETED ] || fail "Slurm job $sid: $st; $(SLURM_CONF="$SLURM_ETC/slurm.conf" scontrol show job "$sid" | tr '\n' ' ')"
  grep -q '^cvd=MIG-' "$home_dir/slurm-$sid.out" || fail "job $sid saw no MIG device: $(cat "$home_dir/slurm-$sid.out")"
  holder="$(migm queue --all | awk -v n="slurm-$sid-0" '$2 == n {print $1}' | tail -1)"
  [ -n "$holder" ] || fail "no slice slurm-$sid-0 in migm's queue: $(migm queue --all)"
  shown="$(migm show "$holder" 2>&1)" || fail "migm show $holder: $shown"
  echo "$shown" | grep -Eq 'gpu0:[34]g\.20gb@' || fail "the slice of Slurm job $sid is not a 20gb instance: $shown"
  /usr/share/migm/slurm/one-node.sh down >>"$work/slurm-up.log" 2>&1 || true
  slurm_up=
  slurm_note="sbatch --gres=gpumem:10G by $user ran on a 20gb instance through /usr/bin/migm's Prolog"
fi
stop_daemon

dpkg -r migm >/dev/null || fail "dpkg -r failed"
[ ! -e /usr/bin/migm ] || fail "/usr/bin/migm still there after dpkg -r"
[ -f /var/lib/migm/journal.db ] || fail "the journal went with the package"
dpkg -i "$deb" >/dev/null || fail "reinstall failed"
start_daemon
as_user migm queue --all | awk -v id="$id_" '$1 == id && $2 == "hello" && $4 == "done" {found=1} END {exit !found}' \
  || fail "after reinstall the daemon does not know job $id_: $(as_user migm queue --all)"
stop_daemon
echo "deb test: $(basename "$deb") installed, daemon under its unit's command, job $id_ submitted by $user ran as $user; $slurm_note; journal kept across remove and reinstall"
