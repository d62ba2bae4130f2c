#!/usr/bin/env bash
# The short fuzz run (CI, scripts/test.sh): builds drctl-fuzz with libFuzzer and AddressSanitizer
# into its own scratch path (.build-fuzz), then runs every target (or those named) for
# FUZZ_SECONDS each (default 20) from its seed corpus in Fuzz/corpus/TARGET. Fails when any
# target crashes, hangs (-timeout) or breaks one of its invariants; the input that did it is kept
# under .build-fuzz/findings/TARGET/ and printed. New inputs found go to a temporary directory,
# never into the repo's seeds.
#   scripts/fuzz.sh                 # all targets
#   FUZZ_SECONDS=60 scripts/fuzz.sh xml json
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-20}
# CI runs from a fixed seed, so that a failure there is one this commit causes and can be replayed;
# FUZZ_SEED=0 (libFuzzer's "random") for exploration, as scripts/bench-fuzz.sh does.
seed=${FUZZ_SEED:-1}
all_targets=(runbook plan expression duration xml aws-response json aws-config render gcp-key-file)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

# -parse-as-library: libFuzzer brings main(); the fuzz targets' @_cdecl entry points are the program.
build=(swift build --scratch-path .build-fuzz --product drctl-fuzz
       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
export DRCTL_FUZZ=1
# An invariant that breaks aborts; libFuzzer reports it. Swift's own backtracer would only slow that down.
export SWIFT_BACKTRACE=enable=no
# Leak checks are off (-detect_leaks=0 and here, for the exit): the Swift runtime and libxml2 keep caches for the life of the process.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
"${build[@]}" 2>&1 | grep -E "error|warning: unre|Compiling drctl_fuzz|Build complete" || true
bin="$("${build[@]}" --show-bin-path)/drctl-fuzz"
[ -x "$bin" ] || { echo "fuzz: build failed" >&2; exit 1; }

failed=()
for target in "${targets[@]}"; do
  seeds="Fuzz/corpus/$target"
  [ -d "$seeds" ] || { echo "fuzz: no seed corpus $seeds" >&2; exit 2; }
  findings=".build-fuzz/findings/$target"
  mkdir -p "$findings"
  work=$(mktemp -d "${TMPDIR:-/tmp}/drctl-fuzz-$target.XXXXXX")
  dict=()
  [ -f "Fuzz/dictionaries/$target.dict" ] && dict=(-dict="Fuzz/dictionaries/$target.dict")
  log="$work.log"
  if DRCTL_FUZZ_TARGET=$target "$bin" "$work" "$seeds" "${dict[@]}" \
       -max_total_time="$seconds" -seed="$seed" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -detect_leaks=0 \
       -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    echo "fuzz: $target: ${runs:-?} inputs, ${speed:-?}/s, no crash"
  else
    echo "fuzz: $target FAILED:" >&2
    grep -E "drctl-fuzz: invariant|ERROR: libFuzzer|ERROR: AddressSanitizer|Fatal error|SUMMARY|Test unit written|^artifact_prefix|timeout after" "$log" | head -20 >&2 || tail -30 "$log" >&2
    echo "fuzz: reproduce with DRCTL_FUZZ_TARGET=$target $bin $findings/<file>" >&2
    failed+=("$target")
  fi
  rm -rf "$work" "$log"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
