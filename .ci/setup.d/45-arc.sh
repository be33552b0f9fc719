#!/usr/bin/env bash
# ARC interop peer: dkimpy's ARC implementation (dkim.arc_sign / dkim.arc_verify) with authres
# (needed by arc_sign) and PyNaCl (ed25519), driven by crates/inkan-auth/tests/peers/dkimpy_arc.py.
set -euo pipefail
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip >/dev/null
    else
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip >/dev/null
    fi
fi
if ! python3 -c 'import dkim, authres, nacl; assert dkim.__version__ == "1.1.8"' >/dev/null 2>&1; then
    python3 -m pip install -q --disable-pip-version-check --break-system-packages \
        dkimpy==1.1.8 pynacl==1.6.2 authres==1.2.0 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check \
        dkimpy==1.1.8 pynacl==1.6.2 authres==1.2.0
fi
