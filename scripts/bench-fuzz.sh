#!/usr/bin/env bash
# Long fuzz runs: RUNS inputs per target (default 1,000,000), then a table of executions, exec/s,
# wall time, new corpus entries and crashes (a crash, a hang over -timeout, a broken invariant)
# per target. Built in release mode with libFuzzer (no AddressSanitizer unless --asan: Swift
# checks bounds itself, and the long runs want speed) into .build-fuzz-release.
#   scripts/bench-fuzz.sh [--runs N] [--asan] [--jobs N] [TARGET…]
# Each target runs single-threaded; with --jobs N, N targets run at once.
# Findings are kept under .build-fuzz-release/findings/TARGET/; reproduce one with
#   DRCTL_FUZZ_TARGET=TARGET .build-fuzz-release/release/drctl-fuzz FILE
set -euo pipefail
cd "$(dirname "$0")/.."

runs=1000000
sanitizers=fuzzer
jobs=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --asan) sanitizers=fuzzer,address; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(runbook plan expression duration xml aws-response json aws-config render)

scratch=.build-fuzz-release
# -enable-testing: the JSON and AWS targets read internal decoders (@testable import).
build=(swift build -c release --scratch-path "$scratch" --product drctl-fuzz
       -Xswiftc -sanitize=$sanitizers -Xswiftc -parse-as-library -Xswiftc -enable-testing)
export DRCTL_FUZZ=1 SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
"${build[@]}" 2>&1 | grep -E "error|Build complete" || true
bin="$("${build[@]}" --show-bin-path)/drctl-fuzz"
[ -x "$bin" ] || { echo "bench-fuzz: build failed" >&2; exit 1; }

results=$(mktemp -d "${TMPDIR:-/tmp}/drctl-bench-fuzz.XXXXXX")
run_target() {
  local target=$1 findings="$scratch/findings/$1" work="$results/$1.corpus"
  mkdir -p "$findings" "$work"
  local dict=()
  [ -f "Fuzz/dictionaries/$target.dict" ] && dict=(-dict="Fuzz/dictionaries/$target.dict")
  local start=$(date +%s)
  # A run stops at its first finding; the table then shows how far it got.
  DRCTL_FUZZ_TARGET=$target "$bin" "$work" "Fuzz/corpus/$target" "${dict[@]}" -runs="$runs" -timeout=10 \
    -rss_limit_mb=2048 -max_len=8192 -detect_leaks=0 -artifact_prefix="$findings/" -print_final_stats=1 \
    >"$results/$target.log" 2>&1 || true
  local end=$(date +%s)
  local executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$results/$target.log" | tail -1)
  local speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$results/$target.log" | tail -1)
  local crashes=$(grep -c "Test unit written" "$results/$target.log" || true)
  local corpus=$(ls "$work" | wc -l)
  printf '%-13s %10s %8s %7ss %7s %8s\n' "$target" "${executed:-?}" "${speed:-?}" "$((end - start))" "$corpus" "$crashes" \
    >"$results/$target.row"
  if [ "$crashes" -gt 0 ]; then
    grep -E "drctl-fuzz: invariant|ERROR: libFuzzer|Fatal error|Test unit written" "$results/$target.log" | head -6 \
      >"$results/$target.finding"
  fi
}

running=0
for target in "${targets[@]}"; do
  run_target "$target" &
  running=$((running + 1))
  if [ $running -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

printf '%-13s %10s %8s %8s %7s %8s\n' target executions exec/s time corpus+ crashes
status=0
for target in "${targets[@]}"; do
  cat "$results/$target.row"
  if [ -f "$results/$target.finding" ]; then status=1; sed 's/^/    /' "$results/$target.finding" | cut -c1-400; fi
done
rm -rf "$results"
exit $status
