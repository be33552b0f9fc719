#!/usr/bin/env bash
# Audit benchmark: N generated domains served by NSD (Debian's nsd, authoritative, on
# 127.0.0.1:$PORT), audited by inkan and by checkdmarc (a sample, it is ~50 domains/s).
#
# usage: bench/audit/run.sh [N=100000] [CHECKDMARC_SAMPLE=500]
# needs: nsd (apt-get install nsd), python3 with venv; builds inkan with --release.
set -euo pipefail
N=${1:-100000}
SAMPLE=${2:-500}
PORT=${PORT:-53535}
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/inkan-bench-audit}"
mkdir -p "$WORK"

if ! command -v nsd >/dev/null; then
    apt-get install -y -q nsd >/dev/null
fi
systemctl stop nsd 2>/dev/null || true
if [ ! -x "$WORK/venv/bin/python" ]; then
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install -q checkdmarc==6.0.4
fi

echo "== building inkan (release)"
(cd "$ROOT" && cargo build --release -p inkan -q)
INKAN="$ROOT/target/release/inkan"

echo "== generating $N domains"
python3 "$HERE/gen.py" "$N" "$WORK"

cat > "$WORK/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1@$PORT
    port: $PORT
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$WORK"
    database: ""
    zonelistfile: "$WORK/zone.list"
    xfrdfile: "$WORK/xfrd.state"
    pidfile: "$WORK/nsd.pid"
    logfile: "$WORK/nsd.log"
    hide-version: yes
    verbosity: 0
remote-control:
    control-enable: yes
    control-interface: $WORK/nsd.sock
zone:
    name: test
    zonefile: test.zone
zone:
    name: in-addr.arpa
    zonefile: in-addr.arpa.zone
CONF
nsd -c "$WORK/nsd.conf" -P "$WORK/nsd.pid"
trap 'kill "$(cat "$WORK/nsd.pid")" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    "$INKAN" dns --nameserver "127.0.0.1:$PORT" --timeout 1 d000000.bench.test MX >/dev/null 2>&1 && break
    sleep 1
done
queries() { nsd-control -c "$WORK/nsd.conf" stats_noreset | awk -F= '/^num.queries=/{print $2}'; }


run_inkan() {
    local label=$1; shift
    local before after
    before=$(queries)
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$INKAN" audit --nameserver "127.0.0.1:$PORT" --timeout 2 \
        --format jsonl "$@" > "$WORK/out.jsonl" 2> "$WORK/stderr.txt" || true
    after=$(queries)
    read -r secs kb < <(tail -1 "$WORK/time.txt")
    local lines; lines=$(wc -l < "$WORK/out.jsonl")
    awk -v l="$label" -v n="$lines" -v s="$secs" -v kb="$kb" -v q=$((after - before)) \
        'BEGIN { printf "inkan %s: %d domains in %.1fs = %.0f domains/s, %.1f queries/domain, peak RSS %.0f MB\n", l, n, s, n / s, q / n, kb / 1024 }'
    tail -1 "$WORK/stderr.txt"
}

echo "== inkan, selectors from the CSV column"
run_inkan "csv selectors" --domains "$WORK/domains.csv" --sending-ip 198.51.3.10
echo "== inkan, DKIM selector discovery"
run_inkan "discovery" --domains "$WORK/domains.txt" --sending-ip 198.51.3.10

echo "== checkdmarc $SAMPLE domains"
before=$(queries)
"$WORK/venv/bin/python" "$HERE/checkdmarc_run.py" 127.0.0.1 "$PORT" "$WORK/domains.txt" "$SAMPLE"
after=$(queries)
awk -v q=$((after - before)) -v n="$SAMPLE" 'BEGIN { printf "checkdmarc: %.1f queries/domain\n", q / n }'
