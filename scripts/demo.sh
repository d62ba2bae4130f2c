#!/usr/bin/env bash
# Sets up and runs drctl's main job against the local test bed (moto with SigV4 verification on,
# reached through AWS_ENDPOINT_URL like any AWS endpoint override), then stops the test bed:
# who drctl acts as, then a durable runbook run (plan, run, timeline) in the embedded SQLite store.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
swift build --product drctl
drctl=$(swift build --show-bin-path)/drctl

state=$(mktemp -d "${TMPDIR:-/tmp}/drctl-demo.XXXXXX")
cleanup() { Tests/TestBed/testbed.sh stop "$state" >/dev/null 2>&1 || true; rm -rf "$state"; }
trap cleanup EXIT INT TERM
Tests/TestBed/testbed.sh start "$state" --no-postgres --ttl 900 >/dev/null
. "$state/testbed.env"

# A throwaway AWS configuration, exactly as a user would write one.
export AWS_CONFIG_FILE="$state/aws-config" AWS_SHARED_CREDENTIALS_FILE="$state/aws-credentials"
cat > "$AWS_SHARED_CREDENTIALS_FILE" <<CREDS
[drill]
aws_access_key_id = $DRCTL_TESTBED_ACCESS_KEY_ID
aws_secret_access_key = $DRCTL_TESTBED_SECRET_ACCESS_KEY
CREDS
cat > "$AWS_CONFIG_FILE" <<CONFIG
[profile drill]
region = us-east-1
endpoint_url = $DRCTL_TESTBED_PROXY_URL
CONFIG

set -x
"$drctl" --version
"$drctl" whoami --profile drill
"$drctl" whoami --profile drill --region us-west-2 --output json

state_db="$state/state.db"
"$drctl" plan Runbooks/examples/engine-tour.yaml --input workdir="$state/tour"
"$drctl" run Runbooks/examples/engine-tour.yaml --input workdir="$state/tour" --state "$state_db" --yes
run_id=$("$drctl" runs --state "$state_db" --output json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
"$drctl" show "$run_id" --state "$state_db"
