#!/usr/bin/env bash
# Builds drctl-bench in release mode, starts the test bed, prints SigV4 and round-trip figures
# next to botocore's (the baseline, measured in the same run), and stops the test bed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product drctl-bench
state=$(mktemp -d "${TMPDIR:-/tmp}/drctl-bench.XXXXXX")
cleanup() { Tests/TestBed/testbed.sh stop "$state" >/dev/null 2>&1 || true; rm -rf "$state"; }
trap cleanup EXIT INT TERM
Tests/TestBed/testbed.sh start "$state" --no-postgres --ttl 900 >/dev/null
set -a; . "$state/testbed.env"; set +a
"$(swift build -c release --show-bin-path)/drctl-bench" "$@"
