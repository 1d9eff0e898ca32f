#!/usr/bin/env bash
# Sweeps the constants a site might question on traces none of them was chosen on: held-back
# traces generated from seeds the bundled suites do not use. Prints, per constant and value, the
# makespan of migm with the default estimator chain and early restart, summed over the traces,
# and its ratio to the sum with every constant at its default. Usage: bench/sweep-constants.sh [DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$(mktemp -d)}"
mkdir -p "$dir"
migm="$here/migm"
. "$here/bench/held-back.sh"
held_back_traces "$migm" "$dir"
traces=("${held_back[@]}")
run() {
  "$migm" simulate "${traces[@]}" --gpus 2 --policies "$1" --estimate default --quiet --csv ${2:+--tune "$2"} \
    | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
               { m += $c["makespan_s"]; f += $c["false_early_restarts"]; o += $c["oom_kills"]; w += $c["wasted_gpu_s"];
                 if ($c["completed"] != $c["jobs"]) u += $c["jobs"] - $c["completed"] }
               END { printf "%.0f %d %d %.0f %d\n", m, o, f, w, u }'
}
base=$(run migm "")
read -r base_m _ <<<"$base"
printf '%-18s %-8s %12s %8s %6s %6s %10s %10s\n' constant value makespan_s ratio ooms false wasted unfinished
printf '%-18s %-8s %12s %8s %6s %6s %10s %10s\n' default - $(echo "$base" | awk -v b="$base_m" '{printf "%s %.4f %s %s %s %s", $1, $1 / b, $2, $3, $4, $5}')
sweep() {
  local name=$1; shift
  for v in "$@"; do
    if [[ $name == whole_gpu_delay ]]; then r=$(run "migm:$v" ""); else r=$(run migm "$name=$v"); fi
    printf '%-18s %-8s %12s %8s %6s %6s %10s %10s\n' "$name" "$v" $(echo "$r" | awk -v b="$base_m" '{printf "%s %.4f %s %s %s %s", $1, $1 / b, $2, $3, $4, $5}')
  done
}
sweep whole_gpu_delay 0 3 10 30 100
sweep right_size_slack 1 1.1 1.25 1.5 2
sweep history_quantile 0.25 0.5 0.75 0.9
sweep margin 0 0.05 0.1 0.2
sweep noise_floor 0 0.005 0.01 0.02 0.05
sweep z 2 3 4 6
sweep min_span 0.02 0.05 0.1 0.2
sweep confidence 0.5 0.8 0.9 0.95 0.98 0.99
