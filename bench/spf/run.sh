#!/usr/bin/env bash
# SPF comparison: inkan cold/warm and pyspf cold/warm on the same 2,000 checks, DNS from the
# testkit server on 127.0.0.1. See bench/spf/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/out
cargo bench -p inkan-auth --bench spf_peers 2>/dev/null | tee bench/out/spf.txt
