#!/usr/bin/env bash
# What the PostgreSQL probe tests (tests/integration/postgres.rs) need on the machine: the PostgreSQL 15
# server binaries (initdb, pg_ctl, pg_basebackup, psql) and, when run as root, the
# `postgres` user to run the servers as (PostgreSQL refuses to run as root); `openssl` for
# the TLS tests' certificates.
# The tests start and stop their own primary + standby on free loopback ports: no service
# is started here. Idempotent: does nothing when everything is there.
set -euo pipefail

PG_BIN=${WARROOM_PG_BIN:-/usr/lib/postgresql/15/bin}

have() {
    for tool in initdb pg_ctl pg_basebackup psql postgres; do
        [ -x "$PG_BIN/$tool" ] || return 1
    done
    [ "$(id -u)" != 0 ] || id postgres >/dev/null 2>&1
}

if ! have; then
    if [ "$(id -u)" != 0 ]; then
        echo "PostgreSQL 15 is missing in $PG_BIN and installing it needs root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The package would create and start a default cluster (15/main on port 5432) that the
    # tests do not use: tell postgresql-common not to.
    apt-get install -y -qq --no-install-recommends postgresql-common >/dev/null
    sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' \
        /etc/postgresql-common/createcluster.conf
    apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
fi

have || { echo "PostgreSQL 15 still missing in $PG_BIN" >&2; exit 1; }

# The TLS tests make their CA and server certificate with the openssl command.
if ! command -v openssl >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "openssl is missing and installing it needs root" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null
fi
echo "PostgreSQL: $("$PG_BIN/postgres" --version) in $PG_BIN"
