#!/usr/bin/env bash
# Longer coverage-guided fuzzing than the suite's (not a test): runs the Jazzer fuzz tests ROUNDS
# times (default 10), each target 10 s a round in its own JVM; the corpus Jazzer grows is kept in
# core/.cifuzz-corpus/ between rounds (not committed), so each round starts where the last stopped.
# A finding fails the round and is written as crash-* into the target's committed inputs
# (core/src/test/resources/dev/migm/fuzz/*Inputs/), where it becomes a regression input: fix the
# parser, keep the file. Usage: bench/fuzz.sh   or   ROUNDS=60 ONLY=JobFileFuzzTest bench/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${MIGM_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export MAVEN_OPTS=${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}
ROUNDS=${ROUNDS:-10}
ONLY=${ONLY:-'*FuzzTest'}
mvn -B -ntp -q -pl core -am -DskipTests test-compile >/dev/null
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round of $ROUNDS"
  mvn -B -ntp -pl core surefire:test@fuzz -Dtest="$ONLY" -Dsurefire.failIfNoSpecifiedTests=false \
    | grep -E "DONE|Tests run:.*in dev|FuzzTestFinding" || true
  git ls-files --others --exclude-standard core/src/test/resources/dev/migm/fuzz | grep crash- | sed 's/^/  new finding: /' || true
done
