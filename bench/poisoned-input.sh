#!/usr/bin/env bash
# Poisoned job files against a live daemon (issue 24; not a test: the suite's PoisonedInputTest,
# JobFileDoorTest and SecretsTest assert the same): every file of bench/poisoned/ plus a 10 MB
# one-comment file is submitted to a daemon on an emulated A100; after each, the daemon must still
# answer `migm queue`, and a job with a secret in its env: must leave no trace in any process's argv.
# Then the daemon is restarted (it must start). Prints one line per file and a summary.
# Usage: bench/poisoned-input.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./migm --version >/dev/null
home=$(mktemp -d /tmp/migm-poisoned-XXXXXX)
trap 'kill "$daemon" 2>/dev/null || true; wait 2>/dev/null; rm -rf "$home"' EXIT
export MIGM_HOME="$home/home"
python3 -c "open('$home/long-comment.yaml','w').write('#'+'x'*10_000_000+'\nversion: v1\njobs:\n  - {name: p, command: \"true\"}\n')"
start_daemon() {
  # as root, the jobs are root's: allowed here
  ./migm daemon --time-scale 20 --http-listen off $( [ "$(id -u)" = 0 ] && echo --allow-root-jobs ) >"$home/daemon.out" 2>&1 &
  daemon=$!
  for _ in $(seq 1 300); do grep -q "migm daemon ready" "$home/daemon.out" 2>/dev/null && return 0; sleep 0.1; done
  echo "the daemon did not start:"; cat "$home/daemon.out"; exit 1
}
start_daemon
tried=0; refused=0; outages=0
for f in bench/poisoned/*.yaml "$home/long-comment.yaml"; do
  tried=$((tried + 1))
  start=$(date +%s.%N)
  if out=$(./migm submit "$f" 2>&1); then echo "ACCEPTED $f: $out"; else refused=$((refused + 1)); fi
  took=$(echo "$(date +%s.%N) - $start" | bc)
  if ! ./migm queue >/dev/null 2>&1; then outages=$((outages + 1)); echo "OUTAGE after $f"; fi
  printf '%-40s %5.2f s  %s\n' "$(basename "$f")" "$took" "$(echo "$out" | head -c 160)"
done
secret="hf_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
cat >"$home/secret.yaml" <<YAML
version: v1
jobs:
  - {name: s, memory: 1GiB, env: {HF_TOKEN: "$secret"}, command: ["sh", "-c", "sleep 3"]}
YAML
./migm submit "$home/secret.yaml" >/dev/null
sleep 2
seen=$( (cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ' | grep -c "$secret") || true)
kill "$daemon"; wait "$daemon" 2>/dev/null || true
start_daemon
restart=ok
./migm queue >/dev/null 2>&1 || restart=failed
echo "poisoned files tried: $tried, refused at submit: $refused, node outages: $outages, secrets seen in argv: $seen, restart: $restart"
