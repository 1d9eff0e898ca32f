#!/usr/bin/env bash
# The load of issue 14 (not a test: about two minutes; loopback only): a daemon on one emulated A100,
# drained so that every job waits, PRELOAD jobs queued, then RATE one-job submits per second for
# DURATION seconds from CLIENTS clients (open loop, latency from each submit's due time) while the queue
# (GET /v1/jobs) and /metrics are polled once a second and the daemon's resident memory is read;
# at the end the journal must hold every acknowledged job.
# Usage: bench/hostile-load.sh                       (10,000 queued, 1,000/s for 60 s, 20 clients)
#        PRELOAD=1000 RATE=200 DURATION=10 bench/hostile-load.sh
#        JFR=/tmp/daemon.jfr bench/hostile-load.sh      (also records the daemon with Flight Recorder)
set -euo pipefail
cd "$(dirname "$0")/.."
PRELOAD=${PRELOAD:-10000}
RATE=${RATE:-1000}
DURATION=${DURATION:-60}
CLIENTS=${CLIENTS:-20}
export JAVA_HOME=${MIGM_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
MAVEN_OPTS=${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow} mvn -B -ntp -q -Pbench -DskipTests -pl bench -am package >/dev/null
./migm --version >/dev/null
dir=$(mktemp -d)
trap 'kill -9 $(cat "$dir/home/daemon.lock" 2>/dev/null) 2>/dev/null || true; rm -rf "$dir"' EXIT
export MIGM_HOME="$dir/home"
root_jobs=(); [ "$(id -u)" = 0 ] && root_jobs=(--allow-root-jobs)
jfr_opts=(); [ -n "${JFR:-}" ] && jfr_opts=(env "JDK_JAVA_OPTIONS=-XX:StartFlightRecording=settings=profile")
"${jfr_opts[@]}" ./migm daemon --http-listen 127.0.0.1:0 "${root_jobs[@]}" > "$dir/d.out" 2>&1 &
until grep -q "migm daemon ready" "$dir/d.out"; do sleep 0.05; done
http=$(grep -o "http [0-9.:]*" "$dir/d.out" | head -1 | cut -d' ' -f2)
./migm drain 0 >/dev/null
"$JAVA_HOME/bin/java" -cp "bench/target/benchmarks.jar" dev.migm.bench.HostileLoad "$MIGM_HOME/migm.sock" "$http" \
  "$(cat "$MIGM_HOME/daemon.lock")" "$PRELOAD" "$RATE" "$DURATION" "$CLIENTS"
if [ -n "${JFR:-}" ]; then "$JAVA_HOME/bin/jcmd" "$(cat "$MIGM_HOME/daemon.lock")" JFR.dump filename="$JFR" >/dev/null; fi
