#!/usr/bin/env bash
# PostgreSQL 15 primary + streaming hot standby for the drctl test bed.
#   postgres.sh start DIR [--ttl SECONDS]   # default TTL 3600: a watchdog stops both servers then
#   postgres.sh stop DIR                    # stops both servers + watchdog by PID; deletes nothing
#   postgres.sh status DIR
#   postgres.sh clone SRC DIR [--ttl SECONDS]  # a copy of SRC's stopped pair on new ports, in ~1 s
# Loopback only, scram password auth for role `drctl`, physical replication slot, pg_basebackup -R.
# As root every server command runs through `runuser -u postgres --` (initdb/postgres refuse root);
# as another user the binaries run directly. Writes DIR/pg.env (shell `export` lines).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
SLOT=drctl_standby

die() { echo "postgres.sh: $*" >&2; exit 1; }
usage() { die "usage: $0 start|stop|status DIR [--ttl SECONDS] | clone SRC DIR [--ttl SECONDS]"; }

[ $# -ge 2 ] || usage
CMD=$1; DIR=$2; shift 2
SRC=
if [ "$CMD" = clone ]; then [ $# -ge 1 ] || usage; SRC=$DIR; DIR=$1; shift; fi
TTL=3600
while [ $# -gt 0 ]; do
  case $1 in --ttl) TTL=$2; shift 2;; *) usage;; esac
done

if [ "$(id -u)" = 0 ]; then RUN=(runuser -u postgres --); OWNER=postgres; else RUN=(); OWNER=$(id -un); fi
pg() { "${RUN[@]}" "$PG_BIN/$1" "${@:2}"; }

free_ports() {  # two distinct free loopback ports (both held open while choosing)
  python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])'
}

pid_of() { [ -f "$1/postmaster.pid" ] && head -n1 "$1/postmaster.pid" || true; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

stop_server() {  # fast shutdown (SIGINT) by postmaster.pid, bounded wait, then SIGQUIT
  local d=$1 pid; pid=$(pid_of "$d")
  alive "$pid" || return 0
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do alive "$pid" || return 0; sleep 0.1; done
  kill -QUIT "$pid" 2>/dev/null || true
}

cmd_stop() {
  [ -d "$DIR" ] || return 0
  stop_server "$DIR/standby"
  stop_server "$DIR/primary"
  if [ -f "$DIR/watchdog.pid" ]; then
    local w; w=$(cat "$DIR/watchdog.pid")
    # Only our watchdog: it runs in its own session (pgid == pid) with a recognisable cmdline.
    if alive "$w" && tr '\0' ' ' < "/proc/$w/cmdline" 2>/dev/null | grep -q drctl-pg-watchdog; then
      # KILL, not TERM: started from a test runner, it inherits a mask that blocks SIGTERM (it only sleeps).
      kill -KILL -- "-$w" 2>/dev/null || kill -KILL "$w" 2>/dev/null || true
    fi
    rm -f "$DIR/watchdog.pid"
  fi
}

cmd_status() {
  local rc=0
  for n in primary standby; do
    if alive "$(pid_of "$DIR/$n")"; then echo "$n: running (pid $(pid_of "$DIR/$n"))"; else echo "$n: stopped"; rc=3; fi
  done
  [ -f "$DIR/pg.env" ] && cat "$DIR/pg.env"
  return $rc
}

cmd_start() {
  [ -x "$PG_BIN/initdb" ] || die "no PostgreSQL binaries in $PG_BIN (set PG_BIN)"
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  [ -e "$DIR/primary" ] && die "$DIR/primary exists: stop and remove it first (or use a fresh DIR)"
  [ "${#DIR}" -lt 80 ] || die "DIR path too long for a unix socket path: $DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
  chmod 700 "$DIR"
  local sock="$DIR/sock"
  "${RUN[@]}" mkdir -m 700 "$sock"

  local p1 p2 pass rpass
  read -r p1 p2 < <(free_ports)
  pass=$(python3 -c 'import secrets;print(secrets.token_hex(16))')
  rpass=$(python3 -c 'import secrets;print(secrets.token_hex(16))')

  # Superuser `postgres` only over the private unix socket (trust; dir is 0700); TCP needs scram.
  pg initdb -D "$DIR/primary" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 -N \
    --locale=C >"$DIR/initdb.log" 2>&1 || { tail -20 "$DIR/initdb.log" >&2; die "initdb failed"; }
  "${RUN[@]}" tee -a "$DIR/primary/postgresql.conf" >/dev/null <<EOF
# drctl test bed
listen_addresses = '127.0.0.1'
port = $p1
unix_socket_directories = '$sock'
password_encryption = 'scram-sha-256'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
hot_standby_feedback = on
fsync = off
EOF
  "${RUN[@]}" tee "$DIR/primary/pg_hba.conf" >/dev/null <<EOF
local all         all                  trust
host  all         all   127.0.0.1/32   scram-sha-256
host  replication all   127.0.0.1/32   scram-sha-256
EOF
  pg pg_ctl -D "$DIR/primary" -l "$DIR/primary.log" -w -t 60 start >/dev/null \
    || { tail -20 "$DIR/primary.log" >&2; die "primary failed to start"; }

  pg psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$p1" -U postgres -d postgres >/dev/null <<EOF
CREATE ROLE drctl LOGIN PASSWORD '$pass';
CREATE ROLE drctl_replicator LOGIN REPLICATION PASSWORD '$rpass';
CREATE DATABASE drctl OWNER drctl;
GRANT pg_monitor TO drctl;
SELECT pg_create_physical_replication_slot('$SLOT');
\\connect drctl
-- function privileges are per database: grant where drctl connects. drctl promotes / pauses replay itself without being superuser
GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO drctl;
GRANT EXECUTE ON FUNCTION pg_wal_replay_pause() TO drctl;
GRANT EXECUTE ON FUNCTION pg_wal_replay_resume() TO drctl;
-- fencing (postgres.fence): read-only via ALTER SYSTEM + reload, and terminating other sessions
GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only TO drctl;
GRANT EXECUTE ON FUNCTION pg_reload_conf() TO drctl;
GRANT pg_signal_backend TO drctl;
EOF

  PGPASSWORD=$rpass pg pg_basebackup -h 127.0.0.1 -p "$p1" -U drctl_replicator -D "$DIR/standby" \
    -R -S "$SLOT" -X stream -c fast >"$DIR/basebackup.log" 2>&1 \
    || { tail -20 "$DIR/basebackup.log" >&2; die "pg_basebackup failed"; }
  echo "port = $p2" | "${RUN[@]}" tee -a "$DIR/standby/postgresql.conf" >/dev/null
  pg pg_ctl -D "$DIR/standby" -l "$DIR/standby.log" -w -t 60 start >/dev/null \
    || { tail -20 "$DIR/standby.log" >&2; die "standby failed to start"; }

  wait_streaming "$p1"
  start_watchdog
  write_env "$p1" "$p2" "$pass"
}

wait_streaming() {  # bounded wait until the standby streams from the primary on port $1
  local ok=
  for _ in $(seq 1 200); do
    if [ "$(pg psql -X -At -h "$DIR/sock" -p "$1" -U postgres -d postgres \
          -c "select count(*) from pg_stat_replication where state='streaming'")" = 1 ]; then ok=1; break; fi
    sleep 0.1
  done
  [ -n "$ok" ] || { tail -20 "$DIR/standby.log" >&2; die "standby is not streaming"; }
}

start_watchdog() {  # own session so stop can kill it (and its sleep) by PID; stops both servers after TTL
  setsid bash -c 'exec -a drctl-pg-watchdog bash -c "sleep $1; \"$2\" stop \"$3\"" drctl-pg-watchdog "$@"' \
    _ "$TTL" "$(cd "$(dirname "$0")" && pwd)/postgres.sh" "$DIR" </dev/null >/dev/null 2>&1 &
  echo $! > "$DIR/watchdog.pid"
}

write_env() {  # write_env PRIMARY_PORT STANDBY_PORT PASSWORD
  local url="postgres://drctl:$3@127.0.0.1"
  cat > "$DIR/pg.env" <<EOF
export DRCTL_TESTBED_PG_PRIMARY_URL=$url:$1/drctl
export DRCTL_TESTBED_PG_STANDBY_URL=$url:$2/drctl
export DRCTL_TESTBED_PG_HOST=127.0.0.1
export DRCTL_TESTBED_PG_PRIMARY_PORT=$1
export DRCTL_TESTBED_PG_STANDBY_PORT=$2
export DRCTL_TESTBED_PG_USER=drctl
export DRCTL_TESTBED_PG_PASSWORD=$3
export DRCTL_TESTBED_PG_DATABASE=drctl
export DRCTL_TESTBED_PG_SLOT=$SLOT
export DRCTL_TESTBED_PG_DIR=$DIR
EOF
  chmod 600 "$DIR/pg.env"
  echo "postgres: primary 127.0.0.1:$1, standby 127.0.0.1:$2 (env in $DIR/pg.env, ttl ${TTL}s)"
}

# A pair for tests that change it for good (promotion): SRC's pair, stopped, copied with its
# replication slot, roles and passwords, then started on new ports with its own socket. Much
# cheaper than initdb + pg_basebackup; the copy starts on SRC's timeline.
cmd_clone() {
  [ -f "$SRC/pg.env" ] || die "$SRC has no pair (postgres.sh start it first)"
  alive "$(pid_of "$SRC/primary")" && die "$SRC's primary is running: stop the pair before cloning it"
  alive "$(pid_of "$SRC/standby")" && die "$SRC's standby is running: stop the pair before cloning it"
  SRC=$(cd "$SRC" && pwd)
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  [ -e "$DIR/primary" ] && die "$DIR/primary exists: stop and remove it first (or use a fresh DIR)"
  [ "${#DIR}" -lt 80 ] || die "DIR path too long for a unix socket path: $DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
  chmod 700 "$DIR"
  "${RUN[@]}" mkdir -m 700 "$DIR/sock"
  "${RUN[@]}" cp -a "$SRC/primary" "$SRC/standby" "$DIR/"
  "${RUN[@]}" rm -f "$DIR/primary/postmaster.pid" "$DIR/standby/postmaster.pid"
  local p1 p2 pass
  read -r p1 p2 < <(free_ports)
  pass=$(sed -n 's/^export DRCTL_TESTBED_PG_PASSWORD=//p' "$SRC/pg.env")
  # The last setting in a file wins; postgresql.auto.conf (primary_conninfo) wins over postgresql.conf.
  printf "port = %s\nunix_socket_directories = '%s'\n" "$p1" "$DIR/sock" | "${RUN[@]}" tee -a "$DIR/primary/postgresql.conf" >/dev/null
  printf "port = %s\nunix_socket_directories = '%s'\n" "$p2" "$DIR/sock" | "${RUN[@]}" tee -a "$DIR/standby/postgresql.conf" >/dev/null
  "${RUN[@]}" sed -i "s/port=[0-9]*/port=$p1/" "$DIR/standby/postgresql.auto.conf"
  pg pg_ctl -D "$DIR/primary" -l "$DIR/primary.log" -w -t 60 start >/dev/null \
    || { tail -20 "$DIR/primary.log" >&2; die "primary failed to start"; }
  pg pg_ctl -D "$DIR/standby" -l "$DIR/standby.log" -w -t 60 start >/dev/null \
    || { tail -20 "$DIR/standby.log" >&2; die "standby failed to start"; }
  wait_streaming "$p1"
  start_watchdog
  write_env "$p1" "$p2" "$pass"
}

case $CMD in
  start) cmd_start;;
  stop) cmd_stop;;
  status) cmd_status;;
  clone) cmd_clone;;
  *) usage;;
esac
