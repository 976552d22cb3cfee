#!/usr/bin/env bash
# A private PostgreSQL 15 + PostGIS cluster for this checkout, under var/pg (data/, run/, port,
# postgres.log), listening on 127.0.0.1 only, on a free port chosen at first start. Trust auth:
# anyone on this machine can connect as postgres, so it is for development and tests only.
# As root it runs the server as the `postgres` OS user, since initdb refuses to run as root.
#
# Usage: scripts/pgcluster.sh start | stop | status | url [DBNAME] | createdb NAME | dropdb NAME
#                             | psql [PSQL ARGS…]
set -euo pipefail
umask 022

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
PG_DIR=$ROOT/var/pg
DATA=$PG_DIR/data
RUN_DIR=$PG_DIR/run
LOG=$PG_DIR/postgres.log
PORT_FILE=$PG_DIR/port
PGBIN=${SAFEGROUND_PGBIN:-/usr/lib/postgresql/15/bin}
APP_DB=safeground
FIRST_PORT=54320

# Messages go to stderr so that `url` (used as "$(scripts/pgcluster.sh url)") prints only the URL.
say() { printf 'pgcluster: %s\n' "$*" >&2; }
die() { printf 'pgcluster: error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# The OS user the server runs as: as root, the owner of an existing data dir or else `postgres`.
owner() {
  if ! is_root; then
    id -un
  elif [ -d "$DATA" ] && [ "$(stat -c %u "$DATA")" != 0 ]; then
    stat -c %U "$DATA"
  else
    echo postgres
  fi
}

# Run a command as the server's OS user, from / (which that user can always enter), with every
# file descriptor above 2 closed: the server that pg_ctl leaves running must not hold our lock
# (fd 9) or a pipe some caller is waiting on.
as_owner() {
  (
    cd /
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
    done
    if ! is_root; then
      exec "$@"
    elif command -v runuser >/dev/null 2>&1; then
      exec runuser -u "$OWNER" -- "$@"
    else
      exec su "$OWNER" -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
  )
}

need_binaries() {
  local b
  for b in postgres initdb pg_ctl pg_isready psql; do
    [ -x "$PGBIN/$b" ] || die "$PGBIN/$b not found: PostgreSQL 15 is not installed
  (scripts/bootstrap.sh installs it: apt-get install postgresql-15 postgresql-15-postgis-3)"
  done
}

initialized() { [ -f "$DATA/PG_VERSION" ]; }
running() { initialized && as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }
port() { [ -s "$PORT_FILE" ] && cat "$PORT_FILE"; }
url() { printf 'postgresql+psycopg://postgres@127.0.0.1:%s/%s\n' "$1" "${2:-$APP_DB}"; }

# Can the server listen on this port? (SO_REUSEADDR as PostgreSQL itself does, so connections
# left in TIME_WAIT by our own previous run do not count as "taken".)
port_free() {
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
  else
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 1; fi # something answers there
  fi
}

pick_port() {
  local p
  for ((p = FIRST_PORT; p < FIRST_PORT + 200; p++)); do
    if port_free "$p"; then echo "$p"; return 0; fi
  done
  die "no free TCP port in $FIRST_PORT-$((FIRST_PORT + 199))"
}

# As root: the server's user must be able to reach var/pg. A project in a `mktemp -d` directory
# (0700, root's) or under /root is not reachable; open just the search (x) bit of those directories.
make_reachable() {
  local path="" part
  local -a parts
  IFS=/ read -ra parts <<<"${PG_DIR#/}"
  for part in "${parts[@]}"; do
    path=$path/$part
    if ! as_owner test -x "$path"; then
      chmod o+x "$path"
      say "chmod o+x $path (so the '$OWNER' user can reach $PG_DIR)"
    fi
  done
}

prepare_dirs() {
  mkdir -p "$PG_DIR" "$RUN_DIR"
  if is_root; then
    id -u "$OWNER" >/dev/null 2>&1 ||
      die "no '$OWNER' OS user (the postgresql-common package creates it): install postgresql-15"
    chown "$OWNER:" "$PG_DIR" "$RUN_DIR"
    make_reachable
  fi
}

# Take the lock for start/stop, so two `make test` runs at once do not both run initdb.
lock() {
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$PG_DIR/.lock"
    flock -w 300 9 || die "timed out waiting for another pgcluster.sh (lock $PG_DIR/.lock)"
  fi
}

# Settings, rewritten before every start (port and socket path may change), included from
# postgresql.conf. Sized for a development box: an eighth of memory, at most 1 GB, for shared buffers.
write_settings() {
  local port=$1 mem_mb limit sockets shm_kb dsm conf=$DATA/safeground.conf
  mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
  # In a container the cgroup limit, not the host's memory, is what we have.
  if [ -r /sys/fs/cgroup/memory.max ] && limit=$(cat /sys/fs/cgroup/memory.max) && [ "$limit" != max ]; then
    limit=$((limit / 1048576))
    [ "$limit" -lt "$mem_mb" ] && mem_mb=$limit
  fi
  local shared=$((mem_mb / 8)) maint=$((mem_mb / 16)) cache=$((mem_mb / 2))
  [ "$shared" -gt 1024 ] && shared=1024
  [ "$shared" -lt 128 ] && shared=128
  [ "$maint" -gt 512 ] && maint=512
  [ "$maint" -lt 64 ] && maint=64

  # Unix socket paths are limited to ~107 bytes; deep project paths use TCP only.
  sockets=$RUN_DIR
  if [ $((${#RUN_DIR} + ${#port} + 12)) -gt 100 ]; then sockets=""; fi
  # Parallel queries need dynamic shared memory; a small /dev/shm (Docker's 64 MB) makes them fail.
  dsm=posix
  shm_kb=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $2}')
  if [ -z "$shm_kb" ] || [ "$shm_kb" -lt 1048576 ]; then dsm=mmap; fi

  cat >"$conf" <<EOF
# Written by scripts/pgcluster.sh on every start: change the script, not this file.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockets'
max_connections = 200
shared_buffers = ${shared}MB
effective_cache_size = ${cache}MB
work_mem = 64MB
maintenance_work_mem = ${maint}MB
dynamic_shared_memory_type = $dsm
max_wal_size = 2GB
random_page_cost = 1.1
effective_io_concurrency = 200
# PostGIS functions declare high costs, which makes the planner JIT-compile ordinary queries for
# no gain; off keeps test and demo timings predictable.
jit = off
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 2000
EOF
  if is_root; then chown "$OWNER:" "$conf"; fi
}

psql_on() { # psql_on DB ARGS…: as the postgres superuser over TCP, stop at the first error
  local db=$1
  shift
  PGCONNECT_TIMEOUT=10 "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(port)" -U postgres \
    -d "$db" "$@"
}

check_name() {
  [[ ${1:-} =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]] ||
    die "database name '${1:-}' must be letters, digits and underscores (max 63)"
}

db_exists() { [ "$(psql_on postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]; }

ensure_db() { # ensure_db NAME: create it if missing, with PostGIS
  local name=$1
  if db_exists "$name"; then
    [ "$name" = "$APP_DB" ] || say "database $name already exists"
  else
    psql_on postgres -c "CREATE DATABASE \"$name\""
    say "created database $name"
  fi
  psql_on "$name" -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS postgis" ||
    die "could not create the postgis extension in $name: is postgresql-15-postgis-3 installed?"
}

require_running() {
  running || die "the cluster is not running: scripts/pgcluster.sh start"
}

cmd_start() {
  need_binaries
  prepare_dirs
  lock
  local port
  if ! initialized; then
    port=$(pick_port)
    local locale=C
    if locale -a 2>/dev/null | grep -qixE 'c\.utf-?8'; then locale=C.UTF-8; fi
    say "creating a PostgreSQL 15 cluster in $DATA (port $port)…"
    if ! as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale="$locale" \
      >"$PG_DIR/initdb.log" 2>&1; then
      cat "$PG_DIR/initdb.log" >&2
      die "initdb failed (log: $PG_DIR/initdb.log)"
    fi
    printf "\ninclude = 'safeground.conf'\n" | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
    echo "$port" >"$PORT_FILE"
  fi

  if running; then
    say "already running on 127.0.0.1:$(port)"
  else
    port=$(port || true)
    if [ -z "$port" ] || ! port_free "$port"; then
      [ -n "$port" ] && say "port $port is taken by another program; choosing another"
      port=$(pick_port)
      echo "$port" >"$PORT_FILE"
    fi
    write_settings "$port"
    say "starting PostgreSQL on 127.0.0.1:$port (log: $LOG)…"
    local log_size=0
    [ -f "$LOG" ] && log_size=$(stat -c %s "$LOG")
    if ! as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 120 -s start; then
      tail -c +$((log_size + 1)) "$LOG" | tail -n 30 >&2 || true
      die "PostgreSQL did not start (log: $LOG)"
    fi
    local i
    for ((i = 0; i < 60; i++)); do
      "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break
      sleep 0.5
    done
    "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" || die "PostgreSQL is not accepting connections (log: $LOG)"
  fi
  ensure_db "$APP_DB"
  say "ready: $(url "$(port)")"
}

cmd_stop() {
  need_binaries
  if ! running; then
    say "not running"
    return 0
  fi
  lock
  as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 120 -s stop
  say "stopped"
}

cmd_status() {
  need_binaries
  if ! initialized; then
    echo "not created yet (scripts/pgcluster.sh start creates it in $DATA)"
    return 3
  elif running; then
    echo "running: $(url "$(port)")"
  else
    echo "stopped: $(url "$(port)")"
    return 3
  fi
}

OWNER=$(owner)
cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url)
    p=$(port) || die "no cluster yet: run scripts/pgcluster.sh start"
    [ $# -gt 0 ] && check_name "$1"
    url "$p" "${1:-}"
    ;;
  createdb)
    check_name "${1:-}"
    need_binaries
    require_running
    ensure_db "$1"
    ;;
  dropdb)
    check_name "${1:-}"
    case $1 in postgres | template0 | template1) die "refusing to drop $1" ;; esac
    need_binaries
    require_running
    if db_exists "$1"; then
      psql_on postgres -c "DROP DATABASE \"$1\" WITH (FORCE)"
      say "dropped database $1"
    else
      say "no database $1"
    fi
    ;;
  psql)
    need_binaries
    require_running
    exec "$PGBIN/psql" -h 127.0.0.1 -p "$(port)" -U postgres -d "$APP_DB" "$@"
    ;;
  *)
    sed -n '7,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
    ;;
esac
