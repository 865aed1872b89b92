#!/bin/sh
# Installs everything mailsift needs to build, run and test on Debian 12:
# compilers and autotools, the libraries, glib-networking (TLS at run time),
# and the real servers and peers the tests and benchmarks start on loopback.
# Run as root, or as a user with sudo.
set -eu
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential autoconf automake libtool pkg-config \
  libglib2.0-dev libetpan-dev libsieve2-dev libsqlite3-dev libgmime-3.0-dev \
  glib-networking ca-certificates libsasl2-modules \
  python3 python3-aiosmtpd sqlite3 openssl util-linux \
  dovecot-imapd dovecot-pop3d dovecot-sieve \
  valgrind >/dev/null
echo "install-deps: done"
