#!/usr/bin/env bash
# Sets up and runs the whole test suite: installs what is missing, builds, starts the local test
# bed (moto with SigV4 verification + fault proxy + PostgreSQL primary/standby on 127.0.0.1),
# runs every test, and stops the test bed whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
# The GCP stand-in (Python, about ten seconds, each test class with its own private gcpbed): its
# discovery-document validator and its behaviour over HTTP through Google's client libraries.
# A failure there is reported at the end, after the Swift tests have run too.
gcpbed_status=0
python3 -W ignore::ResourceWarning -m unittest discover -s Tests/TestBed/gcp -p 'test_*.py' || gcpbed_status=$?
# The schema checkers the deploy-artifact tests use (a few seconds): the strict Kubernetes validator
# (the official client's models) and the botocore input checker, each against right and wrong input.
python3 -m unittest discover -s Tests/TestBed/schemas -p 'test_*.py' || gcpbed_status=$?
swift build --build-tests
# The short fuzz run (about 20 s per target) goes first and does not need the test bed; a crash
# or a broken invariant fails the script at the end, after the tests have run too.
fuzz_status=0
if [ $# -eq 0 ]; then scripts/fuzz.sh || fuzz_status=$?; fi

state=$(mktemp -d "${TMPDIR:-/tmp}/drctl-testbed.XXXXXX")
# A second moto + fault proxies (no PostgreSQL) for the CLI tests that run beside the failover
# suite: moto's timings and the CLI proxy's rules and counters are global to one bed.
state2=$(mktemp -d "${TMPDIR:-/tmp}/drctl-testbed2.XXXXXX")
cleanup() {
  Tests/TestBed/testbed.sh stop "$state" >/dev/null 2>&1 || true
  Tests/TestBed/testbed.sh stop "$state2" >/dev/null 2>&1 || true
  rm -rf "$state" "$state2"
}
trap cleanup EXIT INT TERM
Tests/TestBed/testbed.sh start "$state" --ttl 2700
set -a; . "$state/testbed.env"; set +a

python3 Tests/TestBed/check_testbed.py
if [ $# -gt 0 ]; then
  swift test --skip-build "$@"
  exit $gcpbed_status
fi
# The library and provider tests run in parallel (Swift Testing, one process per target).
status=0
swift test --skip-build --filter '^AWSProviderTests\.' || status=$?
swift test --skip-build --filter '^DRCoreTests\.' || status=$?
swift test --skip-build --filter '^GCPProviderTests\.' || status=$?

# The CLI tests spend most of their time waiting: for real drctl processes, and for the test bed's
# simulated AWS time (a promotion takes seconds, a Route 53 change is INSYNC later). They run in
# three processes at once, each one test at a time: inside one test process, their blocking waits
# on a 2-core machine's two task-pool threads would starve the other tests' timers. The failover
# suite's nested suites (fence, recovery) and the drill suite, which set moto's timings and the
# CLI proxy's faults, and the IAM policy suite, which reads every call the CLI proxy recorded (a
# failover of another lane would be among them), run against the second bed; the other lanes use
# no global test bed setting.
# Each lane: a name; its test bed (empty: the first); which tests: --filter, then --skip.
lanes=(
  "cli-failover;;^drctlTests\.(FailoverCommandTests|FailoverCrashSweepTests);^drctlTests\.FailoverCommandTests/(Fence|Recovery)/"
  "cli-bed2;$state2/testbed.env;^drctlTests\.(FailoverCommandTests/(Fence|Recovery)/|DrillCommandTests|IAMPolicyCommandTests);^$"
  "cli-rest;;^drctlTests\.;^drctlTests\.(FailoverCommandTests|FailoverCrashSweepTests|DrillCommandTests|IAMPolicyCommandTests)"
)
# Every CLI test in exactly one lane, or a test would silently not run (or run twice).
all_cli=$(swift test --skip-build --list-tests 2>/dev/null | grep '^drctlTests\.' | sort)
assigned=$(for entry in "${lanes[@]}"; do
  IFS=';' read -r _ _ filter skip <<<"$entry"
  grep -E "$filter" <<<"$all_cli" | grep -vE "$skip" || true
done | sort)
if [ -z "$all_cli" ] || [ "$assigned" != "$all_cli" ]; then
  echo "test: the CLI lanes do not cover each drctlTests test exactly once:" >&2
  diff <(echo "$all_cli") <(echo "$assigned") >&2 || true
  exit 1
fi
Tests/TestBed/testbed.sh start "$state2" --no-postgres --ttl 2700
lane_pids=()
for entry in "${lanes[@]}"; do
  IFS=';' read -r name env_file filter skip <<<"$entry"
  (
    if [ -n "$env_file" ]; then set -a; . "$env_file"; set +a; fi
    # --ignore-lock: SwiftPM otherwise holds .build's lock while the tests run, so the lanes would
    # take turns; with --skip-build none of them writes there.
    swift test --skip-build --ignore-lock --no-parallel --filter "$filter" --skip "$skip" 2>&1 | sed -u "s/^/[$name] /"
  ) &
  lane_pids+=($!)
done
for pid in "${lane_pids[@]}"; do wait "$pid" || status=1; done
[ $fuzz_status -eq 0 ] || { echo "test: the fuzz run failed (see above)" >&2; status=1; }
[ $gcpbed_status -eq 0 ] || { echo "test: the GCP stand-in's or the schema checkers' own tests failed (see above)" >&2; status=1; }
exit $status
