#!/usr/bin/env bash
# migm run's own CPU with N jobs running at once on emulated A100s, each job's memory sampled every
# second (the live-runtime issue's target: under 2% of one core at N=100), and the resident memory
# of the workload helpers. Not a test: it takes a few minutes. Usage:
#   bench/live-load.sh            # N=100, a 60 s window once all N run
#   N=50 WINDOW=30 WARMUP=60 bench/live-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100}
WINDOW=${WINDOW:-60}
WARMUP=${WARMUP:-5}          # seconds after all N run before the window (JIT compilation settles)
GPUS=$(( (N + 6) / 7 ))            # seven 1g.5gb instances per A100-40GB
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
{
  echo "version: v1"
  echo "defaults: {memory: 1GiB, checkpoint: false}"
  echo "jobs:"
  for i in $(seq 1 "$N"); do
    echo "  - {name: load-$i, command: [x], workload: {work: 3600s, mem: 1GiB, activity: 0.5}}"
  done
} > "$dir/jobs.yaml"
./migm run "$dir/jobs.yaml" --gpu "A100-40GB:$GPUS" --home "$dir/home" --quiet > "$dir/run.out" 2>&1 &
migm=$!
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
helpers() { pgrep -f -- "workload --work" | wc -l; }
start=$(date +%s)
until [ "$(helpers)" -ge "$N" ]; do
  if ! kill -0 "$migm" 2>/dev/null; then cat "$dir/run.out"; exit 1; fi
  if [ $(( $(date +%s) - start )) -gt 600 ]; then echo "only $(helpers) of $N jobs started in 600 s"; exit 1; fi
  sleep 2
done
echo "all $N jobs running after $(( $(date +%s) - start )) s; measuring for $WINDOW s"
sleep "$WARMUP"
t0=$(cpu_ticks "$migm"); s0=$(date +%s.%N)
sleep "$WINDOW"
t1=$(cpu_ticks "$migm"); s1=$(date +%s.%N)
rss_migm=$(awk '/VmRSS/ {print $2}' "/proc/$migm/status")
rss_helpers=$(for p in $(pgrep -f -- "workload --work"); do awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null; done \
  | awk '{s += $1; n++} END {printf "%d %d", s / 1024, s / n / 1024}')
load=$(cut -d' ' -f1 /proc/loadavg)
kill -TERM "$migm"
wait "$migm" || true
awk -v t="$((t1 - t0))" -v hz="$ticks" -v a="$s0" -v b="$s1" -v n="$N" -v rm="$rss_migm" -v rh="$rss_helpers" -v l="$load" \
  'BEGIN { split(rh, h, " "); printf "jobs %d  migm CPU %.2f%% of one core  migm RSS %d MiB  helpers RSS %d MiB in all, %d MiB each  load %s\n", n, 100 * t / hz / (b - a), rm / 1024, h[1], h[2], l }'
tail -1 "$dir/run.out"
