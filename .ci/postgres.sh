#!/usr/bin/env bash
# Start (or stop) a throw-away PostgreSQL server on loopback for the test suite.
# PostgreSQL refuses to run as root, so the server runs as an unprivileged user.
#   source .ci/postgres.sh start   -> exports CNOTRACK_TEST_POSTGRES_URL
#   .ci/postgres.sh stop
set -euo pipefail
PG_PORT="${PG_PORT:-54329}"
PG_USER_OS="${PG_USER_OS:-cnotrack-pg}"
PG_ROOT="${PG_ROOT:-/tmp/cnotrack-ci-postgres}"

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$d" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$d"
}

as_pg() {
  if [ "$(id -u)" = "0" ]; then su -s /bin/bash "$PG_USER_OS" -c "$*"; else bash -c "$*"; fi
}

start() {
  local bin; bin=$(pg_bin)
  if [ "$(id -u)" = "0" ] && ! id "$PG_USER_OS" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_OS"
  fi
  rm -rf "$PG_ROOT"; mkdir -p "$PG_ROOT"
  [ "$(id -u)" = "0" ] && chown "$PG_USER_OS" "$PG_ROOT"
  as_pg "$bin/initdb -D $PG_ROOT/data -U postgres -A trust --no-sync -E UTF8 >/dev/null"
  as_pg "$bin/pg_ctl -D $PG_ROOT/data -l $PG_ROOT/log -w -o \"-h 127.0.0.1 -p $PG_PORT -k $PG_ROOT -c fsync=off\" start >/dev/null"
  as_pg "$bin/createdb -h 127.0.0.1 -p $PG_PORT -U postgres cnotrack_test"
  export CNOTRACK_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PG_PORT/cnotrack_test"
  echo "PostgreSQL on 127.0.0.1:$PG_PORT ($CNOTRACK_TEST_POSTGRES_URL)"
}

stop() {
  local bin; bin=$(pg_bin)
  [ -d "$PG_ROOT/data" ] && as_pg "$bin/pg_ctl -D $PG_ROOT/data -m fast -w stop >/dev/null" || true
  rm -rf "$PG_ROOT"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: postgres.sh start|stop" >&2; exit 2 ;;
esac
