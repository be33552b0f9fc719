#!/usr/bin/env bash
# DKIM interop peers: dkimpy (with PyNaCl for ed25519-sha256) and OpenDKIM's command-line tools
# (opendkim-testmsg signs and verifies one message; opendkim-genkey makes keys), and
# libopendkim's header for bench/dkim/opendkim_bench.c.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! command -v opendkim-testmsg >/dev/null 2>&1 || [ ! -f /usr/include/opendkim/dkim.h ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq opendkim-tools opendkim \
        libopendkim-dev >/dev/null
fi
if ! python3 -c 'import dkim, nacl, importlib.metadata as m; assert m.version("dkimpy") == "1.1.8"' >/dev/null 2>&1; then
    python3 -m pip install -q --disable-pip-version-check "dkimpy==1.1.8" "pynacl==1.6.2"
fi
