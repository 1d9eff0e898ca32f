#!/usr/bin/env bash
# The Debian package as a site installs it (run by ./test as root where dpkg is): built by
# packaging/deb/build.sh, installed with dpkg -i; the daemon started with its unit's own command line
# and config (/etc/migm/migm.yaml: state in /var/lib/migm, the socket in /run/migm, group migm); a job
# submitted by an ordinary user of group migm runs as that user and ends done; the package removed
# (the journal stays) and installed again: the daemon starts from the same journal and knows the job.
# Leaves the machine as it found it (package, user and state it created removed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ "$(id -u)" = 0 ] || { echo "deb test: needs root (dpkg -i)" >&2; exit 1; }
work="$(mktemp -d)"
user=migm-deb-test
had_state=0; [ -e /var/lib/migm ] && had_state=1
daemon=
cleanup() {
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
stop_daemon

dpkg -r migm >/dev/null || fail "dpkg -r failed"
[ ! -e /usr/bin/migm ] || fail "/usr/bin/migm still there after dpkg -r"
[ -f /var/lib/migm/journal.db ] || fail "the journal went with the package"
dpkg -i "$deb" >/dev/null || fail "reinstall failed"
start_daemon
as_user migm queue --all | awk -v id="$id_" '$1 == id && $2 == "hello" && $4 == "done" {found=1} END {exit !found}' \
  || fail "after reinstall the daemon does not know job $id_: $(as_user migm queue --all)"
stop_daemon
echo "deb test: $(basename "$deb") installed, daemon under its unit's command, job $id_ submitted by $user ran as $user, journal kept across remove and reinstall"
