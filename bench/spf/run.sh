#!/usr/bin/env bash
# SPF comparison: inkan, mail-auth 0.15 and pyspf 2.0.14, cold and warm, on the same 2,000 checks
# over 200 domains, DNS from NSD on 127.0.0.1 (the testkit server when nsd is missing). Prints
# checks/s and DNS queries/check for each, into bench/out/spf.txt too. See bench/spf/README.md.
#   bash bench/spf/run.sh
# needs: nsd (apt-get install nsd), pyspf + dnspython (.ci/setup); builds the mail-auth side with
# --ignore-rust-version (mail-auth 0.15 asks for a newer rustc than the workspace pins).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/out
if ! command -v nsd >/dev/null; then
    apt-get install -y -q nsd >/dev/null 2>&1 || echo "nsd not installed; the testkit server stands in"
fi
systemctl stop nsd 2>/dev/null || true
(cd bench/spf/mail-auth && CARGO_TARGET_DIR=../../target cargo build --release --ignore-rust-version --quiet)
# Each side runs on one thread (current-thread runtimes, pyspf is single-threaded), one at a time.
cargo bench -p inkan-auth --bench spf_peers 2>/dev/null | tee bench/out/spf.txt
