#!/usr/bin/env bash
# Start/stop the whole drctl test bed: motobed (patched moto) + faultproxy (+ PostgreSQL)
# + gcpbed (GCP control-plane stand-in) + gcp-storage-emulator (GCS objects).
#   testbed.sh start [STATE_DIR] [--no-postgres] [--ttl SECONDS]
#   testbed.sh stop  [STATE_DIR]      # kills exactly the PIDs we recorded; safe to repeat
#   testbed.sh env   [STATE_DIR]      # prints STATE_DIR/testbed.env (source it)
# STATE_DIR defaults to .testbed/ at the repo root. Logs: STATE_DIR/*.log.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=${PYTHON:-python3}
CMD=${1:-}; shift || true
STATE=$REPO/.testbed
PG=1
TTL=3600
while [ $# -gt 0 ]; do
  case $1 in
    --no-postgres) PG=; shift;;
    --ttl) TTL=$2; shift 2;;
    -*) echo "testbed.sh: unknown option $1" >&2; exit 2;;
    *) STATE=$1; shift;;
  esac
done
mkdir -p "$STATE"
# As root, PostgreSQL runs as the postgres user, which must be able to enter the state dir
# (mktemp -d makes it 0700).
[ "$(id -u)" = 0 ] && chmod a+rx "$STATE"
STATE=$(cd "$STATE" && pwd)

die() {
  echo "testbed.sh: $*" >&2
  for f in "$STATE"/*.log; do [ -f "$f" ] && { echo "--- tail $f" >&2; tail -n 15 "$f" >&2; }; done
  exit 1
}

wait_file() {  # wait_file FILE PID SECONDS: until FILE exists, PID dies, or time is up
  local i
  for i in $(seq 1 $(( $3 * 10 ))); do
    [ -s "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

kill_pidfile() {  # TERM, then KILL after 5 s; only if the PID still runs the command we started
  local f=$1 pat=$2 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$pat"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

cmd_stop() {
  kill_pidfile "$STATE/faultproxy.pid" faultproxy.py
  kill_pidfile "$STATE/faultproxy-cli.pid" faultproxy.py
  kill_pidfile "$STATE/motobed.pid" motobed.py
  kill_pidfile "$STATE/gcpbed.pid" gcpbed.py
  kill_pidfile "$STATE/gcs.pid" gcp_storage_emulator
  if [ -f "$STATE/pg/pg.env" ] || [ -d "$STATE/pg/primary" ]; then "$HERE/postgres.sh" stop "$STATE/pg"; fi
  rm -f "$STATE/testbed.env"
}

cmd_start() {
  if [ -f "$STATE/motobed.pid" ] && kill -0 "$(cat "$STATE/motobed.pid")" 2>/dev/null; then
    die "already running in $STATE (run: $0 stop $STATE)"
  fi
  cmd_stop
  rm -f "$STATE"/*.port "$STATE"/creds.json "$STATE"/*.log "$STATE"/gcp-*.json "$STATE"/gcp-subject-token.jwt
  rm -rf "$STATE/pg"  # our own previous PostgreSQL data (only ever created by us, under STATE)

  # setsid: detached from the caller's terminal/process group so ^C in a test run does not kill it.
  setsid "$PY" "$HERE/motobed.py" --port 0 --port-file "$STATE/moto.port" --creds-file "$STATE/creds.json" \
    --ttl "$TTL" </dev/null >"$STATE/motobed.log" 2>&1 &
  echo $! > "$STATE/motobed.pid"
  wait_file "$STATE/moto.port" "$(cat "$STATE/motobed.pid")" 60 || { cmd_stop; die "motobed did not start"; }
  local mport; mport=$(cat "$STATE/moto.port")

  setsid "$PY" "$HERE/faultproxy.py" --upstream "http://127.0.0.1:$mport" --port 0 \
    --port-file "$STATE/proxy.port" --ttl "$TTL" </dev/null >"$STATE/faultproxy.log" 2>&1 &
  echo $! > "$STATE/faultproxy.pid"
  wait_file "$STATE/proxy.port" "$(cat "$STATE/faultproxy.pid")" 30 || { cmd_stop; die "faultproxy did not start"; }
  local pport; pport=$(cat "$STATE/proxy.port")

  # A second proxy with its own rules and counters, for the CLI's failover tests, so that they
  # can run beside the provider's fault tests (the two suites would otherwise share one rule set).
  setsid "$PY" "$HERE/faultproxy.py" --upstream "http://127.0.0.1:$mport" --port 0 \
    --port-file "$STATE/proxy-cli.port" --ttl "$TTL" </dev/null >"$STATE/faultproxy-cli.log" 2>&1 &
  echo $! > "$STATE/faultproxy-cli.pid"
  wait_file "$STATE/proxy-cli.port" "$(cat "$STATE/faultproxy-cli.pid")" 30 || { cmd_stop; die "faultproxy (cli) did not start"; }
  local cport; cport=$(cat "$STATE/proxy-cli.port")

  # Health through the proxy proves both hops.
  "$PY" - "$mport" "$pport" <<'EOF' || { cmd_stop; die "health check failed"; }
import json, sys, time, urllib.request
m, p = sys.argv[1:]
for url in (f"http://127.0.0.1:{m}/_testbed/health", f"http://127.0.0.1:{p}/_faults/health"):
    for _ in range(50):
        try:
            if json.load(urllib.request.urlopen(url, timeout=2))["status"] == "ok":
                break
        except Exception:
            time.sleep(0.2)
    else:
        sys.exit(f"not healthy: {url}")
EOF

  # GCP: the control-plane stand-in writes its key files (gcp-sa.json, gcp-adc.json) into STATE.
  setsid "$PY" "$HERE/gcpbed.py" --port 0 --port-file "$STATE/gcp.port" --state-dir "$STATE" \
    --ttl "$TTL" </dev/null >"$STATE/gcpbed.log" 2>&1 &
  echo $! > "$STATE/gcpbed.pid"
  wait_file "$STATE/gcp.port" "$(cat "$STATE/gcpbed.pid")" 30 || { cmd_stop; die "gcpbed did not start"; }
  local gport; gport=$(cat "$STATE/gcp.port")
  # gcp-storage-emulator takes no port 0 and has no TTL: a free port picked here (a race only with
  # another process binding the same port in the next second) and `timeout` as its watchdog.
  local sport; sport=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  (cd "$STATE" && exec setsid timeout "$TTL" "$PY" -m gcp_storage_emulator start --host 127.0.0.1 --port "$sport" \
    --in-memory --project-number 123456789012 </dev/null >"$STATE/gcs.log" 2>&1) &
  echo $! > "$STATE/gcs.pid"
  "$PY" - "$gport" "$sport" <<'EOF' || { cmd_stop; die "GCP stand-ins not healthy"; }
import sys, time, urllib.request
g, s = sys.argv[1:]
for url in (f"http://127.0.0.1:{g}/_gcp/health", f"http://127.0.0.1:{s}/storage/v1/b?project=drctl-dr"):
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=2).read()
            break
        except Exception:
            time.sleep(0.1)
    else:
        sys.exit(f"not healthy: {url}")
EOF

  if [ -n "$PG" ]; then
    "$HERE/postgres.sh" start "$STATE/pg" --ttl "$TTL" >"$STATE/postgres.log" 2>&1 \
      || { cmd_stop; die "postgres did not start"; }
  fi

  "$PY" - "$STATE" "$mport" "$pport" "$cport" "$gport" "$sport" > "$STATE/testbed.env.tmp" <<'EOF'
import json, sys
state, m, p, cli, g, s = sys.argv[1:]
sa = json.load(open(f"{state}/gcp-sa.json"))
c = json.load(open(f"{state}/creds.json"))
env = {
    "DRCTL_TESTBED_MOTO_URL": f"http://127.0.0.1:{m}",
    "DRCTL_TESTBED_PROXY_URL": f"http://127.0.0.1:{p}",
    "DRCTL_TESTBED_CLI_PROXY_URL": f"http://127.0.0.1:{cli}",
    "DRCTL_TESTBED_ACCESS_KEY_ID": c["access_key_id"],
    "DRCTL_TESTBED_SECRET_ACCESS_KEY": c["secret_access_key"],
    "DRCTL_TESTBED_ACCOUNT_ID": c["account_id"],
    "DRCTL_TESTBED_USER_ARN": c["user_arn"],
    "DRCTL_TESTBED_STATE_DIR": state,
    "DRCTL_TESTBED_GCP_URL": f"http://127.0.0.1:{g}",
    "DRCTL_TESTBED_GCP_KEY_FILE": f"{state}/gcp-sa.json",
    "DRCTL_TESTBED_GCP_ADC_FILE": f"{state}/gcp-adc.json",
    "DRCTL_TESTBED_GCP_EXTERNAL_ACCOUNT_FILE": f"{state}/gcp-external.json",
    "DRCTL_TESTBED_GCP_PROJECT": sa["project_id"],
    "DRCTL_TESTBED_GCP_SA_EMAIL": sa["client_email"],
    "DRCTL_TESTBED_GCS_URL": f"http://127.0.0.1:{s}",
}
for k, v in env.items():
    print(f"export {k}={v}")
EOF
  [ -n "$PG" ] && cat "$STATE/pg/pg.env" >> "$STATE/testbed.env.tmp"
  chmod 600 "$STATE/testbed.env.tmp"
  mv "$STATE/testbed.env.tmp" "$STATE/testbed.env"
  echo "test bed up: moto :$mport, proxy :$pport, gcp :$gport, gcs :$sport${PG:+, postgres}; source $STATE/testbed.env"
}

case $CMD in
  start) cmd_start;;
  stop) cmd_stop;;
  env) [ -f "$STATE/testbed.env" ] || { echo "testbed.sh: not running ($STATE/testbed.env missing)" >&2; exit 1; }
       cat "$STATE/testbed.env";;
  *) echo "usage: $0 start|stop|env [STATE_DIR] [--no-postgres] [--ttl SECONDS]" >&2; exit 2;;
esac
