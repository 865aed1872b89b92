#!/bin/sh
# Build mailsift's fuzz targets with clang's libFuzzer, ASan and UBSan,
# and assemble their seed corpora from scripts and messages kept in the
# tree. Run from anywhere; output goes to tests/fuzz/out/ (or $1).
#
#   tests/fuzz/build.sh
#   tests/fuzz/out/fuzz-sieve-script -max_len=8192 -timeout=10 \
#       -max_total_time=1800 tests/fuzz/out/corpus-script tests/fuzz/out/seeds-script
#
# Needs clang (apt-get install clang) and the build dependencies.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/tests/fuzz/out}
mkdir -p "$out"
cd "$top"

CC=${CC:-clang}
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -D_GNU_SOURCE -DPACKAGE_VERSION=\"fuzz\" -DG_LOG_DOMAIN=\"mailsift\" -Iagent -Imessage -Ifilters \
  $(pkg-config --cflags glib-2.0 gio-2.0 gmime-3.0)"
LIBS="$(pkg-config --libs glib-2.0 gio-2.0 gmime-3.0) -lsieve"

engine_sources=$(ls filters/sieve-*.c | grep -v sieve-libsieve.c)
common="filters/action.c message/header.c message/rfc2047.c message/header-edit.c message/address.c message/mime.c filters/engine.c filters/lint.c \
  filters/sieve-libsieve.c agent/error.c"

# shellcheck disable=SC2086
$CC $CFLAGS tests/fuzz/fuzz-sieve-script.c $engine_sources $common $LIBS -o "$out/fuzz-sieve-script"
# shellcheck disable=SC2086
$CC $CFLAGS tests/fuzz/fuzz-sieve-match.c filters/sieve-match.c filters/sieve-comparator.c agent/error.c \
  $LIBS -o "$out/fuzz-sieve-match"

# Seeds: every script of the differential and end-to-end tests, each
# followed by a NUL and a message of the differential corpus.
seeds="$out/seeds-script"
mkdir -p "$seeds" "$out/corpus-script" "$out/corpus-match"
i=0
msgs=$(ls tests/diff/messages/*)
for s in tests/diff/cases/*.sieve examples/*.sieve bench/*.sieve; do
  [ -f "$s" ] || continue
  set -- $msgs
  shift $((i % $#))
  { cat "$s"; printf '\0'; head -c 4096 "$1"; } > "$seeds/$(basename "$s").seed"
  i=$((i + 1))
done
echo "fuzz: built $out/fuzz-sieve-script, $out/fuzz-sieve-match; $i seeds in $seeds"
