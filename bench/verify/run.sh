#!/usr/bin/env bash
# verify benchmark: N generated messages (bench/verify/gen.js: 200 sender domains, RSA-2048 DKIM,
# SPF via include, DMARC none/quarantine/reject, a quarter with one-click unsubscribe headers)
# verified by `inkan verify --batch` and by Node mailauth 4's authenticate(), both asking the
# testkit DNS server (inkan-testdns) on 127.0.0.1 for the same zone. Prints messages/second
# (wall clock, process start included) and writes bench/out/verify.txt.
#
# usage: bench/verify/run.sh [N=10000]
# needs: node and mailauth (bash .ci/setup.d/50-dmarc.sh); builds inkan with --release.
set -euo pipefail
N=${1:-10000}
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/inkan-bench-verify}-$N"
OUT="$ROOT/bench/out"
mkdir -p "$WORK" "$OUT"

bash "$ROOT/.ci/setup.d/50-dmarc.sh"
echo "== building inkan and inkan-testdns (release)"
(cd "$ROOT" && cargo build --release -q -p inkan -p inkan-testkit)
INKAN="$ROOT/target/release/inkan"

if [ ! -f "$WORK/manifest.jsonl" ] || [ "$(wc -l < "$WORK/manifest.jsonl")" -ne "$N" ]; then
    echo "== generating $N messages in $WORK"
    rm -rf "$WORK/msgs"
    node "$HERE/gen.js" "$N" "$WORK"
fi

"$ROOT/target/release/inkan-testdns" --zone "$WORK/bench.zone" > "$WORK/dns.addr" &
DNS_PID=$!
trap 'kill $DNS_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$WORK/dns.addr" ] && break; sleep 0.1; done
DNS=$(head -1 "$WORK/dns.addr")
echo "== DNS on $DNS"

now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }

echo "== inkan verify --batch"
start=$(now)
"$INKAN" verify --batch "$WORK/msgs" --nameserver "$DNS" --ip 192.0.2.7 --helo mta.esp.test \
    --mail-from bounce@esp.test > "$WORK/inkan.jsonl" || [ $? -eq 1 ]
inkan_s=$(calc "$(now) - $start")

echo "== mailauth authenticate()"
start=$(now)
node "$ROOT/tests/peers/mailauth/verify.js" --dns "$DNS" < "$WORK/manifest.jsonl" > "$WORK/mailauth.jsonl"
mailauth_s=$(calc "$(now) - $start")

summary() {
    python3 - "$1" <<'PY'
import collections, json, sys
c = collections.Counter()
for line in open(sys.argv[1]):
    j = json.loads(line)
    d = j["dmarc"]
    c[d["result"] if isinstance(d, dict) else d] += 1
print(" ".join(f"{k}={v}" for k, v in sorted(c.items())))
PY
}

{
    echo "verify benchmark, $N messages, $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "command: bench/verify/run.sh $N"
    printf "inkan verify --batch : %8.2f s  %8.0f msg/s  dmarc: %s\n" "$inkan_s" "$(calc "$N / $inkan_s")" "$(summary "$WORK/inkan.jsonl")"
    printf "mailauth 4 authenticate(): %8.2f s  %8.0f msg/s  dmarc: %s\n" "$mailauth_s" "$(calc "$N / $mailauth_s")" "$(summary "$WORK/mailauth.jsonl")"
} | tee "$OUT/verify.txt"
