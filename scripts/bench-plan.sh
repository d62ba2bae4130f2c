#!/usr/bin/env bash
# Plans of 1,000 and 10,000 databases (+ buckets and records, one tenth as many): read and
# validate the plan, generate the failover runbook as a value, render and pin its text. Prints the
# time of each part and the peak resident memory, one process per size, and the ratio to the
# goal of issue 12 (10,000 databases in under 1 s and 50 MB). No network, no test bed.
#   scripts/bench-plan.sh [SIZE…]        # default: 1000 10000
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)
swift build -c release --product drctl-plan-bench 2>&1 | grep -E "error|Compiling|Build complete" | grep -v Compiling || true
bin="$(swift build -c release --show-bin-path)/drctl-plan-bench"
for size in "${sizes[@]}"; do
  line=$("$bin" "$size")
  echo "$line"
  if [ "$size" = 10000 ]; then
    seconds=$(sed -n 's/.*total \([0-9.]*\) s.*/\1/p' <<<"$line")
    peak=$(sed -n 's/.*peak RSS \([0-9.]*\) MB.*/\1/p' <<<"$line")
    python3 -c "import sys; s,m=float(sys.argv[1]),float(sys.argv[2]); print(f'goal (10,000 databases < 1 s, < 50 MB): {s:.3f} s = {s/1:.2f}x the time goal, {m:.1f} MB = {m/50:.2f}x the memory goal')" "$seconds" "$peak"
  fi
done
