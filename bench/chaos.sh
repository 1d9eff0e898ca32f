#!/usr/bin/env bash
# Longer chaos than the suite's 30 actions (not a test): ChaosTest (core/src/test/java/dev/migm/service/)
# with other seeds and more actions: emulated GPU faults from a seeded schedule of operations, job
# processes and the daemon killed. Each run prints its line: jobs, actions, faults
# injected/journaled/cut by a kill.
# Usage: bench/chaos.sh                      (seeds 1..3, 90 actions each)
#        SEEDS="7 8" CHAOS_ACTIONS=200 bench/chaos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${MIGM_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export MAVEN_OPTS=${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}
SEEDS=${SEEDS:-"1 2 3"}
CHAOS_ACTIONS=${CHAOS_ACTIONS:-90}   # about 1.4 s each; the test gives up after 900 s
for seed in $SEEDS; do
  mvn -B -ntp -pl core -am test -Dtest=ChaosTest -Dsurefire.failIfNoSpecifiedTests=false \
    -Dmigm.chaos.seed="$seed" -Dmigm.chaos.actions="$CHAOS_ACTIONS" | grep -E "ChaosTest seed|Tests run:.*Chaos|FAIL|Expecting" || true
done
