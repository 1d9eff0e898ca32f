#!/usr/bin/env bash
# The packing-against-fair-waits trade-off of migm's whole-GPU delay bound (migm:K: a blocked head
# that needs a whole GPU gets its reservation after K of its run times), on traces none of the
# defaults was chosen on: four online traces (Poisson arrivals at 0.8 of the capacity of 8 x
# A100-40GB) and the five held-back batch traces of sweep-constants.sh (load 3 on 2 GPUs), default
# estimator chain, early restart on. Prints per K: summed makespan, mean JCT, p95 wait and p95 wait
# of the jobs that need a whole GPU's worth of memory. Usage: bench/sweep-fairness.sh [DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$(mktemp -d)}"
mkdir -p "$dir"
migm="$here/migm"
online=()
for spec in "mixed 201" "llm 202" "ml 203" "mixed 204"; do
  set -- $spec
  f="$dir/online-$1-$2.csv"
  "$migm" generate-trace --from "$1" --jobs 500 --gpus 8 --load 0.8 --seed "$2" -o "$f" >/dev/null
  online+=("$f")
done
. "$here/bench/held-back.sh"
held_back_traces "$migm" "$dir"
batch=("${held_back[@]}")
policies=migm:0,migm:1,migm:3,migm:10,migm,migm:100
summarise() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
           { p = $c["policy"]; m[p] += $c["makespan_s"]; j[p] += $c["mean_jct_s"]; w[p] += $c["p95_wait_s"];
             g[p] += $c["whole_gpu_p95_wait_s"]; if (!(p in seen)) { seen[p] = 1; order[++n] = p } }
           END { for (k = 1; k <= n; k++) { p = order[k]; printf "%-10s %12.0f %10.0f %10.0f %12.0f\n", p, m[p], j[p], w[p], g[p] } }'
}
printf '%-10s %12s %10s %10s %12s\n' policy makespan_s mean_jct_s p95_wait_s whole_gpu_p95
echo "online (sums over 4 traces, 8 GPUs):"
"$migm" simulate "${online[@]}" --gpus 8 --policies "$policies" --estimate default --quiet --csv | summarise
echo "batch (sums over 5 traces, 2 GPUs):"
"$migm" simulate "${batch[@]}" --gpus 2 --policies "$policies" --estimate default --quiet --csv | summarise
