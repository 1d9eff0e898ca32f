#!/usr/bin/env bash
# The node service under submit load and its restart with a full journal (not a test: a few minutes).
#   1. a daemon on one emulated A100 (drained, so that the jobs wait: this measures the queue), and
#      SUBMITS one-job submits from CLIENTS parallel API clients: latency p50/p99 and accepted/s;
#   2. SIGKILL, then the time a restarted daemon takes to be ready with those jobs in its journal.
# Usage: bench/service-load.sh            (20 clients, 10,000 submits)
#        CLIENTS=4 SUBMITS=2000 bench/service-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-20}
SUBMITS=${SUBMITS:-10000}
export JAVA_HOME=${MIGM_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
MAVEN_OPTS=${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow} mvn -B -ntp -q -Pbench -DskipTests -pl bench -am package >/dev/null
./migm --version >/dev/null
dir=$(mktemp -d)
trap 'kill -9 $(cat "$dir/home/daemon.lock" 2>/dev/null) 2>/dev/null || true; rm -rf "$dir"' EXIT
export MIGM_HOME="$dir/home"
wait_ready() { until grep -q "migm daemon ready" "$1"; do sleep 0.05; done; }
root_jobs=(); [ "$(id -u)" = 0 ] && root_jobs=(--allow-root-jobs)
./migm daemon "${root_jobs[@]}" > "$dir/d1.out" 2>&1 &
wait_ready "$dir/d1.out"
./migm drain 0 >/dev/null
"$JAVA_HOME/bin/java" -cp "bench/target/benchmarks.jar" dev.migm.bench.SubmitLoad "$MIGM_HOME/migm.sock" "$CLIENTS" "$SUBMITS"
kill -9 "$(cat "$MIGM_HOME/daemon.lock")"
sleep 1
for run in 1 2 3; do
  start=$(date +%s%N)
  ./migm daemon "${root_jobs[@]}" > "$dir/d2.out" 2>&1 &
  wait_ready "$dir/d2.out"
  end=$(date +%s%N)
  echo "restart $run: $(( (end - start) / 1000000 )) ms to ready (JVM start included); $(grep -o "recovered.*" "$dir/d2.out")"
  kill -9 "$(cat "$MIGM_HOME/daemon.lock")"
  sleep 1
done
