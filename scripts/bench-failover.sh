#!/usr/bin/env bash
# Failover benchmark: drctl vs the floor and a boto3 script, in one run against the test bed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product drctl
state=$(mktemp -d "${TMPDIR:-/tmp}/drctl-bench-failover.XXXXXX")
cleanup() { Tests/TestBed/testbed.sh stop "$state" >/dev/null 2>&1 || true; rm -rf "$state"; }
trap cleanup EXIT INT TERM
Tests/TestBed/testbed.sh start "$state" --no-postgres --ttl 900 >/dev/null
set -a; . "$state/testbed.env"; set +a
python3 Benchmarks/failover_bench.py --drctl "$(swift build -c release --show-bin-path)/drctl" "$@"
