#!/usr/bin/env bash
# PostgreSQL for the inkan-reports store tests: the Debian package, the cluster started on
# 127.0.0.1:5432, role `inkan` (password `inkan`) owning database `inkan_test`. Idempotent.
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version="$(ls /etc/postgresql | sort -V | tail -n1)"
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online" { found = 1 } END { exit !found }'; then
    as_root pg_ctlcluster "$version" main start
fi
for _ in $(seq 1 30); do
    if as_root runuser -u postgres -- pg_isready -q -h 127.0.0.1 -p 5432; then break; fi
    sleep 1
done
psql_admin() { as_root runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'inkan'")" != "1" ]; then
    psql_admin -c "CREATE ROLE inkan LOGIN PASSWORD 'inkan'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'inkan_test'")" != "1" ]; then
    psql_admin -c "CREATE DATABASE inkan_test OWNER inkan"
fi
