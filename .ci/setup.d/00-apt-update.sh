#!/usr/bin/env bash
# One apt-get update per setup run, before any part installs Debian packages.
set -euo pipefail
if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
else
    sudo apt-get update -qq
fi
