#!/bin/sh
# Install the programs that bench/run-bench.py compares mailsift with:
# fetchmail (with procmail as its MDA), fdm, getmail6 and mbsync (isync).
# Debian 12; run as root (or with sudo). Not part of `make check` or CI:
# `make bench` runs without them and prints "not installed" in their rows.
set -eu
if [ "$(id -u)" != 0 ]; then
    echo "run me as root (sudo $0)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# refresh the package lists when they are missing or older than a day
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
    apt-get update
fi
apt-get install -y --no-install-recommends fetchmail procmail fdm getmail6 isync msmtp
for p in fetchmail procmail fdm getmail mbsync; do
    printf '%-10s %s\n' "$p" "$(command -v "$p" || echo MISSING)"
done
