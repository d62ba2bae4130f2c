#!/usr/bin/env bash
# Crash-point sweeps at full size: drctl (debug build: the crash hook exists only there) SIGKILLed
# at every journal append — before and after each — of
#   - the larger reference runbook (4 parallel chains, waits, a check, a tolerated failure), with
#     the SQLite store and with the PostgreSQL store;
#   - an exec step without `observe` (never twice);
#   - `drctl failover` of the reference plan, every point (CI samples a few);
#   - `drctl failover` of a mixed plan (self-managed PostgreSQL pair + Route 53 + Auto Scaling), every point;
# and the PostgreSQL store's connections cut at every append instead of a kill (DRCTL_CRASH_ACTION=hook).
# Prints, per sweep, the number of appends and points, the time taken and the points that ended
# differently from the uninterrupted run.
#   scripts/bench-crash-sweep.sh [--width N]      N: points swept at once (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
width=3
while [ $# -gt 0 ]; do
  case $1 in
    --width) width=$2; shift 2;;
    *) echo "bench-crash-sweep.sh: unknown option $1" >&2; exit 2;;
  esac
done
scripts/setup.sh
swift build --build-tests
state=$(mktemp -d "${TMPDIR:-/tmp}/drctl-bench-crash.XXXXXX")
log=$(mktemp "${TMPDIR:-/tmp}/drctl-crash-sweeps.XXXXXX.log")
cleanup() { Tests/TestBed/testbed.sh stop "$state" >/dev/null 2>&1 || true; rm -rf "$state"; }
trap cleanup EXIT INT TERM
Tests/TestBed/testbed.sh start "$state" --ttl 3600 >/dev/null
set -a; . "$state/testbed.env"; set +a
start=$(date +%s)
status=0
DRCTL_CRASH_SWEEP=full DRCTL_CRASH_SWEEP_WIDTH=$width \
  swift test --skip-build --filter 'CrashPointSweepTests|CrashPointSweepPostgresTests|FailoverCrashSweepTests|MixedFailoverCrashSweepTests' >"$log" 2>&1 || status=$?
grep -E '^crash sweep' "$log" || true
grep -E '^(✔|✘) Test ' "$log" | sed 's/ recorded an issue.*//' | sort | uniq -c || true
echo "all sweeps: $(( $(date +%s) - start )) s (full log: $log; exit $status)"
[ $status -eq 0 ] || { grep -m 20 -A 4 'recorded an issue' "$log" | cut -c1-300; }
exit $status
