#!/usr/bin/env bash
# The test suite needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379.
# Start the machine's own servers when they are installed but stopped; otherwise
# scripts/stores.py starts embedded ones.
set -uo pipefail

pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }

if ! pg_up && command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! redis_up && command -v redis-server >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
for _ in $(seq 1 20); do pg_up && redis_up && exit 0; sleep 0.5; done
pg_up || echo "No PostgreSQL on 127.0.0.1:5432: an embedded one will be started."
redis_up || echo "No Redis on 127.0.0.1:6379: an embedded one will be started."
exit 0
