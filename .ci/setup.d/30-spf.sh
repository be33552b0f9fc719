#!/usr/bin/env bash
# SPF interop peer: pyspf 2.0.14 with dnspython, pointed at the testkit DNS server by the
# interop test (crates/inkan-auth/tests/it/spf_interop.rs).
set -euo pipefail
if ! python3 -c 'import spf, dns.version; assert spf.__version__ == "2.0.14"; assert dns.version.version == "2.9.2"' >/dev/null 2>&1; then
    if ! python3 -m pip --version >/dev/null 2>&1; then
        SUDO=""
        if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
    fi
    # Debian's own python3 refuses system-wide pip installs unless told otherwise (PEP 668).
    python3 -m pip install -q --disable-pip-version-check "pyspf==2.0.14" "dnspython==2.9.2" \
        || python3 -m pip install -q --disable-pip-version-check --break-system-packages "pyspf==2.0.14" "dnspython==2.9.2"
fi
