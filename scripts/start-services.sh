#!/usr/bin/env bash
# Start the local PostgreSQL (127.0.0.1:5432, trust, database `test`) and Redis (127.0.0.1:6379)
# that the tests use, when they are installed but down, and create the `test` database when it is
# missing. Debian's packages, as on CI. Safe to run again: what is there already is left alone.
set -uo pipefail

start_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 1; done
  echo "PostgreSQL did not start: the tests that claim PostgreSQL support will fail" >&2
  return 1
}

# As the postgres role: by peer auth on the local socket when run as root (Debian's default
# pg_hba), else over TCP as the tests connect.
as_postgres() {
  local tool=$1; shift
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    (cd / && runuser -u postgres -- "$tool" "$@")  # from a folder the postgres user may read
  else
    "$tool" -h 127.0.0.1 -p 5432 -U postgres "$@"
  fi
}

# The tests' database, created when missing (each test then makes and drops its own schema).
create_test_database() {
  local found
  found=$(as_postgres psql -d postgres -XAtqc "SELECT 1 FROM pg_database WHERE datname = 'test'")
  if [ "$found" != 1 ]; then
    echo "creating the PostgreSQL database test"
    as_postgres createdb test || true
  fi
  if ! psql -h 127.0.0.1 -p 5432 -U postgres -d test -XAtqc "SELECT 1" >/dev/null 2>&1; then
    echo "the tests cannot connect to postgres@127.0.0.1:5432/test without a password:" \
      "they need trust auth for 127.0.0.1 in pg_hba.conf" >&2
  fi
}

start_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return; fi
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return; sleep 1; done
  echo "Redis did not start: the tests of shared rate-limit counters will fail" >&2
}

if command -v pg_isready >/dev/null; then
  start_postgres && create_test_database
else
  echo "PostgreSQL is not installed" >&2
fi
if command -v redis-server >/dev/null; then start_redis; else echo "Redis is not installed" >&2; fi
exit 0
