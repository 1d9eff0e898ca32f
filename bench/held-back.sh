# Sourced by the sweep scripts: the held-back batch traces none of migm's constants was chosen on,
# generated from seeds the bundled suites do not use (five traces, 300 jobs each, Poisson arrivals at
# three times the capacity of 2 x A100-40GB). Sets the array `held_back` to their paths in DIR.
# Usage: held_back_traces MIGM DIR
held_back_traces() {
  local migm=$1 dir=$2 f
  held_back=()
  for spec in "mixed 101" "mixed 102" "ml 103" "llm 104" "scientific 105"; do
    set -- $spec
    f="$dir/held-$1-$2.csv"
    "$migm" generate-trace --from "$1" --jobs 300 --gpus 2 --load 3 --seed "$2" -o "$f" >/dev/null
    held_back+=("$f")
  done
}
