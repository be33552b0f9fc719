#!/usr/bin/env bash
# Instructions per message of inkan's own code (and the allocator's) in verifying or signing
# the bench messages, counted by callgrind: a measure that other processes on a shared machine
# cannot move, for comparing two builds of a change. Crypto (aws-lc) is counted apart; under
# valgrind aws-lc takes its AVX2 paths instead of SHA-NI, so its count is not its real cost.
#   bash bench/dkim/count.sh [rsa|ed|sign] [TOP]
set -euo pipefail
cd "$(dirname "$0")"
WHAT=${1:-rsa}
TOP=${2:-25}
BIN=${BIN:-../target/release/inkan-bench-dkim}
command -v valgrind >/dev/null || { echo "count.sh needs valgrind (apt-get install valgrind)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "no $BIN: build it as run.sh does" >&2; exit 2; }
[ -d ../out/dkim/msgs/rsa ] || { echo "no messages in bench/out/dkim/msgs: run run.sh once (or inkan-bench-dkim gen)" >&2; exit 2; }
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$OUT" --collect-atstart=no \
    --toggle-collect=inkan_bench_dkim::count_work "$BIN" count ../out/dkim/msgs "$WHAT" >/dev/null 2>&1
python3 callgrind_own.py "$OUT" 200 "$TOP"
