#!/usr/bin/env bash
# Node mailauth 4.x (pinned in tests/peers/mailauth/package.json and package-lock.json): the
# peer of the DMARC interop test (crates/inkan/tests/it/interop_dmarc.rs) and the baseline of
# bench/verify/. mailauth 5 needs Node 22; 4.x runs on the Node these machines have.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
peer=tests/peers/mailauth
want=$(node -p "require('./$peer/package.json').dependencies.mailauth")
have=$(node -p "try { require('./$peer/node_modules/mailauth/package.json').version } catch (e) { '' }")
if [ "$have" != "$want" ]; then
    npm ci --prefix "$peer" --no-audit --no-fund --silent >/dev/null
fi
