#!/usr/bin/env bash
# Every simulator output worth pinning, written to a directory, so that a change that must not move
# a result (issue 25's reshaping of the engine) can be shown not to, to the last digit:
#   bench/goldens.sh /tmp/before;  (change);  bench/goldens.sh /tmp/after;  diff -r /tmp/before /tmp/after
# Suites under every estimate and early-restart setting, the makespan explanation, per-job rows,
# timelines, a what-if of reported progress, multi-GPU and Alibaba runs, a generated trace, a batch file.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/goldens.sh DIR}
mkdir -p "$out"
m() { ./migm "$@"; }
m --version >/dev/null
for suite in scientific ml llm mixed mixed-online; do
  for est in oracle default declared oracle-memory; do
    for er in on off; do
      m simulate --suite "$suite" --estimate "$est" --early-restart "$er" --quiet --json >"$out/$suite-$est-er$er.json"
    done
  done
  m simulate --suite "$suite" --policies migm --explain-makespan --quiet --json >"$out/$suite-explain.json"
  m simulate --suite "$suite" --policies migm --estimate oracle --explain-makespan --quiet --json >"$out/$suite-oracle-explain.json"
  m simulate --suite "$suite" --policies migm,s1 --per-job "$out/$suite-perjob.csv" --timeline "$out/$suite-timeline.json" --quiet >/dev/null
done
m simulate --suite llm,ml --policies migm --reports-progress llm,ml --quiet --json >"$out/progress.json"
m simulate --suite mixed --gpus 4 --quiet --json >"$out/mixed-4gpu.json"
m simulate --suite mixed --gpu A100-40GB:2,H100-80GB:2 --quiet --json >"$out/mixed-hetero.json"
m simulate --suite alibaba --gpus 8 --quiet --json >"$out/alibaba-8.json"
m simulate --suite alibaba --gpus 64 --quiet --json >"$out/alibaba-64.json"
m generate-trace --jobs 3000 --from mixed --gpus 2 --seed 7 -o "$out/generated.csv" >/dev/null
m simulate "$out/generated.csv" --gpus 2 --quiet --json >"$out/generated.json"
m simulate examples/trace-small.csv --quiet --json >"$out/trace-small.json"
m simulate examples/batch-demo.yaml --policies migm --quiet --json >"$out/batch-demo.json"
m simulate --suite mixed --policies migm --tune margin=0.1,z=3 --quiet --json >"$out/tuned.json"
ls "$out" | wc -l
