#!/bin/sh
# PostgreSQL as the official image starts it: a cluster in /var/lib/postgresql/data owned
# by `postgres`, created on first start with POSTGRES_USER/PASSWORD/DB, listening on 5432.
set -eu
data=/var/lib/postgresql/data
bin=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
mkdir -p "$data" /run/postgresql
chown -R postgres "$data" /run/postgresql
if [ ! -s "$data/PG_VERSION" ]; then
  printf '%s\n' "$POSTGRES_PASSWORD" > /tmp/pw
  chown postgres /tmp/pw
  runuser -u postgres -- "$bin/initdb" -D "$data" -U "$POSTGRES_USER" --pwfile=/tmp/pw \
    --encoding=UTF8 --locale=C.UTF-8 \
    --auth-host=scram-sha-256 --auth-local=trust >/dev/null
  rm -f /tmp/pw
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$data/pg_hba.conf"
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" -w -o "-c listen_addresses='' -c unix_socket_directories=/run/postgresql -p 5432" start >/dev/null
  runuser -u postgres -- "$bin/psql" -h /run/postgresql -p 5432 -q -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" -w stop >/dev/null
fi
exec runuser -u postgres -- "$bin/postgres" -D "$data" -p 5432 -c listen_addresses='*'
