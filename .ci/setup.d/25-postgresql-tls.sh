#!/usr/bin/env bash
# TLS for the PostgreSQL that 20-postgresql.sh starts, for the store's TLS tests: a test CA, a
# server certificate for localhost / 127.0.0.1 / ::1 signed by it, a second CA that signed
# nothing here (the "wrong CA"), and a client certificate for role `inkan_cert`, which may log in
# from 127.0.0.1 with that certificate alone (pg_hba `cert`). Everything is generated here with
# openssl, never committed, under $INKAN_PG_TLS_DIR (default /var/lib/inkan-test/pg-tls; the
# tests read the same variable). Idempotent: certificates are made again only when missing or
# expiring within 30 days; the server configuration is reloaded only when something changed.
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
dir="${INKAN_PG_TLS_DIR:-/var/lib/inkan-test/pg-tls}"
version="$(ls /etc/postgresql | sort -V | tail -n1)"
conf="/etc/postgresql/$version/main"
changed=0

if ! command -v openssl >/dev/null 2>&1; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
fi
as_root mkdir -p "$dir"
as_root chmod 0755 "$dir"

# A CA: $1 = file stem, $2 = subject.
make_ca() {
    as_root openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 3650 -subj "$2" \
        -keyout "$dir/$1.key" -out "$dir/$1.crt" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>/dev/null
    as_root chmod 0600 "$dir/$1.key"
    as_root chmod 0644 "$dir/$1.crt"
}

# A leaf certificate signed by the test CA: $1 = file stem, $2 = subject, $3 = extensions.
make_leaf() {
    local ext
    ext="$(mktemp)"
    printf '%s\n' "$3" >"$ext"
    as_root openssl req -newkey rsa:2048 -sha256 -nodes -subj "$2" \
        -keyout "$dir/$1.key" -out "$dir/$1.csr" 2>/dev/null
    as_root openssl x509 -req -sha256 -days 3650 -in "$dir/$1.csr" -CA "$dir/ca.crt" \
        -CAkey "$dir/ca.key" -CAcreateserial -extfile "$ext" -out "$dir/$1.crt" 2>/dev/null
    as_root rm -f "$dir/$1.csr" "$ext"
    as_root chmod 0644 "$dir/$1.crt"
}

valid() { [ -s "$dir/$1.crt" ] && openssl x509 -checkend 2592000 -noout -in "$dir/$1.crt" >/dev/null 2>&1; }

if ! valid ca || ! valid server || ! valid client || ! valid wrong-ca; then
    make_ca ca "/CN=inkan test CA"
    make_ca wrong-ca "/CN=inkan wrong test CA"
    make_leaf server "/CN=localhost" \
        "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature,keyEncipherment"
    make_leaf client "/CN=inkan_cert" \
        "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature,keyEncipherment"
    # PostgreSQL reads the server key as its own user and refuses it when others may read it.
    as_root chown postgres:postgres "$dir/server.key"
    as_root chmod 0600 "$dir/server.key"
    # The tests copy the client key to a private file before use (libpq's permission rule).
    as_root chmod 0644 "$dir/client.key"
    changed=1
fi

settings="# Written by inkan .ci/setup.d/25-postgresql-tls.sh: TLS with the generated test CA.
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
ssl_ca_file = '$dir/ca.crt'"
if [ "$(as_root cat "$conf/conf.d/60-inkan-tls.conf" 2>/dev/null)" != "$settings" ]; then
    printf '%s\n' "$settings" | as_root tee "$conf/conf.d/60-inkan-tls.conf" >/dev/null
    changed=1
fi

# Role inkan_cert logs in with its client certificate only; first matching line wins, so
# these go before Debian's password lines.
if ! as_root grep -q 'inkan_cert' "$conf/pg_hba.conf"; then
    hba="$(mktemp)"
    {
        echo "hostssl all inkan_cert 127.0.0.1/32 cert"
        echo "hostssl all inkan_cert ::1/128 cert"
        as_root cat "$conf/pg_hba.conf"
    } >"$hba"
    as_root cp "$hba" "$conf/pg_hba.conf"
    rm -f "$hba"
    changed=1
fi

psql_admin() { as_root runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'inkan_cert'")" != "1" ]; then
    psql_admin -c "CREATE ROLE inkan_cert LOGIN"
    psql_admin -c "GRANT CREATE ON DATABASE inkan_test TO inkan_cert"
fi

if [ "$changed" = 1 ] || [ "$(psql_admin -c 'SHOW ssl_cert_file')" != "$dir/server.crt" ]; then
    as_root pg_ctlcluster "$version" main reload
    for _ in $(seq 1 30); do
        if [ "$(psql_admin -c 'SHOW ssl_cert_file')" = "$dir/server.crt" ]; then break; fi
        sleep 1
    done
fi
