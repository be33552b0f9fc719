#!/usr/bin/env bash
# DKIM throughput on the same ~10 KB messages (1,000 by default): inkan and mail-auth 0.15 (this
# bench-only crate), dkimpy 1.1.8 and Node mailauth@4; each pinned to one core, keys cached;
# prints messages/second. Needs `.ci/setup` (dkimpy) and node/npm. No network beyond the package
# registries for the one-time installs; the mail-auth resolver points at 127.0.0.1 and is never
# asked (every key is in its cache).
#   bash bench/dkim/run.sh [N]
set -euo pipefail
cd "$(dirname "$0")"
N=${1:-1000}
OUT=../out/dkim
mkdir -p "$OUT"
export CARGO_TARGET_DIR=../target
cargo build --release --ignore-rust-version --quiet
BIN=../target/release/inkan-bench-dkim
[ -d "$OUT/msgs/rsa" ] || "$BIN" gen "$OUT/msgs" "$N"
if [ ! -d "$OUT/node/node_modules/mailauth" ]; then
    npm install --silent --no-audit --no-fund --prefix "$OUT/node" mailauth@4.9.5 >/dev/null
fi
PIN="taskset -c 0"
command -v taskset >/dev/null || PIN=""
for alg in rsa ed; do
    $PIN "$BIN" verify-inkan "$OUT/msgs" "$alg"
    $PIN "$BIN" verify-mail-auth "$OUT/msgs" "$alg"
    $PIN python3 dkimpy_bench.py "$OUT/msgs" "$alg"
    NODE_PATH="$OUT/node/node_modules" $PIN node mailauth_bench.js "$OUT/msgs" "$alg"
done
for alg in rsa ed; do
    $PIN "$BIN" sign-inkan "$OUT/msgs" "$alg"
    $PIN "$BIN" sign-mail-auth "$OUT/msgs" "$alg"
done
