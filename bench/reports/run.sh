#!/usr/bin/env bash
# Ingest benchmark: `inkan reports ingest` (release) into SQLite against parsedmarc's API
# parsing the same files (offline). Usage: bench/reports/run.sh [SMALL_COUNT] [BIG_RECORDS]
# Needs: a release build (cargo build --release -p inkan), python3, /usr/bin/time, and
# parsedmarc in PARSEDMARC_PYTHON (default: a venv made here with a pinned parsedmarc).
set -euo pipefail
cd "$(dirname "$0")/../.."
small_count="${1:-2000}"
big_records="${2:-1000000}"
work="${BENCH_DIR:-$(mktemp -d)}"
inkan="target/release/inkan"
[ -x "$inkan" ] || { echo "build first: cargo build --release -p inkan" >&2; exit 2; }
python="${PARSEDMARC_PYTHON:-}"
if [ -z "$python" ]; then
    python="$work/venv/bin/python"
    if [ ! -x "$python" ]; then
        python3 -m venv "$work/venv"
        "$work/venv/bin/pip" install -q "parsedmarc==${PARSEDMARC_VERSION:-11.1.0}"
    fi
fi
python3 bench/reports/generate.py "$work/corpus" "$small_count" "$big_records"

measure() { # label, command...
    local label="$1"; shift
    /usr/bin/time -v "$@" 2> "$work/time.txt" > "$work/out.txt" || true
    local wall rss
    wall=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}')
    rss=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
    echo "$label: wall $wall, peak RSS $((rss / 1024)) MB"
    cat "$work/out.txt"
}

rm -f "$work/small.db"* "$work/big.db"*
measure "inkan small reports" "$inkan" --format json reports ingest --db "sqlite:$work/small.db" "$work/corpus/small"
measure "inkan 10^6-record report" "$inkan" --format json reports ingest --db "sqlite:$work/big.db" "$work/corpus/big.xml"
measure "inkan re-ingest (all duplicates)" "$inkan" --format json reports ingest --db "sqlite:$work/small.db" "$work/corpus/small"
# parsedmarc runs without a network (a fresh network namespace when we may make one), so
# nothing it does can reach DNS or a geolocation service.
offline=()
if unshare -n true 2>/dev/null; then offline=(unshare -n); fi
measure "parsedmarc small reports" "${offline[@]}" "$python" bench/reports/parsedmarc_parse.py "$work/corpus/small"
if [ "${PARSEDMARC_BIG:-0}" = 1 ]; then
    measure "parsedmarc 10^6-record report" "${offline[@]}" "$python" bench/reports/parsedmarc_parse.py "$work/corpus/big.xml"
fi
echo "corpus and databases in $work"
