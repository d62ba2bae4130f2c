#!/usr/bin/env bash
# Sets up and runs the whole test suite: installs what is missing, builds, starts the local test
# bed (moto with SigV4 verification + fault proxy + PostgreSQL primary/standby on 127.0.0.1),
# runs every test, and stops the test bed whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
swift build --build-tests
# The short fuzz run (about 20 s per target) goes first and does not need the test bed; a crash
# or a broken invariant fails the script at the end, after the tests have run too.
fuzz_status=0
if [ $# -eq 0 ]; then scripts/fuzz.sh || fuzz_status=$?; fi

state=$(mktemp -d "${TMPDIR:-/tmp}/drctl-testbed.XXXXXX")
cleanup() { Tests/TestBed/testbed.sh stop "$state" >/dev/null 2>&1 || true; rm -rf "$state"; }
trap cleanup EXIT INT TERM
Tests/TestBed/testbed.sh start "$state" --ttl 2700
set -a; . "$state/testbed.env"; set +a

python3 Tests/TestBed/check_testbed.py
if [ $# -gt 0 ]; then
  swift test --skip-build "$@"
  exit
fi
# The library and provider tests run in parallel. The CLI tests run one at a time: each starts
# real drctl processes and waits for them, and on a 2-core machine a dozen of those at once would
# starve the other tests' timers (a 0.5 s timeout firing after a minute).
status=0
# DRCoreTests run one at a time too: run in parallel on 2 cores, since this session's merges
# every test of the target stalls for ~2 minutes (the test process's two pool threads are blocked;
# the cause is not found yet), while one at a time they pass in under a minute.
swift test --skip-build --filter '^AWSProviderTests\.' || status=$?
swift test --skip-build --filter '^DRCoreTests\.' --no-parallel || status=$?
swift test --skip-build --filter '^drctlTests\.' --no-parallel || status=$?
[ $fuzz_status -eq 0 ] || { echo "test: the fuzz run failed (see above)" >&2; status=1; }
exit $status
