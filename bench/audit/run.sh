#!/usr/bin/env bash
# Audit benchmark: N generated domains served by NSD (Debian's nsd, authoritative, on
# 127.0.0.1:$PORT), audited by inkan and by checkdmarc (a sample, it is ~50 domains/s).
#
# usage: bench/audit/run.sh [N=100000] [CHECKDMARC_SAMPLE=500]
# env: WORK (scratch directory), PORT, INKAN (a prebuilt binary to measure instead of building),
#      INKAN_ARGS (extra flags for `inkan audit`, e.g. "--concurrency 64"), SKIP_DISCOVERY=1
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

if [ -z "${INKAN:-}" ]; then
    echo "== building inkan (release)"
    (cd "$ROOT" && cargo build --release -p inkan -q)
    INKAN="$ROOT/target/release/inkan"
fi

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
    # NSD's transfer scratch directory (default /tmp, left behind when NSD is killed).
    xfrdir: "$WORK"
    pidfile: "$WORK/nsd.pid"
    logfile: "$WORK/nsd.log"
    hide-version: yes
    verbosity: 0
    # Response rate limiting off: NSD's default (200 identical answers/s per /24, every second
    # one dropped, the others sent back truncated) throttles a bulk audit from 127.0.0.1 into
    # timeouts and TCP retries, and measures NSD's RRL instead of the auditor.
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
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
# Every non-zero query counter (by type, UDP/TCP, truncated, RCODE), for a per-domain breakdown.
counters() { nsd-control -c "$WORK/nsd.conf" stats_noreset | grep -E '^num\.(type|udp|tcp|truncated|rcode)'; }
breakdown() {
    join -t= <(sort "$1") <(sort "$2") | awk -F= -v n="$3" \
        '{ d = $3 - $2; if (d > 0) printf "    %-20s %9d  %6.2f/domain\n", $1, d, d / n }'
}


run_inkan() {
    local label=$1; shift
    local before after
    before=$(queries)
    counters > "$WORK/counters.before"
    /usr/bin/time -f "%e %M %U %S" -o "$WORK/time.txt" "$INKAN" audit --nameserver "127.0.0.1:$PORT" --timeout 2 \
        --format jsonl ${INKAN_ARGS:-} "$@" > "$WORK/out.jsonl" 2> "$WORK/stderr.txt" || true
    after=$(queries)
    counters > "$WORK/counters.after"
    read -r secs kb user sys < <(tail -1 "$WORK/time.txt")
    local lines; lines=$(wc -l < "$WORK/out.jsonl")
    awk -v l="$label" -v n="$lines" -v s="$secs" -v kb="$kb" -v q=$((after - before)) -v u="$user" -v y="$sys" \
        'BEGIN { printf "inkan %s: %d domains in %.1fs = %.0f domains/s, %.2f queries/domain, peak RSS %.0f MB, CPU %.1fs (user %.1f + sys %.1f)\n", l, n, s, n / s, q / n, kb / 1024, u + y, u, y }'
    echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    breakdown "$WORK/counters.before" "$WORK/counters.after" "$lines"
    tail -1 "$WORK/stderr.txt"
}

echo "== inkan, selectors from the CSV column"
run_inkan "csv selectors" --domains "$WORK/domains.csv" --sending-ip 198.51.3.10
if [ -z "${SKIP_DISCOVERY:-}" ]; then
    echo "== inkan, DKIM selector discovery"
    run_inkan "discovery" --domains "$WORK/domains.txt" --sending-ip 198.51.3.10
fi

echo "== checkdmarc $SAMPLE domains"
before=$(queries)
"$WORK/venv/bin/python" "$HERE/checkdmarc_run.py" 127.0.0.1 "$PORT" "$WORK/domains.txt" "$SAMPLE"
after=$(queries)
awk -v q=$((after - before)) -v n="$SAMPLE" 'BEGIN { printf "checkdmarc: %.1f queries/domain\n", q / n }'
