#!/usr/bin/env bash
# Start the local PostgreSQL (127.0.0.1:5432, trust, database `test`) and Redis (127.0.0.1:6379)
# that the tests use, when they are installed but down. Debian's packages, as on CI.
set -uo pipefail

start_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 1; done
  echo "PostgreSQL did not start: the tests that claim PostgreSQL support will fail" >&2
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

if command -v pg_isready >/dev/null; then start_postgres; else echo "PostgreSQL is not installed" >&2; fi
if command -v redis-server >/dev/null; then start_redis; else echo "Redis is not installed" >&2; fi
exit 0
