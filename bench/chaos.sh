#!/usr/bin/env bash
# Longer chaos than the suite's 40 s (not a test): ChaosTest (core/src/test/java/dev/migm/service/)
# with other seeds and longer stretches of faults: emulated GPU faults at random, job processes and
# the daemon killed. Each run prints its line: jobs, actions, faults injected/journaled/cut by a kill.
# Usage: bench/chaos.sh                      (seeds 1..3, 120 s each)
#        SEEDS="7 8" CHAOS_SECONDS=300 bench/chaos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${MIGM_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export MAVEN_OPTS=${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}
SEEDS=${SEEDS:-"1 2 3"}
CHAOS_SECONDS=${CHAOS_SECONDS:-120}   # at most 600: the test gives up after 900 s
for seed in $SEEDS; do
  mvn -B -ntp -pl core -am test -Dtest=ChaosTest -Dsurefire.failIfNoSpecifiedTests=false \
    -Dmigm.chaos.seed="$seed" -Dmigm.chaos.seconds="$CHAOS_SECONDS" | grep -E "ChaosTest seed|Tests run:.*Chaos|FAIL|Expecting" || true
done
