#!/usr/bin/env bash
# Sets up and runs drctl's main job against the local test bed (moto with SigV4 verification on and
# AWS-like timing, reached through an endpoint override like any AWS endpoint), then stops it:
# who drctl acts as, then `drctl failover --to us-west-2` of the reference DR plan — dry run, the
# real failover (fence, promote, DNS, scale-up) journaled in the embedded SQLite store, its timeline.
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

state_db="$state/state.db"
# The reference topology of Runbooks/drplan.yaml, in the test bed: RDS primary in us-east-1 with a
# read replica in us-west-2 (12 s behind), a replicated bucket pair, app.example.com pointing at
# us-east-1, a warm-standby EKS node group in us-west-2.
python3 Tests/TestBed/reference_topology.py --lag 12 >/dev/null
export AWS_PROFILE=drill
"$drctl" failover --to us-west-2 --plan Runbooks/drplan.yaml --dry-run
"$drctl" failover --to us-west-2 --plan Runbooks/drplan.yaml --state "$state_db" --yes
run_id=$("$drctl" runs --state "$state_db" --output json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
"$drctl" show "$run_id" --state "$state_db"
