#!/usr/bin/env bash
# What Slurm-to-migm adds per job (not a test): SlurmTest's prologToTaskOverhead with more runs, on
# real Slurm daemons (Debian's slurmctld, slurmd, munge; as root: ./test installs them) and migm
# daemons on emulated A100-40GBs at 20x. Each run times, as nobody, `srun -w n1 --gres=gpumem:4G`
# (the Prolog asks the daemon for a 1g.5gb and waits for it, the TaskProlog exports it, the Epilog
# gives it back) against `srun -w n1` without gpumem (the same Prolog and Epilog start, migm places
# nothing). Prints one line: medians, minima and maxima.
# Usage: bench/slurm-overhead.sh            (20 runs each)
#        RUNS=50 bench/slurm-overhead.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${MIGM_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export MAVEN_OPTS=${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}
mvn -B -ntp -pl core -am test -Dtest='SlurmTest#prologToTaskOverhead' -Dsurefire.failIfNoSpecifiedTests=false \
  -Dmigm.slurm.overheadRuns="${RUNS:-20}" | grep -E "SlurmTest overhead|Tests run:.*Slurm|FAIL|Expecting" || true
