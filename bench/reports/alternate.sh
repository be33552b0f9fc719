#!/bin/bash
# Alternated runs of `inkan reports ingest INPUT` into a fresh SQLite file for several
# binaries, one round (each binary once) at a time, a round started only when the machine
# was at least IDLE % idle (default 80: no other process on a whole core) over the half
# second before; then the median and range of wall and CPU (user + sys) time per binary.
#
#   bench/reports/alternate.sh 15 /tmp/rb/small /tmp/inkan-before target/release/inkan
set -euo pipefail
rounds=$1
input=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
idle() {
    local a b
    read -r -a a < /proc/stat
    sleep 0.5
    read -r -a b < /proc/stat
    local total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    echo $((100 * (b[4] + b[5] - a[4] - a[5]) / total))
}
done_rounds=0
tries=0
while [ "$done_rounds" -lt "$rounds" ] && [ "$tries" -lt $((rounds * 20)) ]; do
    tries=$((tries + 1))
    if [ "$(idle)" -lt "${IDLE:-80}" ]; then
        sleep 1
        continue
    fi
    for bin in "$@"; do
        rm -f "$work"/x.db*
        /usr/bin/time -a -o "$work/times" -f "$bin %e %U %S %M" "$bin" --format json \
            reports ingest --db "sqlite:$work/x.db" "$input" >/dev/null
    done
    done_rounds=$((done_rounds + 1))
done
echo "$done_rounds rounds in $tries tries; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
for bin in "$@"; do
    awk -v bin="$bin" '$1 == bin { print $2, $3 + $4, $5 }' "$work/times" | sort -n | awk -v bin="$bin" '
        { wall[NR] = $1; cpu[NR] = $2; rss = $3 > rss ? $3 : rss }
        END {
            n = NR
            # CPU times sorted separately (insertion sort: n is small).
            for (i = 2; i <= n; i++) { v = cpu[i]; j = i - 1; while (j > 0 && cpu[j] > v) { cpu[j + 1] = cpu[j]; j-- } cpu[j + 1] = v }
            mid = int((n + 1) / 2)
            wm = n % 2 ? wall[mid] : (wall[n / 2] + wall[n / 2 + 1]) / 2
            cm = n % 2 ? cpu[mid] : (cpu[n / 2] + cpu[n / 2 + 1]) / 2
            printf "%s: %d runs, wall median %.3f s (%.2f-%.2f), CPU median %.3f s (%.2f-%.2f), peak RSS up to %d MB\n", bin, n, wm, wall[1], wall[n], cm, cpu[1], cpu[n], rss / 1024
        }'
done
