#!/usr/bin/env bash
# DKIM throughput on the same ~10 KB messages (1,000 by default): inkan and mail-auth 0.15 (this
# bench-only crate), OpenDKIM's libopendkim (opendkim_bench.c), dkimpy 1.1.8 and Node mailauth@4
# (the peer in tests/peers/mailauth); each pinned to one core, keys cached; prints messages per
# second of CPU time (and of wall time), then the raw aws-lc rates that bound them and inkan's
# share of that bound. Needs `.ci/setup` (dkimpy, mailauth, libopendkim-dev). No network; the
# mail-auth resolver points at 127.0.0.1 and is never asked (every key is in its cache).
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
MAILAUTH="$(cd ../.. && pwd)/tests/peers/mailauth/node_modules"
if [ ! -d "$MAILAUTH/mailauth" ]; then
    echo "Node mailauth is not installed in tests/peers/mailauth: run .ci/setup" >&2
    exit 2
fi
if ! python3 -c 'import dkim, nacl' 2>/dev/null; then
    echo "dkimpy is not installed: run .ci/setup" >&2
    exit 2
fi
if [ ! -f /usr/include/opendkim/dkim.h ]; then
    echo "libopendkim-dev is not installed: run .ci/setup" >&2
    exit 2
fi
OPENDKIM=../target/opendkim-bench
cc -O2 -Wall -o "$OPENDKIM" opendkim_bench.c -lopendkim
PIN="taskset -c 0"
command -v taskset >/dev/null || PIN=""
for alg in rsa ed; do
    $PIN "$BIN" verify-inkan "$OUT/msgs" "$alg"
    $PIN "$BIN" verify-mail-auth "$OUT/msgs" "$alg"
    $PIN "$OPENDKIM" "$OUT/msgs" verify "$alg"
    $PIN python3 dkimpy_bench.py "$OUT/msgs" "$alg"
    NODE_PATH="$MAILAUTH" $PIN node mailauth_bench.js "$OUT/msgs" "$alg"
done
for alg in rsa ed; do
    $PIN "$BIN" sign-inkan "$OUT/msgs" "$alg"
    $PIN "$BIN" sign-mail-auth "$OUT/msgs" "$alg"
    $PIN "$OPENDKIM" "$OUT/msgs" sign "$alg"
done
for op in rsa-verify ed-verify rsa-sign sha256; do
    $PIN "$BIN" raw "$OUT/msgs" "$op"
done
# inkan as a share of those bounds, measured interleaved so that load changes cancel.
$PIN "$BIN" ratio "$OUT/msgs"
# What each piece of signing adds to one RSA-2048 signature, also interleaved.
$PIN "$BIN" sign-costs "$OUT/msgs"
